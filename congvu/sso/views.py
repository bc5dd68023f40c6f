"""The provider's pages and endpoints. Thin: rules live in actions, totp, throttle and
the accounts domain layer."""

from __future__ import annotations

import base64
import datetime as dt
import json
from typing import Any
from urllib.parse import urlencode, urlsplit

from django.contrib.auth import login, logout
from django.contrib.auth.hashers import check_password
from django.db import transaction
from django.db.models import Exists, OuterRef, QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.decorators import method_decorator
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods
from oauth2_provider import views as dot
from oauth2_provider.models import AccessToken, Application
from oauth2_provider.settings import oauth2_settings

from congvu import deployment
from congvu.accounts.actions import PasswordRejected, do_set_password_at_sign_in
from congvu.accounts.models import Account, AccountState
from congvu.errors import CongvuError
from congvu.mail.actions import do_record_auth_failure, do_record_auth_success
from congvu.sso import actions, issuer, keys, passkeys, refresh, throttle, totp
from congvu.sso.forms import CodeForm, NewPasswordForm, SignInForm
from congvu.sso.models import ClientSettings, Passkey, SecondFactor, SsoSession
from congvu.sso.validator import request_memo, token_checksum

PENDING = "sso_pending"
SID = "sso_sid"


def _prepare() -> None:
    """Keys and issuer as the database and ``serve`` say (another process may rotate)."""
    keys.install(timezone.now())
    oauth2_settings.OIDC_ISS_ENDPOINT = issuer.public_url()


def _allow_client_redirects(response: HttpResponse) -> HttpResponse:
    """A form posted here ends in a redirect to a registered client; CSP form-action
    covers that whole redirect chain, so it lists the registered redirect origins. Only
    a page (the one holding the form) needs it: a redirect's own CSP is never applied."""
    if response.status_code in (301, 302, 303, 307, 308):
        return response
    origins = set()
    for uris in Application.objects.values_list("redirect_uris", flat=True):
        for uri in uris.split():
            parts = urlsplit(uri)
            origins.add(f"{parts.scheme}://{parts.netloc}")
    if origins:
        response["Content-Security-Policy"] = _csp().replace(
            "form-action 'self'", "form-action 'self' " + " ".join(sorted(origins)))
    return response


def _with_client_redirects(view: Any) -> Any:
    def wrapped(request: HttpRequest) -> HttpResponse:
        return _allow_client_redirects(view(request))

    wrapped.__name__ = view.__name__
    wrapped.__doc__ = view.__doc__
    return wrapped


def _ip(request: HttpRequest) -> str:
    return str(request.META.get("REMOTE_ADDR", ""))


def _safe_next(request: HttpRequest, value: str | None) -> str:
    if value and url_has_allowed_host_and_scheme(value, allowed_hosts={request.get_host()},
                                                 require_https=request.is_secure()):
        return value
    return "/sso/"


def _contact(profile_operator: dict[str, str]) -> str:
    return profile_operator.get("technical_unit") or profile_operator.get("agency") or ""


def state_message(account: Account) -> str:
    """Why this account cannot sign in, and whom to contact (issue 5)."""
    profile = deployment.deployment_profile()
    values = {"rule": account.reason or "—", "why": account.reason_text or "—",
              "contact": _contact(profile.operator) or _("the province's e-mail operator")}
    if account.state == AccountState.SUSPENDED:
        return _("This account is suspended (%(rule)s): %(why)s Ask your agency's IT contact "
                 "to request its restoration from %(contact)s.") % values
    if account.state == AccountState.LOCKED:
        return _("This account is locked (%(rule)s) because its holder has left or moved: "
                 "%(why)s Contact %(contact)s.") % values
    if account.state == AccountState.DELETED:
        return _("This account has been deleted (%(rule)s). Contact %(contact)s.") % values
    return _("This account is not active yet. Contact %(contact)s.") % values


def _password_expired(account: Account, now: dt.datetime) -> bool:
    policy = deployment.deployment_profile().password
    if not policy.max_age or account.password_changed_at is None:
        return False
    from congvu.accounts.lifecycle import cutoff

    return account.password_changed_at <= cutoff(policy.max_age, now)


