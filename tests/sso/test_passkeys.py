"""Passkeys (WebAuthn) as a second factor, driven with django.test.Client and a software
authenticator written here: a P-256 key that builds "none" attestations and assertions
exactly as a browser and a security key would (issue 5)."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import os
from collections.abc import Iterator
from typing import Any

import cbor2
import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from django.contrib.sessions.backends.db import SessionStore
from django.test import Client
from django.utils import timezone, translation
from django.utils.html import escape
from django.utils.translation import gettext

from congvu.accounts.models import Account
from congvu.actors import cli_operator
from congvu.audit.models import AuditEvent
from congvu.errors import CongvuError
from congvu.sso import issuer, passkeys
from congvu.sso.models import Passkey, SsoSession
from tests.factories import OPERATOR, account, agency
from tests.sso.test_sso import NEW, _csrf, change, ready, sign_in

pytestmark = pytest.mark.django_db
ORIGIN = "http://localhost:8000"
RP_ID = "localhost"

UP, UV, AT = 0x01, 0x04, 0x40


def b64u(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64u(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class SoftKey:
    """A software authenticator: one credential, a P-256 key, a signature counter."""

    def __init__(self) -> None:
        self.key = ec.generate_private_key(ec.SECP256R1())
        self.credential_id = os.urandom(32)
        self.count = 0
        self.user_handle = b""

    def _cose(self) -> bytes:
        numbers = self.key.public_key().public_numbers()
        return cbor2.dumps({1: 2, 3: -7, -1: 1, -2: numbers.x.to_bytes(32, "big"),
                            -3: numbers.y.to_bytes(32, "big")})

    @staticmethod
    def _auth_data(rp_id: str, flags: int, count: int, attested: bytes = b"") -> bytes:
        return hashlib.sha256(rp_id.encode()).digest() + bytes([flags]) \
            + count.to_bytes(4, "big") + attested

    @staticmethod
    def _client_data(kind: str, challenge: str, origin: str) -> bytes:
        return json.dumps({"type": kind, "challenge": challenge, "origin": origin,
                           "crossOrigin": False}).encode()

    def create(self, options: dict[str, Any], *, origin: str = ORIGIN) -> str:
        """navigator.credentials.create(): attestation "none"."""
        assert options["rp"]["id"] == RP_ID
        self.user_handle = unb64u(options["user"]["id"])
        client = self._client_data("webauthn.create", options["challenge"], origin)
        attested = bytes(16) + len(self.credential_id).to_bytes(2, "big") \
            + self.credential_id + self._cose()
        auth = self._auth_data(options["rp"]["id"], UP | UV | AT, self.count, attested)
        attestation = cbor2.dumps({"fmt": "none", "attStmt": {}, "authData": auth})
        return json.dumps({"id": b64u(self.credential_id), "rawId": b64u(self.credential_id),
                           "type": "public-key",
                           "response": {"clientDataJSON": b64u(client),
                                        "attestationObject": b64u(attestation),
                                        "transports": ["usb"]}})

    def get(self, options: dict[str, Any], *, origin: str = ORIGIN, count: int | None = None,
            user_handle: bytes | None = None) -> str:
        """navigator.credentials.get(): authenticatorData, clientDataJSON, signature."""
        assert b64u(self.credential_id) in [c["id"] for c in options["allowCredentials"]]
        self.count = self.count + 1 if count is None else count
        client = self._client_data("webauthn.get", options["challenge"], origin)
        auth = self._auth_data(options["rpId"], UP | UV, self.count)
        signature = self.key.sign(auth + hashlib.sha256(client).digest(),
                                  ec.ECDSA(hashes.SHA256()))
        handle = self.user_handle if user_handle is None else user_handle
        return json.dumps({"id": b64u(self.credential_id), "rawId": b64u(self.credential_id),
                           "type": "public-key",
                           "response": {"clientDataJSON": b64u(client),
                                        "authenticatorData": b64u(auth),
                                        "signature": b64u(signature),
                                        "userHandle": b64u(handle)}})


@pytest.fixture
def localhost(nb: Any) -> Iterator[str]:
    """The provider's public URL is http://localhost:8000 (passkeys need a host name)."""
    issuer.record_public_url(ORIGIN)
    yield ORIGIN
    (issuer._path()).unlink(missing_ok=True)
    issuer.public_url.cache_clear()


