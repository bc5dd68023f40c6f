"""Bulk import of persons from a CSV or XLSX file (NB-13 migration, onboarding a whole
agency): check every row and preview every address first, then write the accounts in
one transaction through the tasks worker, and hand the one-time passwords over once."""
