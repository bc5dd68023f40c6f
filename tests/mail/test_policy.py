"""The Postfix policy service: NB-7.2b, and robustness against any input."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import socket
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from congvu.accounts.models import AccountState
from congvu.audit.models import AuditEvent
from congvu.mail.policy import (
    DUNNO,
    MAX_ATTRIBUTES,
    MAX_LINE,
    TEMPFAIL,
    ExternalCounter,
    PolicyProtocolError,
    PolicyService,
    is_internal,
    read_policy_request,
    serve_policy,
    smtp_text,
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
SENDER = "thanhnn.skhcn@ninhbinh.gov.vn"


def rcpt(recipient: str, sender: str = SENDER, **extra: str) -> dict[str, str]:
    """A request as Postfix sends it at RCPT TO on the submission port."""
    return {"request": "smtpd_access_policy", "protocol_state": "RCPT",
            "protocol_name": "ESMTP", "client_address": "203.0.113.9",
            "sasl_method": "PLAIN", "sasl_username": sender, "sender": sender,
            "recipient": recipient, "recipient_count": "0", "queue_id": "",
            "instance": "1a2b.5e6f.0", "size": "1234", **extra}


def wire(attrs: dict[str, str]) -> bytes:
    return "".join(f"{k}={v}\n" for k, v in attrs.items()).encode() + b"\n"


class Fakes:
    """Database stand-ins for tests that need no rows."""

    def __init__(self) -> None:
        self.suspended: list[tuple[str, int]] = []
        self.state: dict[str, str] = {}
        self.fail = False

    def suspend(self, profile: Profile, address: str, now: dt.datetime, count: int) -> bool:
        if self.fail:
            raise RuntimeError("database down")
        self.suspended.append((address, count))
        self.state[address] = "suspended"
        return True

    def account_state(self, address: str) -> str | None:
        return self.state.get(address)


def service(p: Profile = NB, clock: FakeClock | None = None,
            fakes: Fakes | None = None, **kwargs: object) -> PolicyService:
    fakes = fakes or Fakes()
    return PolicyService(profile_loader=lambda: p, now=clock or FakeClock(at("2026-02-02T09:00")),
                         run_db=inline_db, suspend=fakes.suspend,
                         account_state=fakes.account_state, **kwargs)  # type: ignore[arg-type]


def ask(svc: PolicyService, requests: list[dict[str, str]],
        clock: FakeClock | None = None, step: float = 0.0) -> list[str]:
    async def go() -> list[str]:
        out = []
        for attrs in requests:
            if clock is not None:
                clock.advance(seconds=step)
            out.append(await svc.answer(attrs))
        return out

    return drive(go)


def externals(n: int, start: int = 0, sender: str = SENDER) -> list[dict[str, str]]:
    return [rcpt(f"user{i}@gmail.com", sender) for i in range(start, start + n)]


# --- NB-7.2b with the database ---------------------------------------------------------


@pytest.mark.django_db
def test_nb_7_2b_the_251st_external_recipient_in_10_minutes_is_refused_and_suspends() -> None:
    agency(NB, "skhcn", "Sở Khoa học và Công nghệ")
    acct, _otp = account(NB, "skhcn", "Nguyễn Ngọc Thành", at("2026-01-15T09:00"))
    assert acct.address == SENDER
    clock = FakeClock(at("2026-02-02T09:00"))
    svc = PolicyService(profile_loader=lambda: NB, now=clock, run_db=sync_db)
    answers = ask(svc, externals(251), clock, step=2)  # 251 recipients in 502 seconds
    assert answers[:250] == [DUNNO] * 250
    assert answers[250].startswith("REJECT 5.7.1 NB-7.2b")
    assert "250" in answers[250] and "10" in answers[250] and "ninhbinh.gov.vn" in answers[250]
    assert answers[250].isascii()
    acct.refresh_from_db()
    assert (acct.state, acct.reason) == (AccountState.SUSPENDED, "NB-7.2b")
    assert "251" in acct.reason_text
    assert acct.receives_mail  # NB-7.1
    # Further recipients of the same session, even internal ones, are refused; one
    # suspension only.
    more = ask(svc, [*externals(3, 300), rcpt("vana.stttt@ninhbinh.gov.vn")], clock, step=1)
    assert all(a.startswith("REJECT 5.7.1") for a in more)
    events = AuditEvent.objects.filter(action="account.suspend", target=SENDER)
    assert [(e.actor, e.rule) for e in events] == [("system:policy", "NB-7.2b")]


@pytest.mark.django_db
def test_nb_7_2b_a_restored_sender_may_send_again_after_the_window() -> None:
    from congvu.accounts.actions import do_restore
    from tests.factories import OPERATOR

    agency(NB, "skhcn")
    acct, _otp = account(NB, "skhcn", "Nguyễn Ngọc Thành", at("2026-01-15T09:00"))
    clock = FakeClock(at("2026-02-02T09:00"))
    svc = PolicyService(profile_loader=lambda: NB, now=clock, run_db=sync_db)
    ask(svc, externals(251), clock, step=1)
    clock.advance(minutes=11)
    assert ask(svc, externals(1, 500))[0].startswith("REJECT")  # still suspended in the DB
    do_restore(actor=OPERATOR, profile=NB, account=acct, now=clock())
    clock.advance(minutes=11)
    assert ask(svc, externals(1, 600)) == [DUNNO]


# --- NB-7.2b rules without the database ----------------------------------------------


def test_nb_7_2b_recipients_spread_over_more_than_10_minutes_are_fine() -> None:
    clock = FakeClock(at("2026-02-02T09:00"))
    fakes = Fakes()
    svc = service(clock=clock, fakes=fakes)
    # 600 recipients, one every 2.5 s: never more than 240 in any 10 minutes.
    assert ask(svc, externals(600), clock, step=2.5) == [DUNNO] * 600
    assert fakes.suspended == []


def test_nb_7_2b_the_window_slides() -> None:
    clock = FakeClock(at("2026-02-02T09:00"))
    fakes = Fakes()
    svc = service(clock=clock, fakes=fakes)
    assert ask(svc, externals(250)) == [DUNNO] * 250  # all at 09:00:00
    clock.advance(minutes=10)  # 10 minutes later the 09:00:00 batch has left the window
    assert ask(svc, externals(250, 250)) == [DUNNO] * 250
    clock.advance(minutes=9, seconds=59)
    assert ask(svc, externals(1, 500))[0].startswith("REJECT 5.7.1 NB-7.2b")
    assert fakes.suspended == [(SENDER, 251)]


def test_nb_7_2b_internal_recipients_never_count() -> None:
    fakes = Fakes()
    svc = service(fakes=fakes)
    internal = [rcpt(f"u{i}@ninhbinh.gov.vn") for i in range(1000)]
    internal += [rcpt("Someone@NinhBinh.Gov.VN."), rcpt("<x@ninhbinh.gov.vn>"), rcpt("postmaster")]
    assert ask(svc, internal) == [DUNNO] * len(internal)
    answers = ask(svc, externals(251))
    assert answers[:250] == [DUNNO] * 250 and answers[250].startswith("REJECT")
    assert fakes.suspended == [(SENDER, 251)]


def test_nb_7_2b_subdomains_and_other_provinces_are_outside() -> None:
    for address in ("a@mail.ninhbinh.gov.vn", "a@khanhhoa.gov.vn", "a@ninhbinh.gov.vn.evil.com",
                    '"x@ninhbinh.gov.vn"@gmail.com', "a@[192.0.2.1]"):
        assert not is_internal(address, "ninhbinh.gov.vn"), address
    assert is_internal("a@ninhbinh.gov.vn", "ninhbinh.gov.vn")


def test_nb_7_2b_senders_are_counted_separately_and_by_account() -> None:
    fakes = Fakes()
    svc = service(fakes=fakes)
    other = "vana.stttt@ninhbinh.gov.vn"
    assert ask(svc, externals(250) + externals(250, sender=other)) == [DUNNO] * 500
    # The same account signed in as a bare name or in capitals is the same sender.
    answer = ask(svc, [rcpt("z@gmail.com", sender="ThanhNN.SKHCN")])[0]
    assert answer.startswith("REJECT")
    assert fakes.suspended == [(SENDER, 251)]


def test_nb_7_2b_profiles_without_a_limit_never_refuse() -> None:
    for name in ("khanh-hoa", "quang-nam", "ninh-thuan", "gia-lai"):
        p = profile(name)
        assert p.mail.external_limit == 0
        fakes = Fakes()
        svc = service(p, fakes=fakes)
        sender = f"a@{p.mail.domain}"
        assert ask(svc, externals(1000, sender=sender)) == [DUNNO] * 1000
        assert fakes.suspended == []


def test_nb_7_2b_only_signed_in_rcpt_requests_are_counted() -> None:
    fakes = Fakes()
    svc = service(fakes=fakes)
    inbound = [rcpt(f"x{i}@gmail.com", sasl_username="") for i in range(300)]
    other_stage = [rcpt(f"x{i}@gmail.com", protocol_state="DATA") for i in range(300)]
    not_policy = [rcpt(f"x{i}@gmail.com", request="junk") for i in range(300)]
    assert ask(svc, inbound + other_stage + not_policy) == [DUNNO] * 900
    assert len(svc.counter) == 0


def test_nb_7_2b_a_database_failure_still_refuses_and_retries_the_suspension(
        caplog: pytest.LogCaptureFixture) -> None:
    fakes = Fakes()
    fakes.fail = True
    svc = service(fakes=fakes)
    answers = ask(svc, externals(252))
    assert answers[250].startswith("REJECT") and answers[251].startswith("REJECT")
    assert "could not suspend" in caplog.text
    fakes.fail = False
    assert ask(svc, externals(1, 900))[0].startswith("REJECT")
    assert fakes.suspended == [(SENDER, 251)]


def test_an_internal_error_answers_defer_if_permit(caplog: pytest.LogCaptureFixture) -> None:
    def broken() -> Profile:
        raise RuntimeError("no deployment")

    svc = PolicyService(profile_loader=broken, run_db=inline_db)
    assert ask(svc, [rcpt("a@gmail.com")]) == [TEMPFAIL]
    assert TEMPFAIL == "DEFER_IF_PERMIT 4.3.0 congvu policy service temporary error"
    assert "policy request failed" in caplog.text


def test_a_slow_database_answers_defer_if_permit_instead_of_hanging() -> None:
    async def slow(fn: object) -> object:
        await asyncio.sleep(30)
        raise AssertionError("not reached")

    fakes = Fakes()
    svc = PolicyService(profile_loader=lambda: NB, run_db=slow, suspend=fakes.suspend,  # type: ignore[arg-type]
                        account_state=fakes.account_state, db_timeout=0.05)
    svc.suspended[SENDER] = 0.0  # suspended long ago: the next request asks the database
    assert ask(svc, [rcpt("a@gmail.com")]) == [TEMPFAIL]


def test_the_counter_stays_bounded() -> None:
    counter = ExternalCounter(max_senders=3)
    for i in range(10):
        counter.try_add(f"s{i}", 1000.0 + i, 600, 250)
    assert len(counter) == 3 and "s9" in counter and "s0" not in counter
    # Senders whose entries all left the window are dropped when anyone is touched.
    counter.try_add("fresh", 5000.0, 600, 250)
    assert len(counter) == 1
    # One sender never holds more than the limit.
    for i in range(1000):
        counter.try_add("busy", 6000.0 + i / 100, 600, 250)
    assert counter.count("busy", 6010.0, 600) == 250


def test_smtp_text_is_ascii_without_vietnamese_marks() -> None:
    assert smtp_text("Tài khoản bị tạm khóa: Đơn vị\nx") == "Tai khoan bi tam khoa: Don vi?x"


# --- The protocol over real sockets ------------------------------------------------------


@pytest.fixture
def server() -> Iterator[tuple[ServerThread, Fakes]]:
    fakes = Fakes()
    svc = PolicyService(profile_loader=lambda: NB, now=FakeClock(at("2026-02-02T09:00")),
                        run_db=inline_db, suspend=fakes.suspend,
                        account_state=fakes.account_state)
    running = ServerThread(lambda: serve_policy("127.0.0.1", 0, service=svc))
    yield running, fakes
    running.stop()


def session(sock: socket.socket, requests: list[dict[str, str]]) -> list[str]:
    out = []
    for attrs in requests:
        sock.sendall(wire(attrs))
        out.append(read_until(sock, b"\n\n").decode())
    return out


def test_nb_7_2b_over_a_socket_many_requests_per_connection(
        server: tuple[ServerThread, Fakes]) -> None:
    running, fakes = server
    with running.connect() as sock:
        answers = session(sock, externals(251))
    assert answers[:250] == ["action=DUNNO\n\n"] * 250
    assert answers[250].startswith("action=REJECT 5.7.1 NB-7.2b")
    assert answers[250].endswith("\n\n")
    assert fakes.suspended == [(SENDER, 251)]


def test_requests_split_across_packets_and_crlf_are_understood(
        server: tuple[ServerThread, Fakes]) -> None:
    running, _fakes = server
    with running.connect() as sock:
        data = wire(rcpt("a@gmail.com")).replace(b"\n", b"\r\n")
        for i in range(0, len(data), 7):
            sock.sendall(data[i:i + 7])
        assert read_until(sock, b"\n\n") == b"action=DUNNO\n\n"


@pytest.mark.parametrize("garbage", [
    b"x" * (MAX_LINE + 10) + b"\n\n",  # an over-long line
    b"".join(b"a%d=b\n" % i for i in range(MAX_ATTRIBUTES + 5)) + b"\n",  # too many attributes
    b"request=smtpd_access_policy\nprotocol_state=RC",  # closed mid-request
])
def test_malformed_input_drops_that_connection_only(
        server: tuple[ServerThread, Fakes], garbage: bytes) -> None:
    running, _fakes = server
    with running.connect() as bad, running.connect() as good:
        with contextlib.suppress(OSError):
            bad.sendall(garbage)
            if garbage.endswith(b"RC"):
                bad.shutdown(socket.SHUT_WR)
        assert closed_by_peer(bad)
        assert session(good, [rcpt("a@gmail.com")]) == ["action=DUNNO\n\n"]


def test_lines_without_equals_and_binary_garbage_are_answered_dunno(
        server: tuple[ServerThread, Fakes]) -> None:
    running, _fakes = server
    with running.connect() as sock:
        sock.sendall(b"hello\n\xff\xfe\x00=\x80\n\n")
        assert read_until(sock, b"\n\n") == b"action=DUNNO\n\n"
        assert session(sock, [rcpt("a@gmail.com")]) == ["action=DUNNO\n\n"]


def test_closing_the_server_closes_idle_connections() -> None:
    svc = PolicyService(profile_loader=lambda: NB, run_db=inline_db)

    async def go() -> bool:
        srv = await serve_policy("127.0.0.1", 0, service=svc)
        reader, writer = await asyncio.open_connection("127.0.0.1", srv.port)
        await asyncio.sleep(0.05)
        srv.close()
        await asyncio.wait_for(srv.wait_closed(), 5)
        eof = await asyncio.wait_for(reader.read(), 5) == b""
        writer.close()
        return eof

    assert asyncio.run(go())


# --- Fuzzing -------------------------------------------------------------------------------

_NAMES = st.sampled_from(["request", "protocol_state", "sasl_username", "recipient", "sender",
                          "client_address", "size", "x"]) | st.text(max_size=20)
_VALUES = st.sampled_from(["smtpd_access_policy", "RCPT", "rcpt", "DATA", SENDER, "",
                           "a@gmail.com", "b@ninhbinh.gov.vn", "@", "<>", "a@", "@b"]) \
    | st.text(max_size=60)


async def _drain(data: bytes) -> list[dict[str, str]]:
    reader = asyncio.StreamReader(limit=MAX_LINE)
    reader.feed_data(data)
    reader.feed_eof()
    out: list[dict[str, str]] = []
    while True:
        try:
            attrs = await read_policy_request(reader, 1.0)
        except PolicyProtocolError:
            return out
        if attrs is None:
            return out
        out.append(attrs)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=3000) | st.lists(
    st.binary(max_size=60).map(lambda b: b.replace(b"\n", b"")), max_size=40
).map(lambda lines: b"\n".join(lines) + b"\n\n"))
def test_fuzz_the_parser_always_ends_cleanly(data: bytes) -> None:
    requests = asyncio.run(_drain(data))
    assert all(isinstance(r, dict) and len(r) <= MAX_ATTRIBUTES for r in requests)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.dictionaries(_NAMES, _VALUES, max_size=12), min_size=1, max_size=20))
def test_fuzz_the_service_always_answers_an_action(requests: list[dict[str, str]]) -> None:
    svc = service()
    for answer in ask(svc, requests):
        assert answer == DUNNO or answer.startswith(("REJECT 5.7.1 ", "DEFER_IF_PERMIT"))
        assert "\n" not in answer and answer.isascii()


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.binary(max_size=2000))
def test_fuzz_socket_sessions_keep_serving(server: tuple[ServerThread, Fakes],
                                           data: bytes) -> None:
    running, _fakes = server
    with running.connect() as bad:
        with contextlib.suppress(OSError):
            bad.sendall(data)
            bad.shutdown(socket.SHUT_WR)
        assert closed_by_peer(bad)  # whatever it answered, it ended the connection
    with running.connect() as good:
        assert session(good, [rcpt("a@ninhbinh.gov.vn")]) == ["action=DUNNO\n\n"]