@pytest.fixture
def person(localhost: str, nb: Any) -> tuple[Account, str]:
    agency(nb, "skhcn", "Sở Khoa học và Công nghệ")
    return account(nb, "skhcn", "Nguyễn Văn An", timezone.now())


def not_yours() -> str:
    """The refusal as the page shows it (Vietnamese, whatever the catalogue says)."""
    with translation.override("vi"):
        return escape(gettext("This passkey is not registered for your account."))


def add_options(c: Client) -> Any:
    page = c.get("/sso/")
    return c.post("/sso/passkeys/add/options/",
                  {"csrfmiddlewaretoken": _csrf(page.content.decode())})


def register(c: Client, key: SoftKey, name: str = "Khoá USB", **kw: Any) -> Any:
    options = add_options(c)
    assert options.status_code == 200, options.content
    credential = key.create(options.json()["publicKey"], **kw)
    return c.post("/sso/passkeys/add/", {"name": name, "credential": credential})


def use(c: Client, key: SoftKey, **kw: Any) -> Any:
    """On the passkey page of a sign-in: ask for options, answer with the key."""
    options = c.post("/sso/passkey/options/")
    assert options.status_code == 200, options.content
    return c.post("/sso/passkey/", {"credential": key.get(options.json()["publicKey"], **kw)})


def signed_in_with(c: Client, acct: Account, key: SoftKey) -> Any:
    assert sign_in(c, acct.address, NEW)["Location"] == "/sso/passkey/"
    return use(c, key)


def with_passkey(acct: Account, otp: str) -> tuple[Client, SoftKey]:
    c, key = Client(), SoftKey()
    ready(c, acct, otp)
    assert register(c, key).status_code == 302
    return c, key


# --- registration --------------------------------------------------------------------


def test_register_then_sign_in_with_the_passkey_instead_of_a_code(person: Any) -> None:
    acct, otp = person
    c, key = Client(), SoftKey()
    ready(c, acct, otp)
    home = c.get("/sso/").content.decode()
    assert 'data-passkey="create"' in home and '<script src="/static/passkeys.js"' in home

    options = add_options(c).json()["publicKey"]
    assert options["rp"]["id"] == RP_ID
    assert options["user"]["id"] == b64u(acct.subject.bytes)  # the subject, not the address
    assert options["authenticatorSelection"]["residentKey"] == "preferred"
    assert options["authenticatorSelection"]["userVerification"] == "preferred"
    assert options["attestation"] == "none"
    done = c.post("/sso/passkeys/add/", {"name": " Khoá  USB ",
                                         "credential": key.create(options)})
    assert done.status_code == 302 and done["Location"] == "/sso/#passkeys"
    pk = Passkey.objects.get(account=acct)
    assert pk.name == "Khoá USB" and pk.credential_id == b64u(key.credential_id)
    assert pk.transports == ["usb"]
    assert "Khoá USB" in c.get("/sso/").content.decode()
    event = AuditEvent.objects.get(action="sso.passkey_add", target=acct.address)
    assert event.actor == f"self:{acct.address}" and event.data["name"] == "Khoá USB"

    # The next sign-in asks for the passkey after the password, no code.
    c2 = Client()
    assert sign_in(c2, acct.address, NEW, "/sso/")["Location"] == "/sso/passkey/"
    page = c2.get("/sso/passkey/").content.decode()
    assert 'data-passkey="get"' in page and 'id="use-code"' not in page
    assert c2.get("/sso/totp/")["Location"] == "/sso/passkey/"
    done = use(c2, key)
    assert done.status_code == 302 and done["Location"] == "/sso/"
    session = SsoSession.objects.filter(account=acct, ended_at__isnull=True).latest("id")
    assert session.second_factor
    pk.refresh_from_db()
    assert pk.sign_count == 1 and pk.last_used_at is not None
    assert c2.get("/sso/").status_code == 200


def test_the_code_page_offers_a_passkey_when_both_exist(person: Any) -> None:
    import pyotp

    from congvu.sso import totp

    acct, otp = person
    _c, key = with_passkey(acct, otp)
    sf = totp.start_enrolment(acct, timezone.now())
    totp.do_confirm_enrolment(account=acct, code=pyotp.TOTP(sf.secret).now(), now=timezone.now())
    c2 = Client()
    assert sign_in(c2, acct.address, NEW)["Location"] == "/sso/totp/"
    page = c2.get("/sso/totp/").content.decode()
    assert 'id="id_code"' in page and 'data-passkey="get"' in page
    # A password alone never reaches the enrolment (and its secret) of an enrolled account.
    assert c2.get("/sso/totp/enrol/")["Location"] == "/sso/totp/"
    # The passkey page, too, leads back to the code.
    assert 'id="use-code"' in c2.get("/sso/passkey/").content.decode()
    assert use(c2, key).status_code == 302  # the passkey instead of the code


