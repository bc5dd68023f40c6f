"""Internal messages and agency notices of the eOffice (GL-8.2)."""
