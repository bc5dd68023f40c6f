"""The congvu_sso Roundcube plugin's logout-token checks (Back-Channel Logout 1.0 §2.6),
run by PHP's command line with Roundcube's API stubbed: tokens signed here with
jwcrypto, the way congvu's provider signs them."""

from __future__ import annotations

import json
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
from jwcrypto import jwk, jwt

from congvu.webmail.config import PLUGIN_SOURCE

PHP = shutil.which("php")
HARNESS = Path(__file__).parent / "php_harness.php"
ISSUER = "http://127.0.0.1:8000"
CLIENT_ID = "webmail-client"
EVENT = "http://schemas.openid.net/event/backchannel-logout"

pytestmark = pytest.mark.skipif(PHP is None, reason="PHP's command line is not installed "
                                "(Debian's php-cli; scripts/setup installs it)")


@pytest.fixture(scope="module")
def key() -> jwk.JWK:
    return jwk.JWK.generate(kty="RSA", size=2048)


@pytest.fixture
def check(tmp_path: Path, key: jwk.JWK) -> Any:
    jwks = tmp_path / "jwks.json"
    jwks.write_text(json.dumps({"keys": [
        {**json.loads(key.export_public()), "kid": key.thumbprint(), "use": "sig",
         "alg": "RS256"}]}))
    temp = tmp_path / "temp"
    temp.mkdir()
    config = {"congvu_sso_issuer": ISSUER, "oauth_client_id": CLIENT_ID,
              "congvu_sso_jwks_uri": str(jwks), "temp_dir": str(temp)}

    def _check(token: str) -> str:
        assert PHP is not None
        out = subprocess.run([PHP, str(HARNESS), str(PLUGIN_SOURCE / "congvu_sso.php"),
                              json.dumps(config), token], capture_output=True, text=True,
                             timeout=60)
        assert out.returncode == 0, out.stderr
        return out.stdout.strip()

    return _check


def claims(**changes: Any) -> dict[str, Any]:
    now = int(time.time())
    base: dict[str, Any] = {"iss": ISSUER, "aud": CLIENT_ID, "iat": now, "exp": now + 120,
                            "jti": "j1", "sub": "s-1", "sid": "sid-1",
                            "events": {EVENT: {}}}
    base.update(changes)
    return {k: v for k, v in base.items() if v is not None}


def sign(key: jwk.JWK, body: dict[str, Any], *, alg: str = "RS256",
         kid: str | None = "default") -> str:
    header: dict[str, Any] = {"alg": alg, "typ": "logout+jwt"}
    if kid is not None:
        header["kid"] = key.thumbprint() if kid == "default" else kid
    token = jwt.JWT(header=header, claims=body)
    token.make_signed_token(key)
    return str(token.serialize())


def test_a_token_signed_by_the_provider_is_accepted(check: Any, key: jwk.JWK) -> None:
    assert check(sign(key, claims())) == "OK sid-1"


def test_sub_only_and_audience_list_are_accepted(check: Any, key: jwk.JWK) -> None:
    assert check(sign(key, claims(sid=None, aud=["other", CLIENT_ID]))) == "OK -"


def test_a_key_outside_the_jwks_is_refused(check: Any) -> None:
    stranger = jwk.JWK.generate(kty="RSA", size=2048)
    # No kid: the JWKS's only key is tried, and the signature does not match it.
    assert check(sign(stranger, claims(), kid=None)) == "ERR bad signature"
    assert check(sign(stranger, claims(), kid="x")) == "ERR unknown signing key"


def test_a_tampered_token_is_refused(check: Any, key: jwk.JWK) -> None:
    head, _body, sig = sign(key, claims()).split(".")
    other = sign(key, claims(sid="sid-2")).split(".")[1]
    assert check(f"{head}.{other}.{sig}") == "ERR bad signature"


@pytest.mark.parametrize(("changes", "reason"), [
    ({"iss": "http://evil.example"}, "wrong iss"),
    ({"aud": "someone-else"}, "wrong aud"),
    ({"iat": int(time.time()) + 3600}, "iat missing or out of range"),
    ({"iat": None}, "iat missing or out of range"),
    ({"exp": int(time.time()) - 3600}, "expired"),
    ({"events": None}, "missing back-channel logout event"),
    ({"events": {"http://example.org/other": {}}}, "missing back-channel logout event"),
    ({"nonce": "n"}, "a logout_token must not have a nonce"),
    ({"sid": None, "sub": None}, "neither sid nor sub"),
])
def test_claims_are_checked(check: Any, key: jwk.JWK, changes: dict[str, Any],
                            reason: str) -> None:
    assert check(sign(key, claims(**changes))) == f"ERR {reason}"


def test_unsigned_or_symmetric_tokens_are_refused(check: Any, key: jwk.JWK) -> None:
    secret = jwk.JWK.generate(kty="oct", size=256)
    assert check(sign(secret, claims(), alg="HS256", kid=None)) == "ERR unexpected alg"
    assert check("e30.e30.") == "ERR logout_token is not a signed JWT"
    assert check("garbage") == "ERR logout_token is not a signed JWT"


def test_plugin_is_valid_php() -> None:
    assert PHP is not None
    out = subprocess.run([PHP, "-l", str(PLUGIN_SOURCE / "congvu_sso.php")],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stdout + out.stderr