def test_names_are_required_and_unique_per_account(person: Any) -> None:
    acct, otp = person
    c, _key = with_passkey(acct, otp)
    again = register(c, SoftKey(), name="Khoá USB")
    assert again.status_code == 400 and "Khoá USB" in again.content.decode()
    empty = register(c, SoftKey(), name="  ")
    assert empty.status_code == 400
    assert register(c, SoftKey(), name="Điện thoại").status_code == 302
    assert list(Passkey.objects.filter(account=acct).values_list("name", flat=True)) == [
        "Khoá USB", "Điện thoại"]


def test_a_credential_is_registered_once(person: Any, nb: Any) -> None:
    acct, otp = person
    c, key = with_passkey(acct, otp)
    same = register(c, key, name="Lần hai")
    assert same.status_code == 400 and Passkey.objects.count() == 1
    other, other_otp = account(nb, "skhcn", "Trần Thị Bình", timezone.now())
    c2 = Client()
    ready(c2, other, other_otp)
    stolen = register(c2, key, name="Của người khác")
    assert stolen.status_code == 400
    assert not Passkey.objects.filter(account=other).exists()


def test_registration_from_another_origin_is_refused(person: Any) -> None:
    acct, otp = person
    c = Client()
    ready(c, acct, otp)
    resp = register(c, SoftKey(), origin="https://evil.example")
    assert resp.status_code == 400
    assert "https://evil.example" in resp.content.decode()
    assert not Passkey.objects.exists()


def test_registration_needs_a_signed_in_holder(person: Any) -> None:
    assert Client().post("/sso/passkeys/add/options/").status_code == 403
    assert Client().get("/sso/passkeys/add/")["Location"].startswith("/sso/login/")


# --- sign-in refusals ----------------------------------------------------------------


def test_an_assertion_from_another_origin_is_refused(person: Any) -> None:
    acct, otp = person
    _c, key = with_passkey(acct, otp)
    c = Client()
    assert sign_in(c, acct.address, NEW)["Location"] == "/sso/passkey/"
    resp = use(c, key, origin="http://localhost:9999")
    assert resp.status_code == 401 and "http://localhost:9999" in resp.content.decode()
    assert not SsoSession.objects.filter(account=acct, second_factor=True).exists()
    assert AuditEvent.objects.filter(action="sso.signin_failed", target=acct.address,
                                     data__second_factor=True).exists()


def test_a_challenge_is_used_once(person: Any) -> None:
    acct, otp = person
    _c, key = with_passkey(acct, otp)
    c = Client()
    sign_in(c, acct.address, NEW)
    options = c.post("/sso/passkey/options/").json()["publicKey"]
    answer = key.get(options)
    assert c.post("/sso/passkey/", {"credential": answer}).status_code == 302
    # Replayed in a new sign-in (its own, newer challenge): refused.
    c2 = Client()
    sign_in(c2, acct.address, NEW)
    c2.post("/sso/passkey/options/")
    replay = c2.post("/sso/passkey/", {"credential": answer})
    assert replay.status_code == 401
    # Replayed with no challenge left in the session: refused as stale.
    again = c2.post("/sso/passkey/", {"credential": answer})
    assert again.status_code == 400 and 'id="error"' in again.content.decode()


def test_a_challenge_expires_after_five_minutes(person: Any) -> None:
    acct, _otp = person
    session = SessionStore()
    now = timezone.now()
    Passkey.objects.create(account=acct, name="x", credential_id="AAAA", public_key=b"",
                           created_at=now)
    passkeys.authentication_options(session, acct, now)
    with pytest.raises(passkeys.PasskeyRefused, match="5"):
        passkeys.take_challenge(session, purpose=passkeys.AUTHENTICATE, account=acct,
                                now=now + dt.timedelta(seconds=301))
    passkeys.authentication_options(session, acct, now)
    with pytest.raises(passkeys.PasskeyRefused):  # a registration challenge is another kind
        passkeys.take_challenge(session, purpose=passkeys.REGISTER, account=acct, now=now)


