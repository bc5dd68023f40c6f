"""The console's URLs: each area's module under ``pages/`` owns its own ``urlpatterns``
(paths relative to ``/console/``), so adding an area is one line here."""

from django.urls import include, path

app_name = "console"

AREAS = ("home", "requests", "jobs", "accounts", "me", "directory", "monitoring",
         "processing", "roles", "reports", "imports", "audit",
         # The eOffice (issue 7): paths under /console/eoffice/.
         "eoffice_incoming", "eoffice_outgoing", "eoffice_registers", "eoffice_office",
         "eoffice_mail")

urlpatterns = [path("", include(f"congvu.console.pages.{area}")) for area in AREAS]
