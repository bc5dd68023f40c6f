"""Long work (imports, reports) as jobs: queued by a page or command, run by the tasks
worker, with progress the console shows while it runs."""
