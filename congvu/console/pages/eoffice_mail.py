"""eOffice pages (issue 7): an official e-mail handed over to the clerks' intake (GL-9).

- ``/console/eoffice/intake/mail/``: the clerk uploads the message as an ``.eml`` file
  (any mail client saves one), reads the preview of what will be received (the fields
  prefilled from the message, correctable), and confirms; the document then waits in
  the intake to be registered. The message is kept between the two steps in the
  deployment's folder for an hour, for its uploader only (:func:`mail_intake.stash`).
- ``/console/eoffice/intake/mail/handover/``: the webmail's one click. Roundcube's
  ``congvu_eoffice`` plugin POSTs the open message (``message/rfc822``) server to server
  with the user's SSO access token (``Authorization: Bearer``), which the ``congvu_sso``
  plugin already holds; congvu accepts only a live token issued to the webmail client,
  of an active account, and acts as that account, so the domain's clerk check applies.
  No cookie is involved (hence no CSRF token); without a bearer token the view behaves
  like every console page (sign-in for anonymous visitors, nothing written).
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import URLPattern, path
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from congvu import clock, deployment
from congvu.accounts.models import Account
from congvu.accounts.roles import actor_for
from congvu.actors import Actor
from congvu.console.views import console_view, local_time
from congvu.eoffice import mail_intake, rules
from congvu.eoffice.params import deployment_params
from congvu.errors import CongvuError, Forbidden, NotFound

#: The SSO client whose access tokens the hand-over endpoint accepts (webmail).
WEBMAIL_CLIENT = "webmail"


class UploadForm(forms.Form):
    message = forms.FileField(
        label=gettext_lazy("The e-mail (.eml file)"),
        help_text=gettext_lazy("In the mail client, save or download the message as an "
                               ".eml file (in the webmail: More → Download (.eml))."))


class PreviewForm(forms.Form):
    """The prefilled fields the clerk may correct before the document is received (all
    of them can still be corrected when it is registered)."""

    token = forms.CharField(widget=forms.HiddenInput)
    agency = forms.TypedChoiceField(label=gettext_lazy("Receiving agency"), coerce=int,
                                    required=False)
    attachment = forms.TypedChoiceField(label=gettext_lazy("The document (PDF)"), coerce=int,
                                        required=False)
    issuer = forms.CharField(label=gettext_lazy("Issuing agency"), max_length=255,
                             required=False)
    number_symbol = forms.CharField(label=gettext_lazy("Number and symbol"), max_length=64,
                                    required=False)
    doc_type = forms.ChoiceField(label=gettext_lazy("Document type"),
                                 choices=rules.INCOMING_TYPE_CHOICES)
    urgency = forms.ChoiceField(label=gettext_lazy("Urgency"), choices=rules.Urgency.choices)
    summary = forms.CharField(label=gettext_lazy("Summary (trích yếu)"), required=False,
                              widget=forms.Textarea(attrs={"rows": 3, "maxlength": 2000}))

    def __init__(self, *args: Any, agencies: list[Any], pdfs: list[str],
                 **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        agency, attachment = self.fields["agency"], self.fields["attachment"]
        assert isinstance(agency, forms.ChoiceField)
        assert isinstance(attachment, forms.ChoiceField)
        agency.choices = [(a.pk, a.name) for a in agencies]
        attachment.choices = list(enumerate(pdfs))
        if len(agencies) < 2:
            self.fields["agency"].widget = forms.HiddenInput()
        if len(pdfs) < 2:
            self.fields["attachment"].widget = forms.HiddenInput()


def _preview(request: HttpRequest, actor: Actor, raw: bytes, token: str,
             data: dict[str, Any] | None = None, status: int = 200,
             error: str = "") -> HttpResponse:
    profile = deployment.deployment_profile()
    now = clock.now()
    mail = mail_intake.parse(raw, params=deployment_params(profile))
    agencies = mail_intake.clerk_agencies(actor, now)
    form = mail_intake.prefill(mail, profile=profile, now=now)
    try:
        agency_id: int | None = mail_intake.choose_agency(actor, mail, now).pk
    except CongvuError:
        agency_id = None
    already = mail_intake.handed_over(agency_id, mail) if agency_id else None
    initial = {"token": token, "agency": agency_id, "attachment": 0, "issuer": form.issuer,
               "number_symbol": form.number_symbol, "doc_type": form.doc_type,
               "urgency": form.urgency, "summary": form.summary}
    preview = PreviewForm(data, initial=initial, agencies=agencies,
                          pdfs=[a.name for a in mail.pdfs])
    if error:
        preview.is_valid()
        preview.add_error(None, error)
    tz = profile.timezone
    return render(request, "console/eoffice/intake/mail.html", {
        "preview": preview, "mail": mail, "timezone": tz,
        "arrived": local_time(form.received_at, tz),
        "already": already[0] if already else None,
        "already_at": local_time(already[1], tz) if already else "",
        "hints": rules.summary_hints(form.summary), "others": mail.others,
    }, status=status)


@console_view
def mail_intake_page(request: HttpRequest, actor: Actor) -> HttpResponse:
    """Upload → preview → confirm (every step a plain form; no JavaScript needed)."""
    now = clock.now()
    if not mail_intake.clerk_agencies(actor, now):
        raise Forbidden(_("Only the agency's clerk receives documents."),
                        rule=rules.RULE_ROLES)
    account = request.user
    assert isinstance(account, Account)
    if request.method == "POST" and request.POST.get("token"):
        return _confirm(request, actor, account)
    upload = UploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and upload.is_valid():
        data = upload.cleaned_data["message"]
        limit = mail_intake.max_message_bytes(deployment_params(deployment.deployment_profile()))
        try:
            if data.size > limit:
                raise CongvuError(_("The e-mail cannot be read: %(problem)s") % {
                    "problem": _("it is larger than %(max)d MB.") % {"max": limit // 2**20}})
            raw = data.read()
            mail_intake.prefill(mail_intake.parse(raw, params=deployment_params(
                deployment.deployment_profile())), profile=deployment.deployment_profile(),
                now=now)
        except CongvuError as exc:
            upload.add_error("message", exc.message)
        else:
            return _preview(request, actor, raw, mail_intake.stash(raw, account.pk))
    return render(request, "console/eoffice/intake/mail.html", {"upload": upload},
                  status=400 if request.method == "POST" else 200)


def _confirm(request: HttpRequest, actor: Actor, account: Account) -> HttpResponse:
    token = request.POST.get("token", "")
    raw = mail_intake.unstash(token, account.pk)
    profile = deployment.deployment_profile()
    mail = mail_intake.parse(raw, params=deployment_params(profile))
    form = PreviewForm(request.POST, agencies=mail_intake.clerk_agencies(actor, clock.now()),
                       pdfs=[a.name for a in mail.pdfs])
    if not form.is_valid():
        return _preview(request, actor, raw, token, request.POST, 400)
    c = form.cleaned_data
    changes = {"issuer": c["issuer"], "number_symbol": c["number_symbol"],
               "doc_type": c["doc_type"], "urgency": c["urgency"], "summary": c["summary"]}
    try:
        doc = mail_intake.do_hand_over_mail(
            actor=actor, profile=profile, raw=raw, now=clock.now(),
            agency_id=c["agency"] if c["agency"] not in (None, "") else None,
            attachment=c["attachment"] or 0, changes=changes)
    except Forbidden:
        raise
    except CongvuError as exc:
        return _preview(request, actor, raw, token, request.POST, 400, exc.message)
    mail_intake.discard(token)
    return redirect(f"/console/eoffice/incoming/{doc.pk}/")


# --- the webmail's one click ---------------------------------------------------------------


def _bearer_account(request: HttpRequest) -> Account | None:
    """The active account of a live access token issued to the webmail client."""
    from oauth2_provider.models import AccessToken

    from congvu.sso.validator import token_checksum

    header = request.META.get("HTTP_AUTHORIZATION", "")
    scheme, _sep, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    access = (AccessToken.objects.select_related("user", "application")
              .filter(token_checksum=token_checksum(token.strip())).first())
    if access is None or access.is_expired() or access.user is None \
            or access.application is None or access.application.name != WEBMAIL_CLIENT:
        return None
    user = access.user
    return user if isinstance(user, Account) and user.is_active else None


def _json_error(status: int, message: str) -> JsonResponse:
    return JsonResponse({"ok": False, "error": message}, status=status,
                        json_dumps_params={"ensure_ascii": False})


@csrf_exempt
@never_cache
@require_POST
def mail_handover(request: HttpRequest) -> HttpResponse:
    """The webmail plugin's POST: the raw message in the body, the user's access token
    in ``Authorization``; ``?agency=<id>`` when the clerk serves several agencies.
    Answers JSON: the document's id and page, or the error to show."""
    if not request.META.get("HTTP_AUTHORIZATION", "").lower().startswith("bearer "):
        return _session_fallback(request)
    account = _bearer_account(request)
    if account is None:
        response = _json_error(401, _("Your webmail session has expired: sign in again."))
        response["WWW-Authenticate"] = 'Bearer error="invalid_token"'
        return response
    actor = actor_for(account)
    agency = request.GET.get("agency", "")
    profile = deployment.deployment_profile()
    try:
        doc = mail_intake.do_hand_over_mail(
            actor=actor, profile=profile, raw=request.body, now=clock.now(),
            agency_id=int(agency) if agency.isdigit() else None)
    except (Forbidden, NotFound) as exc:
        return _json_error(403, exc.message)
    except CongvuError as exc:
        return _json_error(400, exc.message)
    return JsonResponse({
        "ok": True, "id": doc.pk, "url": f"/console/eoffice/incoming/{doc.pk}/",
        "message": _("Received into the intake as incoming document #%(id)s; register it "
                     "in eOffice.") % {"id": doc.pk}},
        status=201, json_dumps_params={"ensure_ascii": False})


@console_view
def _session_fallback(request: HttpRequest, actor: Actor) -> HttpResponse:
    """A browser without the token: signed-in people are told to use the upload page
    (cookies alone never hand anything over: no cross-site request can)."""
    raise Forbidden(_("This address is for the webmail's button; upload the e-mail on the "
                      "mail intake page instead."))


urlpatterns: list[URLPattern] = [
    path("eoffice/intake/mail/", mail_intake_page, name="eoffice-mail-intake"),
    path("eoffice/intake/mail/handover/", mail_handover, name="eoffice-mail-handover"),
]
