"""The signed-in person's own pages (issue 6): their profile, sign-in security (links to
the SSO's own second-factor and session pages), a voluntary password change, automatic
forwarding within NB-4.5, and their mailbox's usage against its quota.

Everything here acts on ``request.user`` only: no form names an account, so there is
nothing to forge. The writes are the domain's actions (``do_change_password`` with the
profile's policy and history, ``do_add_forward``/``do_remove_forward``), which check
again that the actor is the holder. Every POST answers with a redirect (or, for htmx,
the updated section); on an error nothing is written and the page shows the error next
to its field, naming the field and the rule."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from congvu import clock, deployment
from congvu.accounts.actions import PasswordRejected, do_change_password
from congvu.accounts.models import Account, AccountState, Mailbox
from congvu.accounts.selectors import roles_of
from congvu.actors import Actor
from congvu.console.views import ROLE_LABELS, console_view, local_date, local_time
from congvu.errors import CongvuError, Forbidden
from congvu.mail.actions import do_add_forward, do_remove_forward
from congvu.profiles import PasswordPolicy, Profile
from congvu.sso import passkeys, throttle, totp
from congvu.sso.middleware import SID
from congvu.sso.models import SsoSession

STATE_LABELS = {
    AccountState.REQUESTED: gettext_lazy("Requested"),
    AccountState.ACTIVE: gettext_lazy("Active"),
    AccountState.SUSPENDED: gettext_lazy("Suspended (still receives mail)"),
    AccountState.LOCKED: gettext_lazy("Locked"),
    AccountState.DELETED: gettext_lazy("Deleted"),
}

#: A mailbox this full (of its quota) is flagged: ``<meter>``'s "high" threshold.
QUOTA_WARNING = 0.9


def _field_attrs(name: str, **extra: Any) -> dict[str, Any]:
    """Screen readers announce the help and the errors with the field."""
    return {"aria-describedby": f"{name}-help {name}-errors", **extra}


class PasswordChangeForm(forms.Form):
    current_password = forms.CharField(
        label=gettext_lazy("Current password"), max_length=256, strip=False,
        error_messages={"required": gettext_lazy(
            "Current password: type the password you signed in with.")},
        widget=forms.PasswordInput(attrs=_field_attrs(
            "current_password", autocomplete="current-password")))
    new_password1 = forms.CharField(
        label=gettext_lazy("New password"), max_length=256, strip=False,
        error_messages={"required": gettext_lazy("New password: type the new password.")},
        widget=forms.PasswordInput(attrs=_field_attrs(
            "new_password1", autocomplete="new-password")))
    new_password2 = forms.CharField(
        label=gettext_lazy("Repeat the new password"), max_length=256, strip=False,
        error_messages={"required": gettext_lazy(
            "Repeat the new password: type the new password a second time.")},
        widget=forms.PasswordInput(attrs=_field_attrs(
            "new_password2", autocomplete="new-password")))

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("new_password1") and data.get("new_password2") \
                and data["new_password1"] != data["new_password2"]:
            self.add_error("new_password2", _(
                "Repeat the new password: the two new passwords differ; type the same "
                "password twice."))
        return data


class ForwardForm(forms.Form):
    target = forms.CharField(
        label=gettext_lazy("Forward to"), max_length=320,
        help_text=gettext_lazy("A government mailbox, for example ten.coquan@tinh.gov.vn."),
        error_messages={
            "required": gettext_lazy("Forward to: type the address to forward your mail to."),
            "max_length": gettext_lazy("Forward to: an address has at most %(limit_value)d "
                                       "characters.")},
        widget=forms.EmailInput(attrs=_field_attrs(
            "target", autocomplete="off", inputmode="email", spellcheck="false")))
    keep_copy = forms.BooleanField(
        label=gettext_lazy("Keep a copy in my mailbox"), required=False, initial=True)


class RemoveForwardForm(forms.Form):
    target = forms.CharField(max_length=320)


def _name_rule(message: str, rule: str) -> str:
    """A domain error with the rule it applies, in words a clerk reads."""
    return _("%(message)s (rule %(rule)s)") % {"message": message, "rule": rule} \
        if rule else message


def _policy_lines(policy: PasswordPolicy) -> list[str]:
    """The profile's password policy in plain words, shown beside the form."""
    lines = [_("At least %(min)d characters.") % {"min": policy.min_length}]
    classes = [label for wanted, label in (
        (policy.require_upper, _("an upper-case letter")),
        (policy.require_lower, _("a lower-case letter")),
        (policy.require_digit, _("a digit")),
        (policy.require_special, _("a special character (%(chars)s)") % {
            "chars": " ".join(policy.special_chars)} if policy.special_chars
         else _("a special character such as ! @ # $"))) if wanted]
    if classes:
        lines.append(_("It contains %(classes)s.") % {"classes": ", ".join(classes)})
    if policy.forbid_account_name or policy.forbid_full_name or policy.forbid_name_parts:
        lines.append(_("It does not contain your address or your name."))
    if policy.forbid_birth_date:
        lines.append(_("It does not contain your date of birth."))
    if policy.history:
        lines.append(_("It is not one of your last %(n)d passwords.") % {"n": policy.history})
    return lines


