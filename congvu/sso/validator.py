"""django-oauth-toolkit customised in one place (its own advice): congvu's claims,
per-client PKCE, sessions carried from the authorization code to every token, and
refusal of tokens whose account or session has ended."""

from __future__ import annotations

import hashlib
from typing import Any, ClassVar

from django.utils import timezone
from oauth2_provider.models import AccessToken, Grant, RefreshToken
from oauth2_provider.oauth2_validators import OAuth2Validator
from oauthlib.common import Request

from congvu.accounts.models import Account, AccountState
from congvu.sso import issuer
from congvu.sso.actions import note_client
from congvu.sso.models import (
    ClientSettings,
    GrantSession,
    RedeemedCode,
    SsoSession,
    TokenSession,
)


def roles_of(account: Account) -> list[str]:
    roles = []
    if account.is_operator:
        roles.append("operator")
    if account.kind == "agency":
        roles.append("agency-mailbox")
    person = account.person
    if person is not None:
        roles.append("civil-servant")
        if person.is_leader:
            roles.append("leader")
    return roles


def claims_of(account: Account) -> dict[str, Any]:
    """The claims every shared application receives (issue 5)."""
    person = account.person
    agency = account.agency
    return {
        "sub": str(account.subject),
        "email": account.address,
        "email_verified": True,
        "name": person.full_name if person else (agency.name if agency else account.address),
        "preferred_username": account.local_part,
        "agency": agency.name if agency else "",
        "position": person.position if person else "",
        "roles": roles_of(account),
    }


def _open_session(session_id: int | None) -> SsoSession | None:
    if session_id is None:
        return None
    return (SsoSession.objects.filter(pk=session_id, ended_at__isnull=True,
                                      expires_at__gt=timezone.now(),
                                      account__state=AccountState.ACTIVE).first())


class CongvuValidator(OAuth2Validator):
    oidc_claim_scope: ClassVar[dict[str, str]] = {
        **OAuth2Validator.oidc_claim_scope, "agency": "profile", "position": "profile",
        "roles": "profile"}

    def get_additional_claims(self, request: Request) -> dict[str, Any]:
        return claims_of(request.user)

    def get_oidc_issuer_endpoint(self, request: Request) -> str:
        return issuer.public_url()

    def is_pkce_required(self, client_id: str, request: Request) -> bool:
        cs = ClientSettings.objects.filter(application__client_id=client_id).first()
        return cs is None or cs.require_pkce

    # The session travels: authorize (browser) -> code -> tokens -> refreshed tokens.

    def save_authorization_code(self, client_id: str, code: dict[str, Any], request: Request,
                                *args: Any, **kwargs: Any) -> None:
        grant = self._create_authorization_code(request, code)
        session_id = getattr(request, "sso_session_id", None)
        if session_id is not None:
            GrantSession.objects.create(grant=grant, session_id=session_id)

    def validate_code(self, client_id: str, code: str, client: Any, request: Request,
                      *args: Any, **kwargs: Any) -> bool:
        if not super().validate_code(client_id, code, client, request, *args, **kwargs):
            self._revoke_replayed(code)
            return False
        link = GrantSession.objects.filter(grant__code=code, grant__application=client).first()
        session = _open_session(link.session_id if link else None)
        if session is None or not request.user.is_active:
            return False  # signed out (or suspended) between authorize and token
        request.sso_session = session
        return True

    def validate_refresh_token(self, refresh_token: str, client: Any, request: Request,
                               *args: Any, **kwargs: Any) -> bool:
        if not super().validate_refresh_token(refresh_token, client, request, *args, **kwargs):
            return False
        rt = request.refresh_token_instance
        link = TokenSession.objects.filter(refresh_token=rt).first()
        session = _open_session(link.session_id if link else None)
        if session is None or not request.user.is_active:
            return False
        request.sso_session = session
        return True

    def validate_bearer_token(self, token: str, scopes: list[str], request: Request) -> bool:
        if not super().validate_bearer_token(token, scopes, request):
            return False
        user = request.user
        return user is None or bool(user.is_active)

    def _save_bearer_token(self, token: dict[str, Any], request: Request, *args: Any,
                           **kwargs: Any) -> None:
        super()._save_bearer_token(token, request, *args, **kwargs)
        session = getattr(request, "sso_session", None)
        if session is None:
            return
        access = AccessToken.objects.filter(
            token_checksum=token_checksum(token["access_token"])).first()
        refresh = (RefreshToken.objects.filter(
            token_checksum=token_checksum(token["refresh_token"]), revoked__isnull=True).first()
            if token.get("refresh_token") else None)
        if access is not None and not TokenSession.objects.filter(access_token=access).exists():
            TokenSession.objects.create(session=session, access_token=access)
        if refresh is not None and not TokenSession.objects.filter(
                refresh_token=refresh).exists():
            TokenSession.objects.create(session=session, refresh_token=refresh)
        now = timezone.now()
        note_client(session.id, request.client, now)
        if request.grant_type == "authorization_code" and getattr(request, "code", None):
            RedeemedCode.objects.create(checksum=token_checksum(request.code), access_token=access,
                                        refresh_token=refresh, created_at=now)

    @staticmethod
    def _revoke_replayed(code: str) -> None:
        """RFC 6749 §4.1.2: a code used twice revokes the tokens it was exchanged for."""
        used = RedeemedCode.objects.filter(checksum=token_checksum(code)).first()
        if used is None:
            return
        if used.refresh_token_id:
            RefreshToken.objects.filter(pk=used.refresh_token_id, revoked__isnull=True).update(
                revoked=timezone.now())
        if used.access_token_id:
            AccessToken.objects.filter(pk=used.access_token_id).delete()

    def get_id_token_dictionary(self, token: dict[str, Any], token_handler: Any,
                                request: Request) -> tuple[dict[str, Any], Any]:
        claims, expires = super().get_id_token_dictionary(token, token_handler, request)
        session = getattr(request, "sso_session", None)
        if session is not None:
            claims["sid"] = session.sid
            claims["auth_time"] = int(session.started_at.timestamp())
        return claims, expires


def token_checksum(value: str) -> str:
    """How django-oauth-toolkit finds a token (its ``token_checksum`` column)."""
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


__all__ = ["CongvuValidator", "Grant", "claims_of", "token_checksum"]
