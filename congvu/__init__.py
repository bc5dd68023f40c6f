"""congvu: a Vietnamese province's digital office (official e-mail, shared accounts, eOffice)."""

__version__ = "0.1.0"
