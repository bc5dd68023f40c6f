"""The forms of the accounts pages. Each error names its field and, where one applies,
the rule, in words a clerk understands; the actions check everything again."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.utils.functional import lazy
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from congvu.profiles import Profile

#: Manual suspension triggers with a rule ID, per profile (NB-7.2c/d, NT-6.2b/c); other
#: provinces' regulations name none, so the operator gives the reason in words.
SUSPEND_RULES: dict[str, tuple[tuple[str, Any], ...]] = {
    "NB": (("NB-7.2c", gettext_lazy("Virus, hijacked account or leaked password")),
           ("NB-7.2d", gettext_lazy("Prohibited activity"))),
    "NT": (("NT-6.2b", gettext_lazy("Virus, hijacked account or leaked password")),
           ("NT-6.2c", gettext_lazy("Prohibited activity"))),
}

#: Rules for deleting at once, per profile (KH-4.4 on the agency's request, NB-10.1e in a
#: security emergency); the profile's leaving rule is always offered too.
DELETE_RULES: dict[str, tuple[tuple[str, Any], ...]] = {
    "NB": (("NB-10.1e", gettext_lazy("Security emergency")),),
    "KH": (("KH-4.4", gettext_lazy("On the agency's request (form 03)")),),
}


def _format(message: Any, **values: Any) -> str:
    return str(message) % values


format_lazy = lazy(_format, str)


def required(label: Any, hint: Any) -> dict[str, Any]:
    """``error_messages`` whose "required" names the field: "Reason: required; …"."""
    return {"required": format_lazy(gettext_lazy("%(field)s: required; %(hint)s"),
                                    field=label, hint=hint)}


class DateInput(forms.DateInput):
    input_type = "date"

    def format_value(self, value: Any) -> str | None:
        if isinstance(value, dt.date):
            return value.isoformat()
        return super().format_value(value)


def date_field(label: Any, hint: Any, *, required_: bool = True) -> forms.DateField:
    return forms.DateField(
        label=label, required=required_, widget=DateInput(),
        input_formats=["%Y-%m-%d", "%d/%m/%Y"],
        error_messages={**required(label, hint),
                        "invalid": format_lazy(gettext_lazy(
                            "%(field)s: not a date; write it as dd/mm/yyyy, e.g. 15/12/2026."),
                            field=label)})


def choices_for(rules: dict[str, tuple[tuple[str, Any], ...]], profile: Profile,
                extra: tuple[tuple[str, Any], ...] = ()) -> list[tuple[str, str]]:
    found = [(rule, f"{label} ({rule})") for rule, label in
             (*rules.get(profile.rule_prefix, ()), *extra)]
    return [("", _("Other: give the reason below")), *found]


class SuspendForm(forms.Form):
    """NB-7.1: no sign-in, the mailbox still receives; the rule or a reason is required."""

    rule = forms.ChoiceField(label=gettext_lazy("Rule"), required=False)
    reason = forms.CharField(
        label=gettext_lazy("Reason"), required=False, max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args: Any, profile: Profile, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["rule"].choices = choices_for(SUSPEND_RULES, profile)  # type: ignore[attr-defined]
        if profile.rule_prefix not in SUSPEND_RULES:  # no rule ID to pick: the reason only
            self.fields["rule"].widget = forms.HiddenInput()
        self.fields["rule"].error_messages["invalid_choice"] = _(
            "Rule: choose one of the rules listed.")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not (data.get("rule") or (data.get("reason") or "").strip()) and not self.errors:
            self.add_error("reason", _("Reason: required when no rule is chosen; say in words "
                                       "why the account is suspended (the holder and the "
                                       "agency are told)."))
        return data


class LeaveForm(forms.Form):
    """NB-7.4, NT-5.2c, KH-4.4, QN-7.1: the profile schedules the lock and the deletion."""

    effective = date_field(gettext_lazy("Date of leaving"),
                           gettext_lazy("give the day the person officially leaves "
                                        "(retires, resigns or moves away)."))


class TransferForm(forms.Form):
    """KH-2.4, NT-5.2b keep the address; NB-5.3 gives a new one (the old stays an alias)."""

    to_agency = forms.CharField(
        label=gettext_lazy("New agency"), max_length=64,
        error_messages=required(gettext_lazy("New agency"),
                                gettext_lazy("choose the agency the person moves to.")))


class DeleteForm(forms.Form):
    rule = forms.ChoiceField(label=gettext_lazy("Rule"), required=False)
    reason = forms.CharField(label=gettext_lazy("Reason"), required=False, max_length=2000,
                             widget=forms.Textarea(attrs={"rows": 3}))
    confirm = forms.BooleanField(
        label=gettext_lazy("I understand: the mailbox and its mail are purged for good and "
                           "the address is never given to anyone again."),
        error_messages={"required": gettext_lazy(
            "Confirmation: tick the box to confirm the deletion; it cannot be undone.")})

    def __init__(self, *args: Any, profile: Profile, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        leave = profile.lifecycle.leave.rule
        extra = ((leave, _("Leaving (the profile's rule)")),) if leave else ()
        self.fields["rule"].choices = choices_for(DELETE_RULES, profile, extra)  # type: ignore[attr-defined]
        self.fields["rule"].error_messages["invalid_choice"] = _(
            "Rule: choose one of the rules listed.")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not (data.get("rule") or (data.get("reason") or "").strip()) \
                and "reason" not in self.errors:
            self.add_error("reason", _("Reason: required when no rule is chosen; say in words "
                                       "why the account is deleted."))
        return data


class PositionForm(forms.Form):
    """Form 02 code 1 (KH-4.3a)."""

    position = forms.CharField(
        label=gettext_lazy("New position"), max_length=255,
        error_messages=required(gettext_lazy("New position"),
                                gettext_lazy("write the person's new position "
                                             "(e.g. Chuyên viên).")))


class AddressForm(forms.Form):
    """Form 02 code 3 (KH-4.3c): a new address; the old one stays an alias."""

    local_part = forms.CharField(
        label=gettext_lazy("New address"), max_length=320,
        error_messages=required(gettext_lazy("New address"),
                                gettext_lazy("write the part before the @.")))


class CreateForm(forms.Form):
    """A person's account (NB-5.3, KH-3.3a, QN-4.1, NT-4.2a; collisions NB-5.4, KH-3.3b,
    QN-4.2, NT-4.2b): the operator picks an address among the ranked candidates."""

    agency = forms.CharField(
        label=gettext_lazy("Agency"), max_length=64,
        error_messages=required(gettext_lazy("Agency"),
                                gettext_lazy("choose the agency the person works in.")))
    department = forms.CharField(label=gettext_lazy("Department (optional)"), required=False,
                                 max_length=64)
    full_name = forms.CharField(
        label=gettext_lazy("Full name"), max_length=255,
        error_messages=required(gettext_lazy("Full name"),
                                gettext_lazy("write the family name first and the given name "
                                             "last, e.g. Nguyễn Văn Nam.")))
    position = forms.CharField(label=gettext_lazy("Position"), required=False, max_length=255)
    leader = forms.BooleanField(label=gettext_lazy("Holds a leadership rank"), required=False)
    birth_date = date_field(gettext_lazy("Date of birth (optional)"), "", required_=False)
    local_part = forms.CharField(label=gettext_lazy("Address"), required=False, max_length=320)
    other = forms.CharField(label=gettext_lazy("Or type another address"), required=False,
                            max_length=320)

    def chosen(self) -> str:
        data = self.cleaned_data
        return str(data.get("other") or data.get("local_part") or "").strip()
