"""A browser's sign-in lasts only as long as its SSO session: ended (sign-out anywhere,
suspension, password change) or expired means signed out here too."""

from __future__ import annotations

from collections.abc import Callable

from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from congvu.sso.models import SsoSession

SID = "sso_sid"


class SsoSessionMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.user.is_authenticated:
            sid = request.session.get(SID)
            session = (SsoSession.objects.filter(sid=sid, ended_at__isnull=True,
                                                 expires_at__gt=timezone.now(),
                                                 account_id=request.user.pk).first()
                       if sid else None)
            if session is None:
                logout(request)
            else:
                request.sso_session = session  # type: ignore[attr-defined]
        return self.get_response(request)
