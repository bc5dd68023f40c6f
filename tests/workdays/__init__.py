"""Tests of congvu.workdays: working days, office minutes, calendar files."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from congvu.profiles import load_profile
from congvu.workdays import WorkCalendar, calendar_for

NO_HOME = Path("/nonexistent-congvu-home")


@cache
def shipped(profile: str = "ninh-binh") -> WorkCalendar:
    """The profile's calendar with the shipped files only (no operator additions)."""
    return calendar_for(load_profile(profile), home=NO_HOME)