def _password_facts(profile: Profile, account: Account, now: dt.datetime) -> dict[str, Any]:
    """When the password was changed, when it expires (if the profile has a maximum age,
    NB-8.2a) and whether a change is due."""
    policy = profile.password
    expires: dt.datetime | None = None
    if policy.max_age and account.password_changed_at:
        expires = policy.max_age.after(account.password_changed_at)
    tz = profile.timezone
    return {"changed": local_time(account.password_changed_at, tz),
            "expires": local_date(expires.astimezone(_zone(tz)).date()) if expires else "",
            "expired": bool(expires and expires <= now),
            "max_age_rule": policy.max_age_rule, "max_age": bool(policy.max_age),
            "must_change": account.must_change_password,
            "must_change_rule": account.must_change_reason,
            "policy": _policy_lines(policy), "rule": policy.rule}


def _zone(tz: str) -> dt.tzinfo:
    from zoneinfo import ZoneInfo

    return ZoneInfo(tz)


def _security(request: HttpRequest, account: Account, now: dt.datetime) -> dict[str, Any]:
    """The second factor's status (the SSO pages enrol and manage it) and open sessions."""
    factor = totp.enrolled(account)
    sessions = SsoSession.objects.filter(account=account, ended_at__isnull=True,
                                         expires_at__gt=now).count()
    return {"totp": factor, "totp_since": local_time(factor.confirmed_at,
                                                     deployment.deployment_profile().timezone)
            if factor else "",
            "passkeys": passkeys.passkeys_of(account).count(),
            "passkeys_available": passkeys.available(),
            "required": totp.required_for(account), "sessions": sessions}


def _mailbox(profile: Profile, account: Account) -> dict[str, Any] | None:
    """Used / quota / percent. Usage is what Dovecot counts; before ``congvu mail up``
    has ever run there is no mail store, and the page says so instead of showing 0."""
    from congvu.mail.config import MailPaths
    from congvu.mail.selectors import mailbox_json

    box = Mailbox.objects.filter(account=account).first()
    if box is None:
        return None
    out: dict[str, Any] = {"quota": box.quota_bytes, "available": False}
    home = deployment.home()
    if not MailPaths(home).vmail_dir.is_dir():
        return out
    try:
        data = mailbox_json(profile, home, account.address)
    except (CongvuError, OSError, ValueError):
        return out
    used, quota = int(data["bytes"]), int(data["quota_bytes"]) or box.quota_bytes
    percent = round(100 * used / quota, 1) if quota else 0.0
    out.update(available=True, used=used, quota=quota, messages=data["messages"],
               percent=percent, high=int(quota * QUOTA_WARNING), low=int(quota * 0.75),
               warning=quota and used >= quota * QUOTA_WARNING)
    return out


def _context(request: HttpRequest, actor: Actor, **forms_: Any) -> dict[str, Any]:
    assert isinstance(request.user, Account)
    account = (Account.objects.select_related("person", "person__department", "agency",
                                              "agency__parent").get(pk=request.user.pk))
    profile = deployment.deployment_profile()
    now = clock.now()
    return {
        "account": account, "person": account.person,
        "roles": [str(ROLE_LABELS.get(r, r)) for r in roles_of(account)],
        "state": STATE_LABELS.get(AccountState(account.state), account.state),
        "last_login": local_time(account.last_login, profile.timezone),
        "timezone": profile.timezone,
        "password": _password_facts(profile, account, now),
        "security": _security(request, account, now),
        "forwards": list(account.forwards.order_by("target")),
        "forward_allow": ", ".join(profile.mail.forward_allow),
        "mailbox": _mailbox(profile, account),
        "password_form": forms_.get("password_form") or PasswordChangeForm(),
        "forward_form": forms_.get("forward_form") or ForwardForm(),
        "forward_error": forms_.get("forward_error", ""),
        "forward_notice": forms_.get("forward_notice", ""),
    }


def _htmx(request: HttpRequest) -> bool:
    return request.headers.get("HX-Request") == "true"


@console_view
@require_GET
def me(request: HttpRequest, actor: Actor) -> HttpResponse:
    return render(request, "console/me/index.html", _context(request, actor))