def test_a_counter_going_backwards_is_refused_and_audited(person: Any) -> None:
    acct, otp = person
    _c, key = with_passkey(acct, otp)
    c = Client()
    sign_in(c, acct.address, NEW)
    assert use(c, key, count=10).status_code == 302
    cloned = Client()
    sign_in(cloned, acct.address, NEW)
    resp = use(cloned, key, count=7)
    assert resp.status_code == 401 and "Khoá USB" in resp.content.decode()
    event = AuditEvent.objects.get(action="sso.passkey_counter_regressed")
    assert event.data == {"name": "Khoá USB", "stored": 10, "received": 7}
    assert Passkey.objects.get(account=acct).sign_count == 10
    same = Client()
    sign_in(same, acct.address, NEW)
    assert use(same, key, count=10).status_code == 401  # equal is not forward either


def test_another_accounts_passkey_is_refused(person: Any, nb: Any) -> None:
    acct, otp = person
    _c, mine = with_passkey(acct, otp)
    other, other_otp = account(nb, "skhcn", "Trần Thị Bình", timezone.now())
    _c2, theirs = with_passkey(other, other_otp)
    c = Client()
    sign_in(c, acct.address, NEW)
    options = c.post("/sso/passkey/options/").json()["publicKey"]
    options["allowCredentials"].append({"id": b64u(theirs.credential_id), "type": "public-key"})
    resp = c.post("/sso/passkey/", {"credential": theirs.get(options)})
    assert resp.status_code == 401
    assert not_yours() in resp.content.decode()
    # Its own credential with a foreign user handle is refused too.
    c2 = Client()
    sign_in(c2, acct.address, NEW)
    forged = use(c2, mine, user_handle=other.subject.bytes)
    assert forged.status_code == 401
    assert not SsoSession.objects.filter(account=acct, second_factor=True).exists()


def test_failed_passkeys_are_throttled_like_wrong_codes(person: Any) -> None:
    acct, otp = person
    _c, key = with_passkey(acct, otp)
    c = Client()
    sign_in(c, acct.address, NEW)
    statuses = [use(c, key, origin="https://evil.example").status_code for _ in range(6)]
    assert statuses == [401] * 5 + [429]


# --- a required second factor ---------------------------------------------------------


def test_a_required_second_factor_is_met_by_a_passkey(localhost: str, nb: Any) -> None:
    from congvu.accounts.actions import do_create_operator

    op, otp = do_create_operator(actor=OPERATOR, profile=nb, local_part="quantri",
                                 now=timezone.now())
    c, key = Client(), SoftKey()
    sign_in(c, op.address, otp)
    assert change(c)["Location"] == "/sso/totp/enrol/"
    page = c.get("/sso/totp/enrol/").content.decode()
    assert 'id="id_code"' in page and 'id="passkey-register"' in page  # both offered
    options = c.post("/sso/passkeys/add/options/").json()["publicKey"]
    done = c.post("/sso/passkeys/add/", {"name": "Điện thoại", "credential": key.create(options)})
    assert done.status_code == 302 and done["Location"] == "/sso/"
    assert SsoSession.objects.get(account=op, ended_at__isnull=True).second_factor

    c2 = Client()
    assert sign_in(c2, op.address, NEW)["Location"] == "/sso/passkey/"
    # A password alone reaches no enrolment while a second factor exists.
    assert c2.get("/sso/totp/enrol/")["Location"] == "/sso/passkey/"
    assert c2.post("/sso/passkeys/add/options/").status_code == 403
    assert use(c2, key).status_code == 302

    # The last passkey of someone who must have a second factor stays.
    pk = Passkey.objects.get(account=op)
    kept = c2.post(f"/sso/passkeys/{pk.pk}/remove/")
    assert kept.status_code == 400 and Passkey.objects.filter(pk=pk.pk).exists()


def test_an_agency_requirement_is_met_by_a_passkey(person: Any, cli: Any) -> None:
    acct, otp = person
    _c, key = with_passkey(acct, otp)
    assert cli("org", "set", acct.agency.account_name, "--require-second-factor").exit_code == 0
    c2 = Client()
    assert sign_in(c2, acct.address, NEW)["Location"] == "/sso/passkey/"
    assert use(c2, key).status_code == 302