def _next_stage(account: Account, now: dt.datetime, *, totp_done: bool) -> str:
    """What the sign-in still needs. ``totp_done``: a second factor (an authenticator
    code or a passkey) was given in this sign-in."""
    if account.must_change_password or _password_expired(account, now):
        return "password"
    if not totp_done:
        # Read with the account by the sign-in page (_with_second_factors), else here.
        has_totp = getattr(account, "sso_has_totp", None)
        if has_totp if has_totp is not None else totp.enrolled(account):
            return "totp"  # the code page also offers the passkeys, if any
        has_passkey = getattr(account, "sso_has_passkey", None)
        if has_passkey if has_passkey is not None else passkeys.has_passkey(account):
            return "passkey"
        if totp.required_for(account):
            return "enrol"
    return ""


_STAGE_URLS = {"password": "/sso/password/", "totp": "/sso/totp/", "enrol": "/sso/totp/enrol/",
               "passkey": "/sso/passkey/"}


def _advance(request: HttpRequest, account: Account, next_url: str, *,
             totp_done: bool) -> HttpResponse:
    now = timezone.now()
    stage = _next_stage(account, now, totp_done=totp_done)
    if stage:
        request.session[PENDING] = {"account": account.pk, "next": next_url,
                                    "totp": totp_done}
        return redirect(_STAGE_URLS[stage])
    request.session.pop(PENDING, None)
    previous = request.session.get(SID)
    if request.user.is_authenticated and request.user.pk != account.pk and previous:
        actions.do_end_sessions(SsoSession.objects.filter(sid=previous),
                                reason=SsoSession.End.LOGOUT, now=now,
                                actor=actions.self_actor(request.user))
    login(request, account, backend="django.contrib.auth.backends.ModelBackend")
    if request.session.session_key is None:
        request.session.save()
    session = actions.do_start_session(
        account=account, session_key=request.session.session_key or "", now=now,
        remote_addr=_ip(request), user_agent=request.META.get("HTTP_USER_AGENT", ""),
        second_factor=totp_done)
    request.session[SID] = session.sid
    return HttpResponseRedirect(next_url)


def _with_second_factors(accounts: QuerySet[Account]) -> QuerySet[Account]:
    """The accounts with whether each has a confirmed authenticator app and a passkey
    (``_next_stage`` asks right after the password): one query instead of three."""
    return accounts.annotate(
        sso_has_totp=Exists(SecondFactor.objects.filter(account=OuterRef("pk"),
                                                        confirmed_at__isnull=False)),
        sso_has_passkey=Exists(Passkey.objects.filter(account=OuterRef("pk"))))


def _pending(request: HttpRequest) -> tuple[Account, dict[str, Any]] | None:
    data = request.session.get(PENDING)
    if not data:
        return None
    account = Account.objects.filter(pk=data.get("account")).first()
    if account is None or account.state != AccountState.ACTIVE:
        request.session.pop(PENDING, None)
        return None
    return account, data


