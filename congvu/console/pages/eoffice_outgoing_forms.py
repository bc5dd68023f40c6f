"""The outgoing-document forms (GL-10): the new draft and the actions of the detail page.

They read what the browser sends and put each problem beside its field, in the user's
language, naming the field. What a value must be is the domain's: the type, the
urgency and confidentiality, the numbering series (a normative or classified document)
and the file are checked by :mod:`congvu.eoffice.rules` and :mod:`congvu.eoffice.files`
here only so their messages land beside the right field; the actions check again.
"""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from congvu.eoffice import files, rules
from congvu.eoffice.params import EofficeParams
from congvu.errors import CongvuError

DATE_FORMATS = ["%Y-%m-%d", "%d/%m/%Y", "%d-%m-%Y"]
_ADDRESS_SPLIT = re.compile(r"[\s,;]+")


def _named_errors(form: forms.Form) -> None:
    """Every field's built-in messages name the field ("Trích yếu: bắt buộc.")."""
    for field in form.fields.values():
        label = str(field.label)
        messages = {
            "required": _("%(field)s: required.") % {"field": label},
            "invalid_choice": _("%(field)s: choose one of the list.") % {"field": label},
            "invalid_list": _("%(field)s: choose one of the list.") % {"field": label},
            "invalid": _("%(field)s: not valid.") % {"field": label},
            "min_value": _("%(field)s: at least %%(limit_value)s.") % {"field": label},
            "max_length": _("%(field)s: at most %%(limit_value)d characters (you wrote "
                            "%%(show_value)d).") % {"field": label},
        }
        if isinstance(field, forms.DateField):
            messages["invalid"] = _("%(field)s: not a date; write it as dd/mm/yyyy, e.g. "
                                    "31/03/2026.") % {"field": label}
        elif isinstance(field, forms.IntegerField):
            messages["invalid"] = _("%(field)s: a whole number.") % {"field": label}
        elif isinstance(field, forms.FileField):
            messages["required"] = _("%(field)s: choose the file to upload.") % {
                "field": label}
            messages["empty"] = _("%(field)s: the file is empty.") % {"field": label}
        field.error_messages.update(messages)


def _upload(field: Any) -> files.Upload | None:
    if field is None:
        return None
    return files.Upload(str(field.name), field.read())


def _type_label(t: rules.DocType) -> str:
    return f"{t.name} ({t.abbr})" if t.abbr else t.name


