"""Sign-in forms. Labels and errors in the holder's language (Vietnamese by default)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _


class SignInForm(forms.Form):
    address = forms.CharField(label=_("E-mail address"), max_length=320,
                              widget=forms.TextInput(attrs={"autocomplete": "username",
                                                            "autofocus": True}))
    password = forms.CharField(label=_("Password"), max_length=256, strip=False,
                               widget=forms.PasswordInput(
                                   attrs={"autocomplete": "current-password"}))


class NewPasswordForm(forms.Form):
    new_password1 = forms.CharField(label=_("New password"), max_length=256, strip=False,
                                    widget=forms.PasswordInput(
                                        attrs={"autocomplete": "new-password",
                                               "autofocus": True}))
    new_password2 = forms.CharField(label=_("Repeat the new password"), max_length=256,
                                    strip=False,
                                    widget=forms.PasswordInput(
                                        attrs={"autocomplete": "new-password"}))

    def clean(self) -> dict[str, object]:
        data = super().clean() or {}
        if data.get("new_password1") and data.get("new_password1") != data.get("new_password2"):
            self.add_error("new_password2", _("The two passwords differ."))
        return data


class CodeForm(forms.Form):
    code = forms.CharField(label=_("Code from the authenticator app"), max_length=10,
                           widget=forms.TextInput(attrs={"autocomplete": "one-time-code",
                                                         "inputmode": "numeric",
                                                         "autofocus": True}))
