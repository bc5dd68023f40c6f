"""The forms of the incoming-document pages: registration (Decree 30 fields), the
distribution rows of a director or a department head, progress, result and filing.
Each error names its field, in the user's language; the domain checks everything
again (permissions, the shape of a distribution, deadlines)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from congvu.clock import parse_moment
from congvu.eoffice import rules
from congvu.eoffice.models import Channel
from congvu.errors import CongvuError

DATE_FORMATS = ["%Y-%m-%d", "%d/%m/%Y"]
#: Empty recipient rows the page offers without JavaScript (and adds per "more rows").
BLANK_ROWS = 3
MAX_ROWS = 30


def _name_errors(form: forms.Form) -> None:
    """Every field's messages start with its label ("Trích yếu: bắt buộc.")."""
    for f in form.fields.values():
        name = str(f.label)
        f.error_messages = {
            **f.error_messages,
            "required": _("%(field)s: required.") % {"field": name},
            "invalid": _("%(field)s: not a valid value.") % {"field": name},
            "invalid_choice": _("%(field)s: choose one of the values offered.") % {
                "field": name},
            "max_length": _("%(field)s: too long.") % {"field": name},
            "min_value": _("%(field)s: too small.") % {"field": name},
            "max_value": _("%(field)s: too large.") % {"field": name},
        }
        if isinstance(f, forms.DateField):
            f.error_messages["invalid"] = _("%(field)s: not a date (dd/mm/yyyy).") % {
                "field": name}


def _date(label: Any, *, required: bool = False) -> forms.DateField:
    return forms.DateField(label=label, required=required, input_formats=DATE_FORMATS,
                           widget=forms.DateInput(attrs={"type": "date"},
                                                  format="%Y-%m-%d"))


def urgency_choices() -> list[tuple[str, str]]:
    return [(str(rules.Urgency.NORMAL), _("Normal"))] + [
        (str(k), rules.URGENCY_WORDS[k]) for k in (rules.Urgency.URGENT, rules.Urgency.VERY_URGENT,
                                              rules.Urgency.FLASH)]


def secrecy_choices() -> list[tuple[str, str]]:
    return [(str(rules.Confidentiality.NONE), _("Not classified"))] + [
        (str(k), rules.CONFIDENTIALITY_WORDS[k]) for k in rules.CLASSIFIED]