@console_view
@require_POST
def change_password(request: HttpRequest, actor: Actor) -> HttpResponse:
    """The holder changes their password voluntarily: the current one is asked; the new
    one goes through the profile's policy and history (``do_change_password``, NB-8.2b,
    QN-8, NT-7); every other SSO session ends, this browser's stays."""
    account = request.user
    assert isinstance(account, Account)
    form = PasswordChangeForm(request.POST)
    if form.is_valid():
        ip = str(request.META.get("REMOTE_ADDR", ""))
        wait = throttle.check(ip, account.address)
        if wait.seconds:
            form.add_error("current_password", _(
                "Current password: too many wrong attempts; try again in %(minutes)d "
                "minute(s).") % {"minutes": max(1, (wait.seconds + 59) // 60)})
        else:
            try:
                do_change_password(profile=deployment.deployment_profile(), account=account,
                                   current=form.cleaned_data["current_password"],
                                   new=form.cleaned_data["new_password1"],
                                   now=timezone.now(), keep_sid=request.session.get(SID, ""))
            except PasswordRejected as exc:
                for line in str(exc).split("\n"):
                    form.add_error("new_password1", _name_rule(line, exc.rule))
            except Forbidden:
                raise
            except CongvuError as exc:
                # The only other refusal: the current password is wrong. Counted like a
                # failed sign-in by the throttle, so a left-open browser is no oracle.
                throttle.note_failure(ip, account.address)
                form.add_error("current_password", _("Current password: %(error)s") % {
                    "error": exc.message})
            else:
                account.refresh_from_db()
                update_session_auth_hash(request, account)  # this browser stays signed in
                messages.success(request, _(
                    "Your password has been changed. You have been signed out everywhere "
                    "else."))
                return redirect("/console/me/#password")
    return render(request, "console/me/index.html",
                  _context(request, actor, password_form=form), status=400)


def _forwarding_answer(request: HttpRequest, actor: Actor, *, form: ForwardForm | None = None,
                       notice: str = "", error: str = "") -> HttpResponse:
    """htmx: the forwarding section only (2xx, htmx swaps no error answer); otherwise the
    page again with the error (400), or a redirect after a change."""
    failed = bool(error or (form is not None and form.errors))
    if _htmx(request):
        return render(request, "console/me/forwarding.html", _context(
            request, actor, forward_form=form, forward_notice=notice, forward_error=error))
    if not failed:
        messages.success(request, notice)
        return redirect("/console/me/#forwarding")
    return render(request, "console/me/index.html", _context(
        request, actor, forward_form=form, forward_error=error), status=400)


@console_view
@require_POST
def add_forward(request: HttpRequest, actor: Actor) -> HttpResponse:
    """Automatic forwarding of the holder's own mailbox: government mailboxes only
    (NB-4.5, the profile's allow-list)."""
    account = request.user
    assert isinstance(account, Account)
    form = ForwardForm(request.POST)
    if form.is_valid():
        target = form.cleaned_data["target"].strip().lower()
        try:
            do_add_forward(actor=actor, profile=deployment.deployment_profile(),
                           address=account.address, target=target,
                           keep_copy=form.cleaned_data["keep_copy"], now=timezone.now())
        except Forbidden:
            raise
        except CongvuError as exc:
            form.add_error("target", _("Forward to: %(error)s") % {
                "error": _name_rule(exc.message, exc.rule)})
        else:
            return _forwarding_answer(request, actor, notice=_(
                "Your mail is now also forwarded to %(target)s.") % {"target": target})
    return _forwarding_answer(request, actor, form=form)


@console_view
@require_POST
def remove_forward(request: HttpRequest, actor: Actor) -> HttpResponse:
    account = request.user
    assert isinstance(account, Account)
    form = RemoveForwardForm(request.POST)
    target = (request.POST.get("target") or "").strip().lower()
    if not form.is_valid():
        return _forwarding_answer(request, actor, error=_(
            "Forwarding: choose the forwarding to stop."))
    try:
        do_remove_forward(actor=actor, profile=deployment.deployment_profile(),
                          address=account.address, target=target, now=timezone.now())
    except Forbidden:
        raise
    except CongvuError as exc:
        return _forwarding_answer(request, actor, error=_("Forwarding: %(error)s") % {
            "error": exc.message})
    return _forwarding_answer(request, actor, notice=_(
        "Your mail is no longer forwarded to %(target)s.") % {"target": target})


urlpatterns = [
    path("me/", me, name="me"),
    path("me/password/", change_password, name="me-password"),
    path("me/forwards/", add_forward, name="me-forward-add"),
    path("me/forwards/remove/", remove_forward, name="me-forward-remove"),
]