# --- removal and reset ---------------------------------------------------------------


def test_the_holder_removes_a_passkey_and_it_is_audited(person: Any) -> None:
    acct, otp = person
    c, key = with_passkey(acct, otp)
    assert register(c, SoftKey(), name="Điện thoại").status_code == 302
    pk = Passkey.objects.get(account=acct, name="Khoá USB")
    done = c.post(f"/sso/passkeys/{pk.pk}/remove/")
    assert done.status_code == 302 and done["Location"] == "/sso/#passkeys"
    assert list(Passkey.objects.filter(account=acct).values_list("name", flat=True)) == [
        "Điện thoại"]
    event = AuditEvent.objects.get(action="sso.passkey_remove")
    assert event.target == acct.address and event.data == {"name": "Khoá USB"}
    # The removed key no longer signs in.
    c2 = Client()
    sign_in(c2, acct.address, NEW)
    options = c2.post("/sso/passkey/options/").json()["publicKey"]
    options["allowCredentials"].append({"id": b64u(key.credential_id), "type": "public-key"})
    assert c2.post("/sso/passkey/", {"credential": key.get(options)}).status_code == 401


def test_nobody_else_removes_my_passkey(person: Any, nb: Any) -> None:
    acct, otp = person
    with_passkey(acct, otp)
    other, other_otp = account(nb, "skhcn", "Trần Thị Bình", timezone.now())
    c = Client()
    ready(c, other, other_otp)
    pk = Passkey.objects.get(account=acct)
    assert c.post(f"/sso/passkeys/{pk.pk}/remove/").status_code == 400
    assert Passkey.objects.filter(pk=pk.pk).exists()


def test_cli_passkey_reset_removes_every_passkey_of_a_lost_device(person: Any,
                                                                  cli: Any) -> None:
    acct, otp = person
    c, _key = with_passkey(acct, otp)
    register(c, SoftKey(), name="Điện thoại")
    done = cli("sso", "passkey-reset", acct.address, "--json")
    assert done.exit_code == 0, done.stderr
    assert done.json() == {"address": acct.address, "removed": ["Khoá USB", "Điện thoại"]}
    assert not Passkey.objects.filter(account=acct).exists()
    event = AuditEvent.objects.get(action="sso.passkey_reset")
    assert event.actor == cli_operator().label
    assert event.data == {"removed": ["Khoá USB", "Điện thoại"]}
    again = cli("sso", "passkey-reset", acct.address)
    assert again.exit_code == 2  # nothing to remove
    # Back to a password-only sign-in (no second factor was required).
    assert sign_in(Client(), acct.address, NEW)["Location"] == "/sso/"


def test_only_an_operator_resets(person: Any) -> None:
    from congvu.sso.actions import self_actor

    acct, _otp = person
    with pytest.raises(CongvuError):
        passkeys.do_reset(actor=self_actor(acct), account=acct, now=timezone.now())


# --- where passkeys cannot be used -----------------------------------------------------


def test_an_ip_address_public_url_offers_no_passkeys(nb: Any) -> None:
    agency(nb, "skhcn", "Sở Khoa học và Công nghệ")
    acct, otp = account(nb, "skhcn", "Nguyễn Văn An", timezone.now())
    assert issuer.public_url() == "http://127.0.0.1:8000" and not passkeys.available()
    c = Client()
    ready(c, acct, otp)
    home = c.get("/sso/").content.decode()
    assert 'id="passkeys-unavailable"' in home and "127.0.0.1" in home
    assert 'data-passkey' not in home
    refused = c.post("/sso/passkeys/add/options/")
    assert refused.status_code == 409 and "127.0.0.1" in refused.json()["error"]


def test_origin_and_rp_id_follow_the_public_url(nb: Any) -> None:
    try:
        issuer.record_public_url("https://sso.ninhbinh.gov.vn:443")
        assert passkeys.rp_id() == "sso.ninhbinh.gov.vn"
        assert passkeys.origin() == "https://sso.ninhbinh.gov.vn"
        issuer.record_public_url("http://localhost:8123")
        assert passkeys.origin() == "http://localhost:8123"
        issuer.record_public_url("http://[::1]:8123")
        assert passkeys.rp_id() is None
    finally:
        issuer._path().unlink(missing_ok=True)
        issuer.public_url.cache_clear()