class RegistrationForm(forms.Form):
    """Decree 30 registration of an incoming document (GL-9.1)."""

    agency = forms.TypedChoiceField(label=gettext_lazy("Agency"), coerce=int)
    file = forms.FileField(label=gettext_lazy("File (PDF scan or electronic original)"),
                           required=False)
    received_at = forms.CharField(
        label=gettext_lazy("Arrival (date and time)"), required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
        help_text=gettext_lazy("Empty: now. Registration is due the same or the next "
                               "working day (urgent: the same day)."))
    issuer = forms.CharField(label=gettext_lazy("Issuing agency"), max_length=255)
    number_symbol = forms.CharField(label=gettext_lazy("Number and symbol"), max_length=64,
                                    required=False,
                                    help_text=gettext_lazy("As printed, e.g. 123/UBND-KGVX."))
    document_date = _date(gettext_lazy("Document date"))
    doc_type = forms.ChoiceField(label=gettext_lazy("Document type"),
                                 choices=rules.INCOMING_TYPE_CHOICES, initial="cong-van")
    summary = forms.CharField(
        label=gettext_lazy("Summary (trích yếu)"), max_length=4000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=gettext_lazy("Who, when and what: not \"V/v Mời họp\" but \"UBND tỉnh "
                               "mời họp ngày 15/3 về việc triển khai …\" (GL-9.1)."))
    signer = forms.CharField(label=gettext_lazy("Signer"), max_length=255, required=False)
    urgency = forms.ChoiceField(label=gettext_lazy("Urgency"))
    confidentiality = forms.ChoiceField(label=gettext_lazy("Confidentiality"))
    page_count = forms.IntegerField(label=gettext_lazy("Page count"), min_value=1, max_value=100000,
                                    required=False)
    deadline = _date(gettext_lazy("Deadline for handling"))
    field = forms.CharField(label=gettext_lazy("Field"), max_length=120, required=False)
    channel = forms.ChoiceField(label=gettext_lazy("Received as"), choices=Channel.choices)

    def __init__(self, *args: Any, agencies: list[tuple[int, str]], tz: str,
                 now: dt.datetime, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.tz, self.now = tz, now
        agency = self.fields["agency"]
        assert isinstance(agency, forms.TypedChoiceField)
        agency.choices = agencies
        if len(agencies) == 1:
            agency.widget = forms.HiddenInput()
            agency.initial = agencies[0][0]
        urgency = self.fields["urgency"]
        secrecy = self.fields["confidentiality"]
        assert isinstance(urgency, forms.ChoiceField) and isinstance(secrecy, forms.ChoiceField)
        urgency.choices = urgency_choices()
        secrecy.choices = secrecy_choices()
        _name_errors(self)

    def clean_received_at(self) -> dt.datetime | None:
        text = (self.cleaned_data.get("received_at") or "").strip()
        if not text:
            return None
        try:
            moment = parse_moment(text, self.tz, option=str(self.fields["received_at"].label))
        except CongvuError:
            raise forms.ValidationError(_("%(field)s: not a date and time "
                                          "(dd/mm/yyyy hh:mm).") % {
                "field": self.fields["received_at"].label}) from None
        if moment > self.now:
            raise forms.ValidationError(_("%(field)s: in the future.") % {
                "field": self.fields["received_at"].label})
        return moment

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        day, arrival = data.get("document_date"), data.get("received_at") or self.now
        if day and day > arrival.date() + dt.timedelta(days=1):
            self.add_error("document_date", _("%(field)s: after the arrival.") % {
                "field": self.fields["document_date"].label})
        return data


def kind_choices(*, passing_on: bool) -> list[tuple[str, str]]:
    kinds = rules.AssignmentKind
    if passing_on:
        return [(k, str(kinds(k).label)) for k in (kinds.HANDLE, kinds.COORDINATE,
                                                     kinds.INFORM)]
    return [(k, str(kinds(k).label)) for k in (kinds.LEAD, kinds.COORDINATE, kinds.HANDLE,
                                                 kinds.INFORM)]


class RecipientRow(forms.Form):
    """One recipient of a distribution: whom, as what, with directions and a deadline."""

    target = forms.ChoiceField(label=gettext_lazy("Recipient"), required=False)
    kind = forms.ChoiceField(label=gettext_lazy("Role"))
    directions = forms.CharField(label=gettext_lazy("Directions"), max_length=2000,
                                 required=False)
    deadline = _date(gettext_lazy("Deadline for handling"))

    def __init__(self, *args: Any, targets: list[tuple[str, list[tuple[str, str]]]],
                 passing_on: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        target = self.fields["target"]
        kind = self.fields["kind"]
        assert isinstance(target, forms.ChoiceField) and isinstance(kind, forms.ChoiceField)
        target.choices = [("", "—"), *targets]
        kind.choices = kind_choices(passing_on=passing_on)
        _name_errors(self)

    @property
    def blank(self) -> bool:
        return not (self.data.get(self.add_prefix("target")) or "").strip()


class ConfirmForm(forms.Form):
    """GL-15.3: the director confirms the type, field and deadline before distributing."""

    doc_type = forms.ChoiceField(label=gettext_lazy("Document type"),
                                 choices=rules.INCOMING_TYPE_CHOICES)
    field = forms.CharField(label=gettext_lazy("Field"), max_length=120, required=False)
    deadline = _date(gettext_lazy("Deadline for handling"))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _name_errors(self)


class ProgressForm(forms.Form):
    text = forms.CharField(label=gettext_lazy("Progress"), max_length=4000,
                           widget=forms.Textarea(attrs={"rows": 2}))
    percent = forms.IntegerField(label=gettext_lazy("Percent done"), min_value=0,
                                 max_value=100, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _name_errors(self)


class ResultForm(forms.Form):
    result = forms.CharField(label=gettext_lazy("Result"), max_length=4000,
                             widget=forms.Textarea(attrs={"rows": 2}))
    work_file = forms.TypedChoiceField(label=gettext_lazy("File it into"), coerce=int,
                                       required=False, empty_value=None)

    def __init__(self, *args: Any, work_files: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        work_file = self.fields["work_file"]
        assert isinstance(work_file, forms.TypedChoiceField)
        work_file.choices = [("", _("(do not file now)")), *work_files]
        _name_errors(self)


class FileForm(forms.Form):
    """File the document into one of the person's work files, or a new one."""

    work_file = forms.TypedChoiceField(label=gettext_lazy("Work file"), coerce=int,
                                       required=False, empty_value=None)
    new_title = forms.CharField(label=gettext_lazy("Or a new work file named"),
                                max_length=500, required=False)

    def __init__(self, *args: Any, work_files: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        work_file = self.fields["work_file"]
        assert isinstance(work_file, forms.TypedChoiceField)
        work_file.choices = [("", "—"), *work_files]
        _name_errors(self)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not data.get("work_file") and not (data.get("new_title") or "").strip():
            self.add_error("work_file", _("%(field)s: choose one, or name a new one.") % {
                "field": self.fields["work_file"].label})
        return data


class WorkFileForm(forms.Form):
    agency = forms.TypedChoiceField(label=gettext_lazy("Agency"), coerce=int)
    title = forms.CharField(label=gettext_lazy("Title"), max_length=500)
    code = forms.CharField(label=gettext_lazy("File code"), max_length=32, required=False,
                           help_text=gettext_lazy("Optional, e.g. CNTT.01."))

    def __init__(self, *args: Any, agencies: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        agency = self.fields["agency"]
        assert isinstance(agency, forms.TypedChoiceField)
        agency.choices = agencies
        if len(agencies) == 1:
            agency.widget = forms.HiddenInput()
            agency.initial = agencies[0][0]
        _name_errors(self)
