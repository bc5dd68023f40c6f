"""The Dovecot auth-policy endpoint: NB-7.2a, and robustness against any input."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import http.client
import json
import socket
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from congvu.accounts.models import Account, AccountState
from congvu.audit.models import AuditEvent
from congvu.mail.authpolicy import (
    MAX_BODY,
    AuthPolicyService,
    BadRequest,
    PeerGone,
    classify_report,
    read_http_request,
    serve_auth_policy,
)
from congvu.profiles import Profile
from tests.conftest import at, profile
from tests.factories import account, agency
from tests.mail import (
    FakeClock,
    ServerThread,
    closed_by_peer,
    drive,
    inline_db,
    read_until,
    sync_db,
)

NB = profile("ninh-binh")
ADDRESS = "thanhnn.skhcn@ninhbinh.gov.vn"


def report(login: str = ADDRESS, *, success: bool, **extra: Any) -> dict[str, Any]:
    """What Dovecot 2.3.19 sends with congvu's auth_policy_request_attributes (checked
    against a real Dovecot: ``success``, ``policy_reject`` and ``tls`` are added)."""
    return {"login": login, "protocol": "imap", "remote": "203.0.113.9",
            "session_id": "BGfjoftgQt5/AAAB", "success": success, "policy_reject": False,
            "tls": False, **extra}


FAILURE = report(success=False)
SUCCESS = report(success=True)


def handle_all(svc: AuthPolicyService, items: list[tuple[str, dict[str, Any]]],
               clock: FakeClock | None = None) -> list[dict[str, Any]]:
    async def go() -> list[dict[str, Any]]:
        out = []
        for command, payload in items:
            if clock is not None:
                clock.advance(seconds=5)
            out.append(await svc.handle(command, payload))
        return out

    return drive(go)


def reports(svc: AuthPolicyService, payloads: list[dict[str, Any]]) -> None:
    answers = handle_all(svc, [("report", p) for p in payloads])
    assert answers == [{"status": 0, "msg": ""}] * len(payloads)


def db_service(p: Profile = NB) -> AuthPolicyService:
    return AuthPolicyService(profile_loader=lambda: p, now=FakeClock(at("2026-02-02T09:00")),
                             run_db=sync_db)


def _account(p: Profile = NB) -> Account:
    agency(p, "skhcn", "Sở Khoa học và Công nghệ")
    acct, _otp = account(p, "skhcn", "Nguyễn Ngọc Thành", at("2026-01-15T09:00"))
    return acct


def _reload(acct: Account) -> tuple[str, str, int]:
    acct.refresh_from_db()
    return acct.state, acct.reason, acct.failed_logins


# --- NB-7.2a with the database -------------------------------------------------------------

@pytest.mark.django_db
def test_nb_7_2a_13_consecutive_credential_failures_suspend_12_do_not() -> None:
    acct = _account()
    svc = db_service()
    reports(svc, [FAILURE] * 12)
    assert _reload(acct) == (AccountState.ACTIVE, "", 12)
    reports(svc, [FAILURE])
    assert _reload(acct) == (AccountState.SUSPENDED, "NB-7.2a", 13)
    assert "203.0.113.9" in acct.reason_text and "imap" in acct.reason_text
    event = AuditEvent.objects.filter(action="account.suspend", target=ADDRESS).get()
    assert (event.actor, event.rule) == ("system:auth-policy", "NB-7.2a")


@pytest.mark.django_db
def test_nb_7_2a_the_count_spans_imap_and_submission() -> None:
    acct = _account()
    svc = db_service()
    mixed = [report(success=False, protocol="imap" if i % 2 else "smtp") for i in range(13)]
    reports(svc, mixed)
    assert _reload(acct)[:2] == (AccountState.SUSPENDED, "NB-7.2a")


@pytest.mark.django_db
def test_nb_7_2a_a_success_in_between_resets_the_count() -> None:
    acct = _account()
    svc = db_service()
    reports(svc, [FAILURE] * 12 + [SUCCESS] + [FAILURE] * 12)
    assert _reload(acct) == (AccountState.ACTIVE, "", 12)
    assert acct.last_login == acct.last_activity_at == at("2026-02-02T09:00")


@pytest.mark.django_db
@pytest.mark.parametrize("payload", [
    report(success=False, fail_type="account"),
    report(success=False, fail_type="expired"),
    report(success=False, fail_type="disabled"),
    report(success=False, fail_type="policy"),
    report(success=False, fail_type="internal"),
    report(success=False, fail_type="client"),
    report(success=False, policy_reject=True),
    {"login": ADDRESS, "protocol": "imap"},  # no outcome at all
])
def test_nb_7_2a_non_credential_failures_do_not_count(payload: dict[str, Any]) -> None:
    acct = _account()
    reports(db_service(), [payload] * 20)
    assert _reload(acct) == (AccountState.ACTIVE, "", 0)


@pytest.mark.django_db
def test_nb_7_2a_credentials_fail_type_counts_like_dovecot_2_3_reports() -> None:
    acct = _account()
    svc = db_service()
    reports(svc, [report(success=False, fail_type="credentials")] * 6
            + [report(success=False, fail_type="UNSUPPORTED_VARIABLE_fail_type")] * 6)
    assert _reload(acct) == (AccountState.ACTIVE, "", 12)


@pytest.mark.django_db
def test_nb_7_2a_a_bare_or_capitalised_login_is_the_same_account() -> None:
    acct = _account()
    reports(db_service(), [report("ThanhNN.SKHCN", success=False)] * 7
            + [report(" THANHNN.skhcn@NinhBinh.gov.vn ", success=False)] * 6)
    assert _reload(acct)[:2] == (AccountState.SUSPENDED, "NB-7.2a")


@pytest.mark.django_db
def test_nb_7_2a_unknown_login_is_harmless() -> None:
    acct = _account()
    svc = db_service()
    junk = ["nobody@ninhbinh.gov.vn", "", "a b", "x" * 400, "\x00", "nobody@gmail.com"]
    reports(svc, [report(login, success=ok) for login in junk for ok in (True, False)] * 3)
    reports(svc, [{**FAILURE, "login": 42}, {**FAILURE, "login": None}, {"success": False}])
    assert _reload(acct) == (AccountState.ACTIVE, "", 0)
    assert not AuditEvent.objects.filter(action="account.suspend").exists()


@pytest.mark.django_db
def test_nb_7_2a_not_regulated_profiles_count_but_never_suspend() -> None:
    p = profile("khanh-hoa")
    agency(p, "stttt", "Sở Thông tin và Truyền thông")
    acct, _otp = account(p, "stttt", "Nguyễn Văn An", at("2026-01-15T09:00"))
    reports(db_service(p), [report(acct.address, success=False)] * 30)
    assert _reload(acct) == (AccountState.ACTIVE, "", 30)


@pytest.mark.django_db
def test_nb_7_2a_allow_always_answers_status_0() -> None:
    _account()
    svc = db_service()
    reports(svc, [FAILURE] * 13)
    answers = handle_all(svc, [("allow", {"login": ADDRESS, "remote": "203.0.113.9"})] * 3)
    assert answers == [{"status": 0, "msg": ""}] * 3


# --- Without the database ------------------------------------------------------------------


class Recorder:
    def __init__(self) -> None:
        self.events: list[tuple[str, ...]] = []
        self.broken = False

    def failure(self, profile: Profile, address: str, now: dt.datetime, remote: str,
                protocol: str) -> bool:
        if self.broken:
            raise RuntimeError("database down")
        self.events.append(("failure", address, remote, protocol))
        return False

    def success(self, profile: Profile, address: str, now: dt.datetime, protocol: str) -> bool:
        self.events.append(("success", address))
        return True


def fake_service(recorder: Recorder | None = None) -> AuthPolicyService:
    rec = recorder or Recorder()
    return AuthPolicyService(profile_loader=lambda: NB, now=FakeClock(at("2026-02-02T09:00")),
                             run_db=inline_db, record_failure=rec.failure,
                             record_success=rec.success)


def test_classify_report_follows_dovecot() -> None:
    assert classify_report(SUCCESS) == "success"
    assert classify_report(FAILURE) == "failure"  # Dovecot 2.3: no fail_type
    assert classify_report({**FAILURE, "fail_type": "credentials"}) == "failure"
    assert classify_report({**FAILURE, "fail_type": "account"}) is None
    assert classify_report({**FAILURE, "fail_type": "something-new"}) is None
    assert classify_report({**FAILURE, "policy_reject": True}) is None
    assert classify_report({**FAILURE, "success": "false"}) == "failure"
    assert classify_report({**FAILURE, "success": [1]}) is None
    assert classify_report({}) is None


@pytest.mark.parametrize("mech", ["XOAUTH2", "OAUTHBEARER", "xoauth2"])
def test_nb_7_2a_a_refused_access_token_is_not_a_wrong_password(mech: str) -> None:
    """Webmail retries with a token that just expired: no one is suspended for that."""
    assert classify_report({**FAILURE, "mech": mech}) is None
    assert classify_report({**FAILURE, "mech": "PLAIN"}) == "failure"
    assert classify_report({**SUCCESS, "mech": mech}) == "success"


def test_a_database_failure_still_answers_status_0(caplog: pytest.LogCaptureFixture) -> None:
    rec = Recorder()
    rec.broken = True
    assert handle_all(fake_service(rec), [("report", FAILURE)]) == [{"status": 0, "msg": ""}]
    assert "auth-policy report failed" in caplog.text


def test_unknown_commands_are_bad_requests() -> None:
    with pytest.raises(BadRequest):
        handle_all(fake_service(), [("delete", {})])


# --- HTTP over real sockets --------------------------------------------------------------------


@pytest.fixture
def server() -> Iterator[tuple[ServerThread, Recorder]]:
    rec = Recorder()
    svc = fake_service(rec)
    running = ServerThread(lambda: serve_auth_policy("127.0.0.1", 0, service=svc))
    yield running, rec
    running.stop()


def post(conn: http.client.HTTPConnection, command: str, payload: object,
         path: str = "/") -> tuple[int, dict[str, Any]]:
    conn.request("POST", f"{path}?command={command}", json.dumps(payload),
                 {"Content-Type": "application/json", "User-Agent": "dovecot/auth-policy-client"})
    response = conn.getresponse()
    return response.status, json.loads(response.read())


def test_dovecot_like_keep_alive_session(server: tuple[ServerThread, Recorder]) -> None:
    running, rec = server
    conn = http.client.HTTPConnection("127.0.0.1", running.port, timeout=5)
    assert post(conn, "allow", {"login": ADDRESS}) == (200, {"status": 0, "msg": ""})
    assert post(conn, "report", FAILURE) == (200, {"status": 0, "msg": ""})
    assert post(conn, "allow", {"login": ADDRESS}, path="/policy") == (200, {"status": 0,
                                                                            "msg": ""})
    assert post(conn, "report", SUCCESS) == (200, {"status": 0, "msg": ""})
    conn.close()
    assert rec.events == [("failure", ADDRESS, "203.0.113.9", "imap"), ("success", ADDRESS)]


def raw(running: ServerThread, data: bytes) -> bytes:
    with running.connect() as sock:
        with contextlib.suppress(OSError):
            sock.sendall(data)
        return read_until(sock, b"\0never")


@pytest.mark.parametrize(("data", "status"), [
    (b"GET /?command=allow HTTP/1.1\r\nHost: x\r\n\r\n", b"405"),
    (b"POST /?command=allow HTTP/1.1\r\nHost: x\r\n\r\n", b"411"),
    (b"POST /?command=allow HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello", b"400"),
    (b"POST /?command=allow HTTP/1.1\r\nContent-Length: 2\r\n\r\n[]", b"400"),
    (b"POST /?command=nope HTTP/1.1\r\nContent-Length: 2\r\n\r\n{}", b"400"),
    (b"POST / HTTP/1.1\r\nContent-Length: 2\r\n\r\n{}", b"400"),
    (b"POST /?command=allow HTTP/1.1\r\nContent-Length: %d\r\n\r\n" % (MAX_BODY + 1), b"413"),
    (b"POST /?command=allow HTTP/1.1\r\nContent-Length: -1\r\n\r\n", b"400"),
    (b"POST /?command=allow HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", b"400"),
    (b"POST /?command=allow HTTP/1.1\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n{}",
     b"400"),
    (b"POST /?command=allow HTTP/9.9\r\n\r\n", b"400"),
    (b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n", b"400"),  # a TLS hello
    (b"POST /?command=allow HTTP/1.1\r\nX: " + b"a" * 9000 + b"\r\n\r\n", b"431"),
    (b"POST /?command=allow HTTP/1.1\r\n" + b"X-A: b\r\n" * 150 + b"\r\n", b"431"),
    (b"POST /?command=allow HTTP/1.1\r\nContent-Length: 100\r\n\r\n" + b"[" * 100, b"400"),
])
def test_malformed_requests_get_an_error_and_the_server_keeps_serving(
        server: tuple[ServerThread, Recorder], data: bytes, status: bytes) -> None:
    running, _rec = server
    answer = raw(running, data)
    assert answer.startswith(b"HTTP/1.1 " + status), answer[:80]
    assert b"Connection: close" in answer
    conn = http.client.HTTPConnection("127.0.0.1", running.port, timeout=5)
    assert post(conn, "allow", {}) == (200, {"status": 0, "msg": ""})


def test_deeply_nested_json_is_a_bad_request(server: tuple[ServerThread, Recorder]) -> None:
    running, _rec = server
    body = b"[" * 60000
    answer = raw(running, b"POST /?command=report HTTP/1.1\r\nContent-Length: %d\r\n\r\n%s"
                 % (len(body), body))
    assert answer.startswith(b"HTTP/1.1 400")


def test_expect_100_continue_and_http_1_0(server: tuple[ServerThread, Recorder]) -> None:
    running, _rec = server
    body = json.dumps(SUCCESS).encode()
    answer = raw(running, b"POST /?command=report HTTP/1.0\r\nExpect: 100-continue\r\n"
                 b"Content-Length: %d\r\n\r\n%s" % (len(body), body))
    assert answer.startswith(b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK")
    assert answer.endswith(b'{"status":0,"msg":""}')  # HTTP/1.0: closed after the answer


def test_a_connection_closed_mid_request_is_dropped_quietly(
        server: tuple[ServerThread, Recorder]) -> None:
    running, rec = server
    for data in (b"POST /?command=report HTTP/1.1\r\nContent-Le",
                 b"POST /?command=report HTTP/1.1\r\nContent-Length: 50\r\n\r\n{\"lo"):
        with running.connect() as sock:
            sock.sendall(data)
            sock.shutdown(socket.SHUT_WR)
            assert closed_by_peer(sock)
    assert rec.events == []
    conn = http.client.HTTPConnection("127.0.0.1", running.port, timeout=5)
    assert post(conn, "report", SUCCESS)[0] == 200


# --- Fuzzing -------------------------------------------------------------------------------


async def _drain(data: bytes) -> int:
    reader = asyncio.StreamReader(limit=8 * 1024)
    reader.feed_data(data)
    reader.feed_eof()
    count = 0
    while True:
        try:
            request = await read_http_request(reader, None, idle_timeout=1.0)
        except (BadRequest, PeerGone):
            return count
        if request is None:
            return count
        count += 1
        assert len(request.body) <= MAX_BODY


_REQUEST_PARTS = st.lists(st.sampled_from([
    b"POST /?command=report HTTP/1.1\r\n", b"GET / HTTP/1.0\r\n", b"Content-Length: 2\r\n",
    b"Content-Length: 99999999\r\n", b"Connection: close\r\n", b"Expect: 100-continue\r\n",
    b"\r\n", b"{}", b"\n", b":", b" ", b"\x00", b"\xff",
]) | st.binary(max_size=40), max_size=30).map(b"".join)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=3000) | _REQUEST_PARTS)
def test_fuzz_the_http_parser_always_ends_cleanly(data: bytes) -> None:
    asyncio.run(_drain(data))


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=20)
_REPORTS = st.fixed_dictionaries({}, optional={
    "login": st.sampled_from([ADDRESS, "", "x", "ThanhNN.skhcn"]) | _JSON,
    "success": st.sampled_from([True, False, "true", 0, 1, 2]) | _JSON,
    "policy_reject": st.booleans() | _JSON,
    "fail_type": st.sampled_from(sorted({"credentials", "account", "policy", ""})) | _JSON,
    "remote": _JSON, "protocol": _JSON,
})


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["allow", "report"]), _REPORTS | _JSON),
                min_size=1, max_size=10))
def test_fuzz_the_handler_always_answers_status_0(items: list[tuple[str, Any]]) -> None:
    rec = Recorder()
    answers = handle_all(fake_service(rec), items)
    assert answers == [{"status": 0, "msg": ""}] * len(items)
    # Whatever arrived, only normalised addresses reach the actions.
    assert all(e[1] == e[1].strip().lower() and "@" in e[1] for e in rec.events)


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.binary(max_size=2000) | _REQUEST_PARTS)
def test_fuzz_socket_sessions_keep_serving(server: tuple[ServerThread, Recorder],
                                           data: bytes) -> None:
    running, _rec = server
    with running.connect() as bad:
        with contextlib.suppress(OSError):
            bad.sendall(data)
            bad.shutdown(socket.SHUT_WR)
        assert closed_by_peer(bad)
    conn = http.client.HTTPConnection("127.0.0.1", running.port, timeout=5)
    assert post(conn, "allow", {"login": ADDRESS}) == (200, {"status": 0, "msg": ""})
    conn.close()
