"""What congvu adds to django-oauth-toolkit: client settings (logout channels, PKCE,
consent), signing keys in the database (every process sees a rotation), SSO sessions
with the clients that joined them, the tokens issued in each, a durable logout outbox,
and second factors."""

from __future__ import annotations

from django.db import models
from oauth2_provider.models import AccessToken, Application, Grant, RefreshToken

from congvu.accounts.models import Account


class ClientSettings(models.Model):
    """A registered shared application (NT-1.2, NT-10.6: only registered clients)."""

    application = models.OneToOneField(Application, on_delete=models.CASCADE,
                                       related_name="congvu")
    backchannel_logout_uri = models.URLField(max_length=500, blank=True)
    frontchannel_logout_uri = models.URLField(max_length=500, blank=True)
    require_pkce = models.BooleanField(default=True)
    consent = models.BooleanField(default=False)
    #: May call the introspection endpoint (the mail plane's Dovecot).
    resource_server = models.BooleanField(default=False)
    #: Registered by congvu itself (webmail, mail plane): its secret is re-issued at start.
    internal = models.BooleanField(default=False)
    created_at = models.DateTimeField()

    def __str__(self) -> str:
        return self.application.name


class SigningKey(models.Model):
    """An RSA key signing ID and logout tokens. The newest unretired key signs; retired
    keys stay in the JWKS until tokens signed with them have expired."""

    kid = models.CharField(max_length=64, unique=True)
    private_pem = models.TextField()
    created_at = models.DateTimeField()
    retired_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.kid


class SsoSession(models.Model):
    """One sign-in at the provider (the ``sid`` of OpenID Connect logout)."""

    class End(models.TextChoices):
        LOGOUT = "logout"
        EXPIRED = "expired"
        ACCOUNT = "account"  # suspended, locked, deleted
        PASSWORD = "password"  # the password changed or was reset
        OPERATOR = "operator"

    sid = models.CharField(max_length=64, unique=True)
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="sso_sessions")
    session_key = models.CharField(max_length=40, blank=True, db_index=True)
    started_at = models.DateTimeField()
    expires_at = models.DateTimeField(db_index=True)
    ended_at = models.DateTimeField(null=True, blank=True, db_index=True)
    end_reason = models.CharField(max_length=16, choices=End.choices, blank=True)
    remote_addr = models.CharField(max_length=64, blank=True)
    user_agent = models.CharField(max_length=300, blank=True)
    second_factor = models.BooleanField(default=False)

    class Meta:
        indexes = [models.Index(fields=["account", "ended_at"], name="sso_session_open")]

    def __str__(self) -> str:
        return f"{self.sid} ({self.account_id})"


class SessionClient(models.Model):
    """A client that received tokens in a session: it must hear of the session's end."""

    session = models.ForeignKey(SsoSession, on_delete=models.CASCADE, related_name="clients")
    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="+")
    first_at = models.DateTimeField()
    last_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["session", "application"],
                                               name="sso_session_client_once")]

    def __str__(self) -> str:
        return f"{self.session_id}:{self.application_id}"


class GrantSession(models.Model):
    """The session an authorization code was issued in (carried to the token exchange)."""

    grant = models.OneToOneField(Grant, on_delete=models.CASCADE, related_name="+")
    session = models.ForeignKey(SsoSession, on_delete=models.CASCADE, related_name="+")

    def __str__(self) -> str:
        return f"{self.grant_id}:{self.session_id}"


class TokenSession(models.Model):
    """The session an access or refresh token belongs to: ended together."""

    session = models.ForeignKey(SsoSession, on_delete=models.CASCADE, related_name="tokens")
    access_token = models.OneToOneField(AccessToken, null=True, blank=True,
                                        on_delete=models.CASCADE, related_name="+")
    refresh_token = models.OneToOneField(RefreshToken, null=True, blank=True,
                                         on_delete=models.CASCADE, related_name="+")

    def __str__(self) -> str:
        return f"{self.session_id}"


class LogoutDelivery(models.Model):
    """Durable outbox of back-channel logout tokens (QN-3.3 single sign-out): written in
    the transaction that ends the session, POSTed by the worker until a 2xx."""

    session = models.ForeignKey(SsoSession, on_delete=models.CASCADE, related_name="deliveries")
    application = models.ForeignKey(Application, null=True, on_delete=models.SET_NULL,
                                    related_name="+")
    client_name = models.CharField(max_length=255)
    uri = models.URLField(max_length=500)
    logout_token = models.TextField()
    created_at = models.DateTimeField()
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(db_index=True)
    delivered_at = models.DateTimeField(null=True, blank=True, db_index=True)
    given_up_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)

    def __str__(self) -> str:
        return f"{self.client_name} {self.uri}"


class SecondFactor(models.Model):
    """A TOTP authenticator (RFC 6238) enrolled by the account holder."""

    account = models.OneToOneField(Account, on_delete=models.CASCADE,
                                   related_name="second_factor")
    secret = models.CharField(max_length=64)
    created_at = models.DateTimeField()
    confirmed_at = models.DateTimeField(null=True, blank=True)
    #: The last accepted time step: a code is never accepted twice.
    last_step = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"totp:{self.account_id}"


class RedeemedCode(models.Model):
    """An authorization code already exchanged: a replay revokes what it gave
    (RFC 6749 §4.1.2)."""

    checksum = models.CharField(max_length=64, unique=True)
    access_token = models.ForeignKey(AccessToken, null=True, on_delete=models.SET_NULL,
                                     related_name="+")
    refresh_token = models.ForeignKey(RefreshToken, null=True, on_delete=models.SET_NULL,
                                      related_name="+")
    created_at = models.DateTimeField(db_index=True)

    def __str__(self) -> str:
        return self.checksum


class SignInFailure(models.Model):
    """A failed sign-in, counted for throttling per client IP and per account. In the
    database so every server process sees the same count and a restart forgets nothing."""

    class Kind(models.TextChoices):
        IP = "ip"
        ACCOUNT = "acct"

    kind = models.CharField(max_length=4, choices=Kind.choices)
    key = models.CharField(max_length=320)
    at = models.FloatField(help_text="Unix time of the failure.")

    class Meta:
        indexes = [models.Index(fields=["kind", "key", "at"], name="sso_failure_lookup"),
                   models.Index(fields=["at"], name="sso_failure_age")]

    def __str__(self) -> str:
        return f"{self.kind}:{self.key}"


class Passkey(models.Model):
    """A WebAuthn credential (a security key, a phone, a laptop's built-in authenticator)
    registered by the account holder as a second factor."""

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="passkeys")
    #: The holder's own label ("Khoá USB", "Điện thoại").
    name = models.CharField(max_length=64)
    #: The credential ID, base64url without padding (at most 1023 bytes, WebAuthn §5.1).
    credential_id = models.CharField(max_length=1400, unique=True)
    #: The COSE public key from the attested credential data.
    public_key = models.BinaryField()
    #: The authenticator's signature counter: a counter that goes backwards is refused.
    sign_count = models.BigIntegerField(default=0)
    aaguid = models.CharField(max_length=36, blank=True)
    transports = models.JSONField(default=list, blank=True)
    backed_up = models.BooleanField(default=False)
    created_at = models.DateTimeField()
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [models.UniqueConstraint(fields=["account", "name"],
                                               name="sso_passkey_name_once")]

    def __str__(self) -> str:
        return f"passkey:{self.account_id}:{self.name}"