@never_cache
@require_http_methods(["GET", "POST"])
@_with_client_redirects
def sign_in(request: HttpRequest) -> HttpResponse:
    """The sign-in page: the only place a civil servant types their password."""
    profile = deployment.deployment_profile()
    next_url = _safe_next(request, request.POST.get("next") or request.GET.get("next"))
    form = SignInForm(request.POST or None)
    ctx: dict[str, Any] = {"form": form, "next": next_url, "profile": profile}
    if request.method != "POST" or not form.is_valid():
        return render(request, "sso/sign_in.html", ctx, status=400 if form.errors else 200)
    now = timezone.now()
    ip = _ip(request)
    text = form.cleaned_data["address"].strip().lower()
    address = text if "@" in text else f"{text}@{profile.mail.domain}"
    wait = throttle.check(ip, address)
    if wait.seconds:
        ctx["error"] = _("Too many failed sign-ins from here or for this account. Try again "
                         "in %(minutes)d minute(s).") % {
                             "minutes": max(1, (wait.seconds + 59) // 60)}
        return render(request, "sso/sign_in.html", ctx, status=429)
    account = _with_second_factors(Account.objects.filter(address=address)
                                   .select_related("agency", "person")).first()
    password = form.cleaned_data["password"]
    if account is not None and account.state == AccountState.DELETED:
        ctx["error"] = state_message(account)
        return render(request, "sso/sign_in.html", ctx, status=403)
    good = account is not None and account.has_usable_password() and check_password(
        password, account.password)
    if not good:
        throttle.note_failure(ip, address)
        if account is not None:
            suspended = do_record_auth_failure(profile=profile, address=address, now=now,
                                               remote=ip, protocol="sso")
            actions.record_failure(account=account, now=now, remote=ip)
            if suspended:
                account.refresh_from_db()
                ctx["error"] = state_message(account)
                return render(request, "sso/sign_in.html", ctx, status=403)
        ctx["error"] = _("Wrong e-mail address or password.")
        return render(request, "sso/sign_in.html", ctx, status=401)
    assert account is not None
    if account.state != AccountState.ACTIVE:
        ctx["error"] = state_message(account)
        return render(request, "sso/sign_in.html", ctx, status=403)
    if wait.account_failures:
        throttle.clear_account(address)
    do_record_auth_success(address=address, now=now)
    return _advance(request, account, next_url, totp_done=False)


@never_cache
@require_http_methods(["GET", "POST"])
@_with_client_redirects
def change_password(request: HttpRequest) -> HttpResponse:
    """The forced change at first sign-in, after a reset, or on expiry (NB-6.3, QN-5.3,
    NT-6.3c, KH-4.2, GL-6.2, NB-8.2a)."""
    pending = _pending(request)
    if pending is None:
        return redirect("/sso/login/")
    account, data = pending
    profile = deployment.deployment_profile()
    form = NewPasswordForm(request.POST or None)
    reason = (account.must_change_reason or profile.password.change_first_login_rule
              if account.must_change_password else profile.password.max_age_rule)
    ctx = {"form": form, "account": account, "profile": profile, "rule": reason,
           "expired": not account.must_change_password}
    if request.method == "POST" and form.is_valid():
        try:
            do_set_password_at_sign_in(profile=profile, account=account,
                                       new=form.cleaned_data["new_password1"],
                                       now=timezone.now()) if account.must_change_password \
                else _renew_expired(account, form.cleaned_data["new_password1"])
        except PasswordRejected as exc:
            ctx["problems"] = str(exc).split("\n")
            ctx["problem_rule"] = exc.rule
        except CongvuError as exc:
            ctx["problems"] = [str(exc)]
        else:
            account.refresh_from_db()
            return _advance(request, account, data["next"], totp_done=bool(data.get("totp")))
    return render(request, "sso/change_password.html", ctx,
                  status=400 if request.method == "POST" else 200)


def _renew_expired(account: Account, new: str) -> None:
    """NB-8.2a found at sign-in before the nightly sweep flagged it: flag, then change."""
    Account.objects.filter(pk=account.pk).update(
        must_change_password=True,
        must_change_reason=deployment.deployment_profile().password.max_age_rule)
    account.refresh_from_db()
    do_set_password_at_sign_in(profile=deployment.deployment_profile(), account=account,
                               new=new, now=timezone.now())


@never_cache
@require_http_methods(["GET", "POST"])
@_with_client_redirects
def second_factor(request: HttpRequest) -> HttpResponse:
    pending = _pending(request)
    if pending is None:
        return redirect("/sso/login/")
    account, data = pending
    if not totp.enrolled(account) and passkeys.has_passkey(account):
        return redirect(_STAGE_URLS["passkey"])
    form = CodeForm(request.POST or None)
    ctx: dict[str, Any] = {"form": form, "account": account,
                           "passkeys": passkeys.has_passkey(account),
                           "passkeys_available": passkeys.available()}
    if request.method == "POST" and form.is_valid():
        now = timezone.now()
        ip = _ip(request)
        wait = throttle.wait_seconds(ip, account.address)
        if not wait and totp.do_verify(account=account, code=form.cleaned_data["code"],
                                       now=now):
            return _advance(request, account, data["next"], totp_done=True)
        throttle.note_failure(ip, account.address)
        do_record_auth_failure(profile=deployment.deployment_profile(),
                               address=account.address, now=now, remote=ip,
                               protocol="sso-totp")
        actions.record_failure(account=account, now=now, remote=ip, second_factor=True)
        ctx["error"] = _("The code is wrong or has expired.")
        return render(request, "sso/totp.html", ctx, status=401)
    return render(request, "sso/totp.html", ctx)


@never_cache
@require_http_methods(["GET", "POST"])
@_with_client_redirects
def enrol_second_factor(request: HttpRequest) -> HttpResponse:
    """Enrol an authenticator app: during a sign-in that requires one, or when signed in."""
    pending = _pending(request)
    if pending is not None:
        account, data = pending
        stage = _next_stage(account, timezone.now(), totp_done=bool(data.get("totp")))
        if stage != "enrol":
            # A password alone never reaches an enrolment (nor an enrolled secret) when
            # the account already has a second factor: that one is asked instead.
            return redirect(_STAGE_URLS.get(stage, "/sso/login/"))
    elif request.user.is_authenticated:
        account, data = request.user, {}
    else:
        return redirect("/sso/login/?next=/sso/totp/enrol/")
    now = timezone.now()
    profile = deployment.deployment_profile()
    sf = totp.start_enrolment(account, now)
    uri = totp.provisioning_uri(sf, f"congvu {profile.province}")
    form = CodeForm(request.POST or None)
    ctx: dict[str, Any] = {"form": form, "account": account, "secret": sf.secret,
                           "qr": totp.qr_svg_data_uri(uri),
                           "required": totp.required_for(account),
                           "passkeys_available": passkeys.available(),
                           "passkeys_unavailable": "" if passkeys.available()
                           else passkeys.unavailable_message()}
    if request.method == "POST" and form.is_valid():
        try:
            totp.do_confirm_enrolment(account=account, code=form.cleaned_data["code"], now=now)
        except CongvuError as exc:
            ctx["error"] = str(exc)
            return render(request, "sso/totp_enrol.html", ctx, status=400)
        if pending is not None:
            return _advance(request, account, data["next"], totp_done=True)
        return redirect("/sso/")
    return render(request, "sso/totp_enrol.html", ctx)


# --- passkeys (WebAuthn) -----------------------------------------------------------


def _passkey_holder(request: HttpRequest) -> tuple[Account, dict[str, Any] | None] | None:
    """Who may register a passkey here: a sign-in waiting for its first second factor
    (the enrolment stage, with its pending data), or the signed-in holder (None)."""
    pending = _pending(request)
    if pending is not None:
        account, data = pending
        stage = _next_stage(account, timezone.now(), totp_done=bool(data.get("totp")))
        return (account, data) if stage == "enrol" else None
    if request.user.is_authenticated:
        return request.user, None
    return None


def _passkey_ctx(account: Account) -> dict[str, Any]:
    return {"account": account, "passkeys_available": passkeys.available(),
            "passkeys_unavailable": "" if passkeys.available()
            else passkeys.unavailable_message()}


def _options(build: Any) -> JsonResponse:
    """The options for the browser's WebAuthn call, or a message to show."""
    try:
        return JsonResponse({"publicKey": build()})
    except CongvuError as exc:
        return JsonResponse({"error": str(exc)}, status=409)


@never_cache
@require_http_methods(["POST"])
def passkey_add_options(request: HttpRequest) -> JsonResponse:
    holder = _passkey_holder(request)
    if holder is None:
        return JsonResponse({"error": _("Your sign-in has expired: sign in again.")}, status=403)
    account = holder[0]
    return _options(lambda: passkeys.registration_options(request.session, account,
                                                          timezone.now()))


@never_cache
@require_http_methods(["GET", "POST"])
@_with_client_redirects
def passkey_add(request: HttpRequest) -> HttpResponse:
    """Register a passkey, from the account page or during a sign-in that requires a
    second factor. The browser's answer (JSON) arrives in the ``credential`` field."""
    holder = _passkey_holder(request)
    if holder is None:
        return redirect("/sso/login/?next=/sso/passkeys/add/")
    account, data = holder
    ctx = {**_passkey_ctx(account), "required": data is not None}
    if request.method == "POST":
        now = timezone.now()
        name = request.POST.get("name", "")
        try:
            challenge = passkeys.take_challenge(request.session, purpose=passkeys.REGISTER,
                                                account=account, now=now)
            passkeys.do_register(actor=actions.self_actor(account), account=account,
                                 name=name, credential=request.POST.get("credential", ""),
                                 challenge=challenge, now=now)
        except CongvuError as exc:
            ctx.update(error=str(exc), name=name)
            return render(request, "sso/passkey_add.html", ctx, status=400)
        if data is not None:
            return _advance(request, account, data["next"], totp_done=True)
        return redirect("/sso/#passkeys")
    return render(request, "sso/passkey_add.html", ctx)


@never_cache
@require_http_methods(["POST"])
def passkey_remove(request: HttpRequest, passkey_id: int) -> HttpResponse:
    if not request.user.is_authenticated:
        return redirect("/sso/login/?next=/sso/")
    account: Account = request.user
    try:
        passkeys.do_remove(actor=actions.self_actor(account), account=account,
                           passkey_id=passkey_id, now=timezone.now())
    except CongvuError as exc:
        return _home(request, account, error=str(exc), status=400)
    return redirect("/sso/#passkeys")


@never_cache
@require_http_methods(["POST"])
def passkey_options(request: HttpRequest) -> JsonResponse:
    pending = _pending(request)
    if pending is None:
        return JsonResponse({"error": _("Your sign-in has expired: sign in again.")}, status=403)
    account = pending[0]
    return _options(lambda: passkeys.authentication_options(request.session, account,
                                                            timezone.now()))


def _second_factor_failed(account: Account, now: dt.datetime, ip: str,
                          protocol: str) -> None:
    """Counted like a wrong password (throttle, NB-7.2a) and audited."""
    throttle.note_failure(ip, account.address)
    do_record_auth_failure(profile=deployment.deployment_profile(), address=account.address,
                           now=now, remote=ip, protocol=protocol)
    actions.record_failure(account=account, now=now, remote=ip, second_factor=True)


@never_cache
@require_http_methods(["GET", "POST"])
@_with_client_redirects
def passkey_sign_in(request: HttpRequest) -> HttpResponse:
    """The second factor with a passkey, after the password."""
    pending = _pending(request)
    if pending is None:
        return redirect("/sso/login/")
    account, data = pending
    if not passkeys.has_passkey(account):  # reset by an operator meanwhile
        stage = _next_stage(account, timezone.now(), totp_done=bool(data.get("totp")))
        return redirect(_STAGE_URLS.get(stage, "/sso/login/"))
    ctx = {**_passkey_ctx(account), "totp": totp.enrolled(account) is not None}
    if request.method != "POST":
        return render(request, "sso/passkey.html", ctx)
    now = timezone.now()
    ip = _ip(request)
    if throttle.wait_seconds(ip, account.address):
        ctx["error"] = _("Too many failed attempts for this account. Try again in a few "
                         "minutes.")
        return render(request, "sso/passkey.html", ctx, status=429)
    try:
        challenge = passkeys.take_challenge(request.session, purpose=passkeys.AUTHENTICATE,
                                            account=account, now=now)
        passkeys.do_authenticate(account=account, credential=request.POST.get("credential", ""),
                                 challenge=challenge, now=now)
    except CongvuError as exc:
        counts = getattr(exc, "counts", True)
        if counts:
            _second_factor_failed(account, now, ip, "sso-passkey")
        ctx["error"] = str(exc)
        return render(request, "sso/passkey.html", ctx, status=401 if counts else 400)
    return _advance(request, account, data["next"], totp_done=True)


@never_cache
def account_home(request: HttpRequest) -> HttpResponse:
    """Where the holder lands without a client: who is signed in, and where."""
    if not request.user.is_authenticated:
        return redirect("/sso/login/?next=/sso/")
    return _home(request, request.user)


def _home(request: HttpRequest, account: Account, *, error: str = "",
          status: int = 200) -> HttpResponse:
    sessions = (SsoSession.objects.filter(account=account, ended_at__isnull=True,
                                          expires_at__gt=timezone.now())
                .prefetch_related("clients__application"))
    return render(request, "sso/home.html", {
        "account": account, "sessions": sessions, "second_factor": totp.enrolled(account),
        "current": request.session.get(SID), "passkeys": passkeys.passkeys_of(account),
        "passkeys_available": passkeys.available(),
        "passkeys_unavailable": "" if passkeys.available() else passkeys.unavailable_message(),
        "passkey_error": error}, status=status)


class AuthorizationView(dot.AuthorizationView):
    """Authorization endpoint: carries the SSO session into the code."""

    login_url = "/sso/login/"

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        _prepare()
        with request_memo():
            return super().dispatch(request, *args, **kwargs)

    def create_authorization_response(self, request: HttpRequest, scopes: str,
                                      credentials: dict[str, Any], allow: bool) -> Any:
        session = getattr(request, "sso_session", None)
        if session is not None:
            credentials = {**credentials, "sso_session_id": session.id}
        return super().create_authorization_response(request, scopes, credentials, allow)


@method_decorator(csrf_exempt, name="dispatch")
class TokenView(dot.TokenView):
    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        _prepare()
        # One transaction per token request: the grant, the new tokens and their session
        # links are written together (and one commit instead of one per statement).
        with transaction.atomic(), request_memo():
            # The refresh-token grant, hand-written (issue 5); None: DOT answers.
            fast = refresh.token_response(request)
            if fast is not None:
                return fast
            return super().dispatch(request, *args, **kwargs)

    def authorization_flow_token_response(self, request: HttpRequest, *args: Any,
                                          **kwargs: Any) -> HttpResponse:
        # DOT's version reads the new access token back only to send ``app_authorized``,
        # which nothing in congvu receives: one query less per token request.
        _url, headers, body, status = self.create_token_response(request)
        response = HttpResponse(content=body, status=status)
        for key, value in headers.items():
            response[key] = value
        return response


@method_decorator(csrf_exempt, name="dispatch")
class UserInfoView(dot.UserInfoView):
    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        _prepare()
        return super().dispatch(request, *args, **kwargs)


class JwksView(dot.JwksInfoView):
    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        _prepare()
        response = super().dispatch(request, *args, **kwargs)
        # Short: a rotation must reach relying parties before the old key retires.
        response["Cache-Control"] = "public, max-age=60"
        return response


class DiscoveryView(dot.ConnectDiscoveryInfoView):
    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        _prepare()
        response = super().get(request, *args, **kwargs)
        data = _json(response)
        base = issuer.public_url()
        data.update({
            "introspection_endpoint": f"{base}/sso/introspect/",
            "revocation_endpoint": f"{base}/sso/revoke/",
            "end_session_endpoint": f"{base}/sso/logout/",
            "backchannel_logout_supported": True,
            "backchannel_logout_session_supported": True,
            "frontchannel_logout_supported": True,
            "frontchannel_logout_session_supported": True,
            "claims_supported": ["sub", "iss", "aud", "exp", "iat", "auth_time", "nonce", "sid",
                                 "email", "email_verified", "name", "preferred_username",
                                 "agency", "position", "roles"],
            "scopes_supported": ["openid", "profile", "email", "offline_access"],
            "grant_types_supported": ["authorization_code", "refresh_token"],
            "response_types_supported": ["code"],
            "code_challenge_methods_supported": ["S256"],
            "ui_locales_supported": ["vi", "en"],
        })
        out = JsonResponse(data)
        out["Access-Control-Allow-Origin"] = "*"
        return out


def _json(response: HttpResponse) -> dict[str, Any]:
    return dict(json.loads(response.content))


def _basic_client(request: HttpRequest) -> Application | None:
    auth = request.META.get("HTTP_AUTHORIZATION", "")
    client_id = secret = ""
    if auth.lower().startswith("basic "):
        try:
            raw = base64.b64decode(auth[6:].strip()).decode("utf-8")
        except (ValueError, UnicodeDecodeError):
            return None
        from urllib.parse import unquote_plus

        client_id, _sep, secret = raw.partition(":")
        client_id, secret = unquote_plus(client_id), unquote_plus(secret)
    else:
        client_id = request.POST.get("client_id", "")
        secret = request.POST.get("client_secret", "")
    app = Application.objects.filter(client_id=client_id).first() if client_id else None
    if app is None or not secret or not check_password(secret, app.client_secret):
        return None
    return app


@csrf_exempt
@never_cache
@require_http_methods(["POST"])
def introspect(request: HttpRequest) -> HttpResponse:
    """RFC 7662 token introspection, for registered resource servers only (the mail
    plane's Dovecot checks webmail's access token here at every IMAP/SMTP sign-in)."""
    app = _basic_client(request)
    if app is None:
        response = JsonResponse({"error": "invalid_client"}, status=401)
        response["WWW-Authenticate"] = 'Basic realm="congvu"'
        return response
    if not ClientSettings.objects.filter(application=app, resource_server=True).exists():
        return JsonResponse({"error": "unauthorized_client"}, status=403)
    token = request.POST.get("token", "")
    inactive = JsonResponse({"active": False})
    if not token:
        return inactive
    access = (AccessToken.objects.select_related("user", "application")
              .filter(token_checksum=token_checksum(token)).first())
    if access is None or access.is_expired() or access.user is None \
            or not access.user.is_active:
        return inactive
    user: Account = access.user
    return JsonResponse({
        "active": True, "scope": access.scope, "client_id": access.application.client_id
        if access.application else "", "username": user.address, "email": user.address,
        "sub": str(user.subject), "exp": int(access.expires.timestamp()),
        "token_type": "Bearer", "iss": issuer.public_url()})


class LogoutView(dot.RPInitiatedLogoutView):
    """RP-initiated logout ending the SSO session everywhere (QN-3.3): back-channel
    tokens through the outbox, front-channel iframes on this page."""

    template_name = "sso/logout_confirm.html"

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        _prepare()
        return super().dispatch(request, *args, **kwargs)

    def do_logout(self, application: Any = None, post_logout_redirect_uri: str | None = None,
                  state: str | None = None, token_user: Any = None) -> HttpResponse:
        request = self.request
        now = timezone.now()
        sids = [s for s in [request.session.get(SID), self._hinted_sid(token_user)] if s]
        ended = actions.do_end_sessions(
            SsoSession.objects.filter(sid__in=sids), reason=SsoSession.End.LOGOUT, now=now,
            actor=actions.self_actor(token_user or request.user)
            if (token_user or request.user.is_authenticated) else actions.SSO_ACTOR)
        logout(request)
        target = ""
        if post_logout_redirect_uri:
            target = post_logout_redirect_uri
            if state:
                sep = "&" if urlsplit(target).query else "?"
                target = f"{target}{sep}{urlencode({'state': state})}"
        return logged_out(request, ended, target)

    def _hinted_sid(self, token_user: Any) -> str:
        hint = self.request.GET.get("id_token_hint") or self.request.POST.get("id_token_hint")
        if not hint or token_user is None:
            return ""
        from oauth2_provider.views.oidc import _load_id_token

        _token, claims = _load_id_token(hint)
        return str((claims or {}).get("sid", ""))


def _csp() -> str:
    from django.conf import settings

    return str(settings.CONTENT_SECURITY_POLICY)


@require_http_methods(["POST"])
def sign_out(request: HttpRequest) -> HttpResponse:
    """The provider's own sign-out button (same effect as RP-initiated logout)."""
    now = timezone.now()
    sid = request.session.get(SID)
    ended = []
    if sid and request.user.is_authenticated:
        ended = actions.do_end_sessions(SsoSession.objects.filter(sid=sid),
                                        reason=SsoSession.End.LOGOUT, now=now,
                                        actor=actions.self_actor(request.user))
    logout(request)
    return logged_out(request, ended, "")


def logged_out(request: HttpRequest, ended: list[SsoSession], target: str) -> HttpResponse:
    """The signed-out page: front-channel logout iframes for every client that joined the
    ended sessions (Front-Channel Logout 1.0), then on to ``target`` if any."""
    frames = actions.frontchannel_uris(ended)
    response = render(request, "sso/logged_out.html", {"frames": frames, "target": target})
    if frames:
        origins = " ".join(sorted({"{0.scheme}://{0.netloc}".format(urlsplit(u))
                                   for u in frames}))
        response["Content-Security-Policy"] = _csp() + f"; frame-src {origins}"
    return response
