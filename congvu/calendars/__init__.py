"""Work calendars of the eOffice (GL-8.1): personal, department, agency and the leaders'
weekly calendar, with iCalendar export and per-person subscription feeds."""
