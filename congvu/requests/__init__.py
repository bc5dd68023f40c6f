"""Requests from agencies to the operator (issue 6): new mailboxes (KH Mẫu 01), changes
(Mẫu 02), deletions (Mẫu 03), restores and password re-issues, each with its deadline from
the profile's SLA (NB-6.2b, QN-5.2, QN-6.2, QN-7.1, NB-7.3b, NT-6.3b).

The package is ``congvu.requests``; its app label is ``service_requests`` so it is never
confused with the HTTP library ``requests`` (always imported absolutely).
"""
