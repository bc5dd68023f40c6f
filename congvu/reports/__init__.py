"""Reports (issue 6): accounts by state and agency, requests and SLA compliance, usage on
the profile's cadence (NB-11.7, QN-13.6, KH-11.7). Figures are read by authorised
selectors (:mod:`congvu.reports.selectors`) into one neutral structure
(:mod:`congvu.reports.model`) that the console renders as HTML with SVG charts and the
tasks worker turns into XLSX (:mod:`congvu.reports.xlsx`) or PDF (:mod:`congvu.reports.pdf`)."""
