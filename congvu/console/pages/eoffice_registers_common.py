"""What the registers, search and statistics pages share: the agency the reader works
in, and the form fields for dates and types (errors per field, in the user's language)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.http import QueryDict
from django.utils.html import format_html_join
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from congvu.actors import Actor
from congvu.directory.models import Agency
from congvu.eoffice import rules
from congvu.eoffice.access import powers_for
from congvu.errors import Forbidden


def agency_choice(query: QueryDict, actor: Actor, now: dt.datetime,
                  roles: tuple[str, ...], refusal: str) -> tuple[Agency, list[Agency]]:
    """The agency the page is about: ``?agency=<id>`` among those where the reader holds
    one of ``roles``, else the first of them (most people work in one)."""
    ids = powers_for(actor, now).agencies(*roles)
    agencies = list(Agency.objects.filter(pk__in=ids).order_by("name"))
    if not agencies:
        raise Forbidden(refusal)
    wanted = query.get("agency", "")
    chosen = next((a for a in agencies if str(a.pk) == wanted), agencies[0])
    return chosen, agencies


def options(choices: Any, selected: Any) -> SafeString:
    """A select's options, built here (a list of thirty types costs the template engine
    more than the rest of the page)."""
    chosen = "" if selected is None else str(selected)
    return format_html_join("", "<option value=\"{}\"{}>{}</option>", (
        (value, mark_safe(" selected") if str(value) == chosen else "", label)
        for value, label in choices))


def type_choices(*, incoming: bool) -> list[tuple[str, str]]:
    choices = rules.INCOMING_TYPE_CHOICES if incoming else rules.TYPE_CHOICES
    return [("", _("All types")), *[(k, str(v)) for k, v in choices]]


class DateRange(forms.Form):
    """From / to days (both included); "to" not before "from"."""

    date_from = forms.DateField(label=gettext_lazy("From"), required=False,
                                widget=forms.DateInput(attrs={"type": "date"}),
                                error_messages={"invalid": gettext_lazy(
                                    "From: enter a date such as 2026-03-02.")})
    date_to = forms.DateField(label=gettext_lazy("To"), required=False,
                              widget=forms.DateInput(attrs={"type": "date"}),
                              error_messages={"invalid": gettext_lazy(
                                  "To: enter a date such as 2026-03-31.")})

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and end < start:
            self.add_error("date_to", _("To: the day is before “From”."))
        return data


def year_field(label: Any = None) -> forms.IntegerField:
    return forms.IntegerField(
        label=label or gettext_lazy("Year"), required=False, min_value=2000, max_value=2100,
        error_messages={"invalid": gettext_lazy("Year: enter a year such as 2026."),
                        "min_value": gettext_lazy("Year: from 2000 to 2100."),
                        "max_value": gettext_lazy("Year: from 2000 to 2100.")})