class DraftForm(forms.Form):
    """A new draft (GL-10.1): the Decree 30 fields, the submitting unit and the file."""

    agency = forms.TypedChoiceField(coerce=int, required=False, empty_value=None,
                                    label=gettext_lazy("Agency"))
    doc_type = forms.ChoiceField(label=gettext_lazy("Document type"))
    normative = forms.BooleanField(required=False, label=gettext_lazy(
        "Legal normative document (Nghị quyết, Quyết định)"))
    summary = forms.CharField(label=gettext_lazy("Summary (trích yếu)"), max_length=2000,
                              widget=forms.Textarea(attrs={"rows": 3, "maxlength": 2000}))
    field = forms.CharField(required=False, max_length=120, label=gettext_lazy("Field"))
    department = forms.TypedChoiceField(coerce=int, required=False, empty_value=None,
                                        label=gettext_lazy("Submitting unit"))
    deadline = forms.DateField(required=False, input_formats=DATE_FORMATS,
                               label=gettext_lazy("Deadline (hạn xử lý)"),
                               widget=forms.DateInput(attrs={"type": "date"},
                                                      format="%Y-%m-%d"))
    urgency = forms.ChoiceField(choices=rules.Urgency.choices, label=gettext_lazy("Urgency"),
                                initial=rules.Urgency.NORMAL)
    confidentiality = forms.ChoiceField(choices=rules.Confidentiality.choices,
                                        label=gettext_lazy("Confidentiality"),
                                        initial=rules.Confidentiality.NONE)
    signer = forms.CharField(required=False, max_length=255, label=gettext_lazy("Signer"),
                             widget=forms.TextInput(attrs={"list": "signers",
                                                           "autocomplete": "off"}))
    recipients_text = forms.CharField(
        required=False, max_length=4000, label=gettext_lazy("Recipients (nơi nhận)"),
        widget=forms.Textarea(attrs={"rows": 3, "maxlength": 4000}))
    copies = forms.IntegerField(min_value=1, max_value=999, initial=1,
                                label=gettext_lazy("Number of copies"))
    page_count = forms.IntegerField(required=False, min_value=1, max_value=9999,
                                    label=gettext_lazy("Page count"))
    related_incoming = forms.TypedMultipleChoiceField(
        coerce=int, required=False, label=gettext_lazy("Related incoming documents"))
    related_outgoing = forms.TypedMultipleChoiceField(
        coerce=int, required=False, label=gettext_lazy("Related outgoing documents"))
    file = forms.FileField(label=gettext_lazy("Draft file"))

    def __init__(self, *args: Any, params: EofficeParams,
                 agencies: list[tuple[int, str]], departments: list[tuple[int, str]],
                 related_incoming: list[tuple[int, str]],
                 related_outgoing: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.params = params
        f = self.fields
        f["agency"].choices = agencies  # type: ignore[attr-defined]
        if len(agencies) == 1:
            f["agency"].initial = agencies[0][0]
            f["agency"].widget = forms.HiddenInput()
        types = [("", _("— choose the type —"))]
        types += [(t.key, _type_label(t)) for t in rules.DOC_TYPES]
        f["doc_type"].choices = types  # type: ignore[attr-defined]
        units: list[tuple[int | str, str]] = list(departments)
        if len(units) != 1:
            units.insert(0, ("", _("— none (straight to the director) —")))
        f["department"].choices = units  # type: ignore[attr-defined]
        f["related_incoming"].choices = related_incoming  # type: ignore[attr-defined]
        f["related_outgoing"].choices = related_outgoing  # type: ignore[attr-defined]
        accepted = ", ".join(f".{t}" for t in params.accepted_types)
        f["file"].widget.attrs["accept"] = accepted
        f["file"].help_text = _("Accepted: %(types)s; at most %(mb)d MB.") % {
            "types": accepted, "mb": params.max_file_mb}
        f["summary"].help_text = _("Say what the document is about, e.g. \"Quyết định ban "
                                   "hành Quy chế quản lý hệ thống văn bản và điều hành\".")
        f["recipients_text"].help_text = _("As printed at the foot of the document, e.g. "
                                           "\"UBND tỉnh; Lưu: VT, CNTT\".")
        f["normative"].help_text = _("Numbered in its own register with the year, e.g. "
                                     "12/2026/QĐ-UBND.")
        _named_errors(self)

    def _domain(self, name: str, check: Any) -> Any:
        """Run a domain check; its message goes beside field ``name``."""
        try:
            return check()
        except CongvuError as exc:
            self.add_error(name, exc.message)
            return None

    def clean_agency(self) -> int | None:
        """The agency drafted for; a person who drafts in one agency only need not say."""
        value = self.cleaned_data.get("agency")
        choices = self.fields["agency"].choices  # type: ignore[attr-defined]
        if value is None and len(choices) == 1:
            return int(choices[0][0])
        if value is None:
            raise forms.ValidationError(_("%(field)s: required.") % {
                "field": self.fields["agency"].label})
        return int(value)

    def clean_summary(self) -> str:
        summary = self._domain("summary", lambda: rules.clean_summary(
            self.cleaned_data.get("summary", "")))
        return str(summary or "")

    def clean_file(self) -> Any:
        upload = self.cleaned_data.get("file")
        if upload is not None:
            data = _upload(upload)
            upload.seek(0)
            if data is not None:
                self._domain("file", lambda: files.check(data, self.params))
        return upload

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        kind = data.get("doc_type")
        if kind and "confidentiality" in data:
            self._domain("normative", lambda: rules.series_for(
                kind, data["confidentiality"], bool(data.get("normative"))))
        return data

    def upload(self) -> files.Upload:
        found = _upload(self.cleaned_data["file"])
        assert found is not None
        return found


class VersionForm(forms.Form):
    """A new version (GL-10.8): the revised draft, the reviewer's marked edits, or the
    clerk's signed PDF."""

    file = forms.FileField(label=gettext_lazy("File"))
    note = forms.CharField(required=False, max_length=2000, label=gettext_lazy("Note"),
                           widget=forms.TextInput(attrs={"maxlength": 2000}))

    def __init__(self, *args: Any, params: EofficeParams, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.params = params
        accepted = ", ".join(f".{t}" for t in params.accepted_types)
        self.fields["file"].widget.attrs["accept"] = accepted
        _named_errors(self)

    def clean_file(self) -> Any:
        upload = self.cleaned_data.get("file")
        if upload is not None:
            data = _upload(upload)
            upload.seek(0)
            try:
                if data is not None:
                    files.check(data, self.params)
            except CongvuError as exc:
                raise forms.ValidationError(exc.message) from None
        return upload

    def upload(self) -> files.Upload:
        found = _upload(self.cleaned_data["file"])
        assert found is not None
        return found


class CommentForm(forms.Form):
    comment = forms.CharField(label=gettext_lazy("Comment"), max_length=4000,
                              widget=forms.Textarea(attrs={"rows": 3, "maxlength": 4000}))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _named_errors(self)


class ReturnForm(CommentForm):
    """Return with a comment (required); the director may return to the head."""

    to_department = forms.BooleanField(required=False, label=gettext_lazy(
        "Return to the head of department (a new department round), not to the drafter"))


class ForwardForm(forms.Form):
    comment = forms.CharField(required=False, max_length=4000,
                              label=gettext_lazy("Comment (optional)"),
                              widget=forms.Textarea(attrs={"rows": 2, "maxlength": 4000}))
    disagreement = forms.CharField(
        required=False, max_length=4000,
        label=gettext_lazy("Disagreement with the drafter, for the director (GL-10.8)"),
        widget=forms.Textarea(attrs={"rows": 2, "maxlength": 4000}))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _named_errors(self)


class ApproveForm(forms.Form):
    comment = forms.CharField(required=False, max_length=4000,
                              label=gettext_lazy("Comment (optional)"),
                              widget=forms.Textarea(attrs={"rows": 2, "maxlength": 4000}))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _named_errors(self)


class IssueForm(forms.Form):
    """Issue (GL-10.5): people and units of the agency in eOffice, other agencies'
    intake, official e-mail addresses (KH-7; never for a classified document, KH-8.3)."""

    accounts = forms.TypedMultipleChoiceField(
        coerce=int, required=False, label=gettext_lazy("People of the agency"),
        widget=forms.CheckboxSelectMultiple)
    units = forms.TypedMultipleChoiceField(
        coerce=int, required=False, label=gettext_lazy("Units of the agency"),
        widget=forms.CheckboxSelectMultiple)
    agencies = forms.TypedMultipleChoiceField(
        coerce=int, required=False, label=gettext_lazy("Other agencies (their intake)"),
        widget=forms.SelectMultiple(attrs={"size": 6}))
    emails = forms.CharField(
        required=False, max_length=4000, label=gettext_lazy("Official e-mail addresses"),
        widget=forms.Textarea(attrs={"rows": 2, "maxlength": 4000, "spellcheck": "false",
                                     "autocomplete": "off"}))

    def __init__(self, *args: Any, people: list[tuple[int, str]],
                 units: list[tuple[int, str]], agencies: list[tuple[int, str]],
                 **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["accounts"].choices = people  # type: ignore[attr-defined]
        self.fields["units"].choices = units  # type: ignore[attr-defined]
        self.fields["agencies"].choices = agencies  # type: ignore[attr-defined]
        self.fields["emails"].help_text = _("One or more, separated by commas or new lines.")
        _named_errors(self)

    def addresses(self) -> list[str]:
        text = self.cleaned_data.get("emails", "")
        return [a for a in _ADDRESS_SPLIT.split(text) if a]
