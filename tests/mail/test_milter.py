"""The From: header milter on SMTP submission: the envelope sender and From: must belong
to the signed-in account or a mailbox delegated to it (KH-15.1), and robustness against
any input."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import struct
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from congvu.mail.milter import (
    MAX_FROM_BYTES,
    MAX_PACKET,
    SMFIF_SETSYMLIST,
    SMFIP_NOBODY,
    SMFIP_NOCONNECT,
    SMFIP_NODATA,
    SMFIP_NOHELO,
    SMFIP_NOMAIL,
    SMFIP_NORCPT,
    SMFIP_NOUNKNOWN,
    SMFIP_NR_HDR,
    TEMPFAIL_TEXT,
    FromHeaderCheck,
    MilterProtocolError,
    MilterSession,
    allowed_senders_in_db,
    from_addresses,
    packet,
    parse_header,
    parse_macros,
    parse_optneg,
    read_packet,
    serve_milter,
)
from congvu.profiles import Profile
from tests.conftest import at, profile
from tests.factories import OPERATOR, account, agency
from tests.mail import ServerThread, closed_by_peer, drive, inline_db, sync_db

NB = profile("ninh-binh")
ME = "thanhnn.skhcn@ninhbinh.gov.vn"
OTHER = "antv.skhcn@ninhbinh.gov.vn"
AGENCY_BOX = "skhcn@ninhbinh.gov.vn"
ALIAS = "vanthu.skhcn@ninhbinh.gov.vn"
#: What Postfix 3.7 offers: protocol 6, every action, every v6 protocol flag.
POSTFIX_ACTIONS = 0x1FF
POSTFIX_FLAGS = 0x1FFFFF


def refusal(address: str, login: str = ME) -> str:
    return f"550 5.7.1 From: <{address}> does not belong to the signed-in account <{login}>"


def unreadable(login: str = ME) -> str:
    return (f"550 5.7.1 From: header has no readable address; it must name the signed-in "
            f"account <{login}>")


class Lookup:
    """The database stand-in: who may send as what (own address, alias, delegation)."""

    def __init__(self) -> None:
        self.senders = {ME: {ME, ALIAS, AGENCY_BOX}, OTHER: {OTHER}}
        self.calls: list[str] = []
        self.fail = False

    def __call__(self, login: str) -> set[str]:
        self.calls.append(login)
        if self.fail:
            raise RuntimeError("database down")
        return set(self.senders.get(login, set()))


def check(lookup: Lookup | None = None, p: Profile = NB, **kwargs: object) -> FromHeaderCheck:
    return FromHeaderCheck(profile_loader=lambda: p, allowed_senders=lookup or Lookup(),
                           run_db=inline_db, **kwargs)  # type: ignore[arg-type]


def verdict(svc: FromHeaderCheck, login: str | None, values: list[str],
            **kwargs: object) -> str | None:
    async def go() -> str | None:
        return await svc.judge(login, values, **kwargs)  # type: ignore[arg-type]

    return drive(go)


def judge(login: str | None, values: list[str], lookup: Lookup | None = None,
          **kwargs: object) -> str | None:
    return verdict(check(lookup), login, values, **kwargs)


# --- The rule, without sockets -----------------------------------------------------------


def test_kh_15_1_the_own_address_alias_and_delegated_mailbox_pass() -> None:
    for value in (ME, f"Thanh <{ME}>", ALIAS, f"Văn thư <{AGENCY_BOX}>",
                  f"{ME}, {ALIAS}, {AGENCY_BOX}"):
        assert judge(ME, [value]) is None, value


def test_kh_15_1_another_account_in_from_is_refused() -> None:
    assert judge(ME, [f"An <{OTHER}>"]) == refusal(OTHER)
    assert judge(ME, ["boss@gmail.com"]) == refusal("boss@gmail.com")
    # The other account may of course send as itself.
    assert judge(OTHER, [OTHER]) is None


def test_submission_from_header_compares_addresses_and_login_without_case() -> None:
    assert judge(ME, [ME.upper()]) is None
    assert judge("ThanhNN.SKHCN@NinhBinh.gov.vn", [f"<{AGENCY_BOX.title()}>"]) is None
    # A bare login is the account in the profile's domain.
    assert judge("thanhnn.skhcn", [ALIAS]) is None
    reply = judge("THANHNN.SKHCN", [OTHER])
    assert reply == refusal(OTHER)


def test_submission_from_header_the_own_address_passes_even_without_a_row() -> None:
    lookup = Lookup()
    lookup.senders = {}
    assert judge(ME, [ME], lookup) is None
    assert judge(ME, [ALIAS], lookup) == refusal(ALIAS)


def test_submission_from_header_several_headers_and_addresses_must_all_pass() -> None:
    assert judge(ME, [ME, OTHER]) == refusal(OTHER)
    assert judge(ME, [f"{ME}, {OTHER}"]) == refusal(OTHER)
    assert judge(ME, [f'"Thanh, N" <{ME}>, x@gmail.com']) == refusal("x@gmail.com")
    assert judge(ME, [f"team: {ME}, {OTHER};"]) == refusal(OTHER)  # a group
    assert judge(ME, [ME, ALIAS, f"<{AGENCY_BOX}>"]) is None


def test_submission_from_header_encoded_display_names_are_not_addresses() -> None:
    # "Nguyễn Ngọc Thành" encoded (RFC 2047, B and Q), and a long name folded in two.
    b = "=?UTF-8?B?Tmd1eeG7hW4gTmfhu41jIFRow6BuaA==?="
    q = "=?utf-8?q?Nguy=E1=BB=85n=2C_Ng=E1=BB=8Dc_Th=C3=A0nh?="
    assert judge(ME, [f"{b} <{ME}>"]) is None
    assert judge(ME, [f"{q} <{ME}>"]) is None
    assert judge(ME, [f"{b}\n {q}\n <{ME}>"]) is None
    assert judge(ME, [f"{b} <{OTHER}>"]) == refusal(OTHER)
    # A display name that looks like an address is free text; the address decides.
    assert judge(ME, [f'"{OTHER}" <{ME}>']) is None
    assert judge(ME, [f'"{ME}" <{OTHER}>']) == refusal(OTHER)
    # An encoded word where the address belongs is no address of the account.
    encoded = "=?utf-8?b?YW50di5za2hjbkBuaW5oYmluaC5nb3Yudm4=?="  # antv.skhcn@...
    reply = judge(ME, [encoded])
    assert reply is not None and reply.startswith("550 5.7.1 From: ")


def test_submission_from_header_comments_and_source_routes() -> None:
    assert judge(ME, [f"{ME} ({OTHER})"]) is None  # a comment is not an address
    assert judge(ME, [f"<@relay.example:{ME}>"]) is None
    assert judge(ME, [f"<@relay.example:{OTHER}>"]) == refusal(OTHER)


@pytest.mark.parametrize("value", [
    "", " ", "<>", "undisclosed-recipients:;", f"{ME} <{OTHER}>", f"<{ME}> <{OTHER}>",
    f"{ME} {OTHER}", f"{ME}; {OTHER}", f"{ME})<{OTHER}>", "((((", '"unterminated',
    "x:" * 600, "(" * 3000,
])
def test_submission_from_header_unparsable_or_ambiguous_from_is_refused(value: str) -> None:
    reply = judge(ME, [value])
    assert reply is not None and reply.startswith("550 5.7.1 From: "), reply
    assert reply.isascii() and "\n" not in reply


def test_submission_from_header_every_address_either_parser_reads_must_pass() -> None:
    # getaddresses() and email.headerregistry read some headers differently; every
    # address either finds must pass. A bare comma inside an encoded word (not valid
    # RFC 2047) splits the header for getaddresses(): refused, never waved through.
    assert from_addresses([f"=?utf-8?q?Nguyen,_A?= <{ME}>"]) == ["=?utf-8?q?Nguyen", ME]
    assert judge(ME, [f"=?utf-8?q?Nguyen,_A?= <{ME}>"]) == refusal("=?utf-8?q?Nguyen")
    # A quoted local part that needs no quotes is the same mailbox.
    assert from_addresses(['"thanhnn.skhcn"@ninhbinh.gov.vn']) == [ME]
    assert judge(ME, ['Thanh <"thanhnn.skhcn"@NinhBinh.gov.vn>']) is None
    assert judge(ME, ['"thanhnn.skhcn@ninhbinh.gov.vn"@gmail.com']) == refusal(
        '"thanhnn.skhcn@ninhbinh.gov.vn"@gmail.com')


def test_submission_from_header_an_address_only_one_parser_sees_is_judged(
        monkeypatch: pytest.MonkeyPatch) -> None:
    import congvu.mail.milter as milter

    # Were getaddresses() to miss an address the RFC 5322 parser reads, it still counts.
    monkeypatch.setattr(milter, "getaddresses", lambda values: [("", ME)])
    assert from_addresses([f"<{OTHER}>"]) == [ME, OTHER]
    assert judge(ME, [f"<{OTHER}>"]) == refusal(OTHER)


def test_submission_from_header_a_message_without_from_is_allowed() -> None:
    lookup = Lookup()
    assert judge(ME, [], lookup) is None
    assert lookup.calls == []  # nothing to look up


def test_submission_from_header_unauthenticated_sessions_are_never_judged() -> None:
    lookup = Lookup()
    for login in (None, "", "  "):
        assert judge(login, [OTHER, "<>", "garbage"], lookup) is None
    assert lookup.calls == []


def test_submission_from_header_too_long_is_refused_as_unreadable() -> None:
    assert judge(ME, [], overflow=True) == unreadable()


def test_submission_from_header_a_database_failure_answers_tempfail(
        caplog: pytest.LogCaptureFixture) -> None:
    lookup = Lookup()
    lookup.fail = True
    assert judge(ME, [OTHER], lookup) == TEMPFAIL_TEXT
    assert TEMPFAIL_TEXT.startswith("451 4.3.0 ")
    assert "From: check failed" in caplog.text


def test_submission_from_header_a_slow_database_answers_tempfail() -> None:
    async def slow(fn: object) -> object:
        await asyncio.sleep(30)
        raise AssertionError("not reached")

    svc = FromHeaderCheck(profile_loader=lambda: NB, allowed_senders=Lookup(),
                          run_db=slow, db_timeout=0.05)  # type: ignore[arg-type]
    assert verdict(svc, ME, [OTHER]) == TEMPFAIL_TEXT


def test_submission_from_header_no_deployment_answers_tempfail() -> None:
    def broken() -> Profile:
        raise RuntimeError("no deployment")

    svc = FromHeaderCheck(profile_loader=broken, allowed_senders=Lookup(), run_db=inline_db)
    assert verdict(svc, ME, [ME]) == TEMPFAIL_TEXT


def test_submission_from_header_replies_are_printable_ascii() -> None:
    for value in ("Nguyễn <nguyễn@ninhbinh.gov.vn>", "x\x01y@z.vn", "a%b@c.vn",
                  "a" * 400 + "@c.vn", "<a>b@c.vn"):
        reply = judge("Thành\x00", [value])
        assert reply is not None and reply.isascii() and reply.isprintable(), reply
        assert len(reply) < 400


# --- The default lookup, with the database -----------------------------------------------


def _sender_logins(address: str) -> set[str]:
    """What Postfix's sender-logins.cf answers for ``address`` (the rendered query)."""
    from django.db import connection

    from congvu.mail.config import postfix_queries

    query = postfix_queries()["sender-logins.cf"][1].replace("%s", address)
    with connection.cursor() as cursor:
        cursor.execute(query)
        return {row[0] for row in cursor.fetchall()}


@pytest.mark.django_db
def test_kh_15_1_the_database_lookup_is_the_sender_logins_relation() -> None:
    from congvu.mail.actions import do_add_alias, do_delegate

    now = at("2026-01-15T09:00")
    agency(NB, "skhcn", "Sở Khoa học và Công nghệ")
    me, _otp = account(NB, "skhcn", "Nguyễn Ngọc Thành", now)
    other, _otp = account(NB, "skhcn", "Trần Văn An", now)
    third, _otp = account(NB, "skhcn", "Lê Thị Hoa", now)
    assert (me.address, other.address) == (ME, OTHER)
    do_add_alias(actor=OPERATOR, profile=NB, alias="vanthu.skhcn", target=ME, now=now)
    do_add_alias(actor=OPERATOR, profile=NB, alias="tonghop.skhcn", target=OTHER, now=now)
    do_delegate(actor=OPERATOR, profile=NB, address=OTHER, delegate=ME, now=now)

    assert allowed_senders_in_db(ME) == {ME, ALIAS, OTHER}
    assert allowed_senders_in_db(OTHER) == {OTHER, "tonghop.skhcn@ninhbinh.gov.vn"}
    assert allowed_senders_in_db(third.address) == {third.address}
    assert allowed_senders_in_db("nobody@ninhbinh.gov.vn") == set()
    # Exactly the relation Postfix uses for the envelope sender (sender-logins.cf).
    candidates = [ME, OTHER, third.address, ALIAS, "tonghop.skhcn@ninhbinh.gov.vn",
                  "nobody@ninhbinh.gov.vn"]
    for login in (ME, OTHER, third.address):
        assert allowed_senders_in_db(login) == {
            a for a in candidates if login in _sender_logins(a)}, login

    # And through the milter's decision, on this database.
    svc = FromHeaderCheck(profile_loader=lambda: NB, run_db=sync_db)
    assert verdict(svc, ME, [f"An <{OTHER}>", ALIAS.upper()]) is None
    assert verdict(svc, OTHER, [ME]) == refusal(ME, OTHER)
    assert verdict(svc, OTHER, ["tonghop.skhcn@ninhbinh.gov.vn"]) is None
    assert verdict(svc, third.address, [ALIAS]) == refusal(ALIAS, third.address)


# --- A small milter client (the MTA side, as Postfix speaks it) --------------------------


def recv_exact(sock: socket.socket, n: int) -> bytes | None:
    data = b""
    while len(data) < n:
        try:
            chunk = sock.recv(n - len(data))
        except (ConnectionError, TimeoutError):
            return None
        if not chunk:
            return None
        data += chunk
    return data


class MtaClient:
    """Speaks the MTA side of the milter protocol over a real socket."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.flags = 0

    def send(self, command: bytes, data: bytes = b"") -> None:
        self.sock.sendall(packet(command, data))

    def recv(self) -> tuple[bytes, bytes] | None:
        head = recv_exact(self.sock, 4)
        if head is None:
            return None
        (length,) = struct.unpack(">I", head)
        body = recv_exact(self.sock, length)
        return None if body is None else (body[:1], body[1:])

    def ask(self, command: bytes, data: bytes = b"") -> tuple[bytes, bytes] | None:
        self.send(command, data)
        return self.recv()

    def negotiate(self, version: int = 6, actions: int = POSTFIX_ACTIONS,
                  flags: int = POSTFIX_FLAGS) -> tuple[int, int, int, bytes]:
        reply = self.ask(b"O", struct.pack(">III", version, actions, flags))
        assert reply is not None and reply[0] == b"O", reply
        v, a, f = struct.unpack(">III", reply[1][:12])
        self.flags = f
        return v, a, f, reply[1][12:]

    def macros(self, stage: bytes, **values: str) -> None:
        names = {"auth_authen": "{auth_authen}", "i": "i"}
        data = b"".join(names.get(k, k).encode() + b"\0" + v.encode() + b"\0"
                        for k, v in values.items())
        self.send(b"D", stage + data)

    def message(self, headers: list[tuple[str, str]], login: str | None = ME,
                *, eoh: bool = True, end: bool = True) -> list[str]:
        """One message: MAIL (with its macros), headers, end of headers, end of message.
        Returns the replies as text: 'c', or the 'y' reply code."""
        out: list[str] = []
        self.macros(b"M", **({"auth_authen": login} if login is not None else {}),
                    i="", mail_addr=login or "")
        out.append(self._text(self.ask(b"M", f"<{login or ''}>".encode() + b"\0")))
        for name, value in headers:
            self.macros(b"L", i="4ABC123")
            self.send(b"L", name.encode() + b"\0" + value.encode() + b"\0")
            if not self.flags & SMFIP_NR_HDR:
                out.append(self._text(self.recv()))
        if eoh:
            self.macros(b"N", i="4ABC123")
            out.append(self._text(self.ask(b"N")))
            if out[-1] != "c":
                return out
        if end:
            out.append(self._text(self.ask(b"E")))
        return out

    @staticmethod
    def _text(reply: tuple[bytes, bytes] | None) -> str:
        assert reply is not None, "connection closed"
        command, data = reply
        if command == b"y":
            assert data.endswith(b"\0")
            return data[:-1].decode("ascii").replace("%%", "%")
        assert data == b"", reply
        return command.decode()


@pytest.fixture
def lookup() -> Lookup:
    return Lookup()


@pytest.fixture
def server(lookup: Lookup) -> Iterator[ServerThread]:
    running = ServerThread(lambda: serve_milter("127.0.0.1", 0, profile_loader=lambda: NB,
                                                allowed_senders=lookup, run_db=inline_db))
    yield running
    running.stop()


@contextlib.contextmanager
def mta(running: ServerThread, **negotiation: int) -> Iterator[MtaClient]:
    with running.connect() as sock:
        client = MtaClient(sock)
        client.negotiate(**negotiation)
        yield client


# --- The protocol over real sockets ------------------------------------------------------


def test_submission_from_header_negotiation_asks_only_for_what_it_needs(
        server: ServerThread) -> None:
    with server.connect() as sock:
        version, actions, flags, rest = MtaClient(sock).negotiate()
    assert version == 6
    assert actions == SMFIF_SETSYMLIST  # no message changes; only the macro lists
    assert flags & (SMFIP_NOCONNECT | SMFIP_NOHELO | SMFIP_NORCPT | SMFIP_NOBODY
                    | SMFIP_NOUNKNOWN | SMFIP_NODATA | SMFIP_NR_HDR) == flags
    assert flags & SMFIP_NOBODY and flags & SMFIP_NR_HDR and not flags & SMFIP_NOMAIL
    # Macro lists: {auth_authen} with MAIL FROM (SMFIM_ENVFROM = 2), the queue ID at the
    # end of the headers (SMFIM_EOH = 6).
    assert rest == (struct.pack(">I", 2) + b"{auth_authen}\0"
                    + struct.pack(">I", 6) + b"i {auth_authen}\0")


def test_submission_from_header_negotiation_with_an_older_mta(server: ServerThread) -> None:
    with server.connect() as sock:
        client = MtaClient(sock)
        version, actions, flags, rest = client.negotiate(version=2, actions=0x3F,
                                                         flags=0x7F)
        assert (version, actions, rest) == (2, 0, b"")
        assert flags == SMFIP_NOCONNECT | SMFIP_NOHELO | SMFIP_NORCPT | SMFIP_NOBODY
        # Without SMFIP_NR_HDR every header is answered.
        assert client.message([("From", OTHER), ("To", ME)]) == [
            "c", "c", "c", refusal(OTHER)]


def test_kh_15_1_over_a_socket_another_account_in_from_is_refused(
        server: ServerThread) -> None:
    with mta(server) as client:
        assert client.message([("Subject", "x"), ("From", f"An <{OTHER}>")]) == [
            "c", refusal(OTHER)]


def test_kh_15_1_over_a_socket_own_alias_and_delegated_mailbox_pass(
        server: ServerThread) -> None:
    with mta(server) as client:
        for value in (f"Thanh <{ME}>", ALIAS.upper(), f"Văn thư <{AGENCY_BOX}>"):
            assert client.message([("From", value), ("To", OTHER)]) == ["c", "c", "c"]


def test_submission_from_header_over_a_socket_many_messages_per_connection(
        server: ServerThread, lookup: Lookup) -> None:
    with mta(server) as client:
        assert client.message([("From", ME)]) == ["c", "c", "c"]
        assert client.message([("From", ME), ("From", OTHER)]) == ["c", refusal(OTHER)]
        client.send(b"A")  # Postfix aborts the refused message; no reply
        assert client.message([("To", OTHER)]) == ["c", "c", "c"]  # no From: allowed
        # Another signed-in account on the next message (the macros are per message).
        assert client.message([("From", OTHER)], login=OTHER) == ["c", "c", "c"]
        assert client.message([("From", OTHER)], login=None) == ["c", "c", "c"]
        assert client.message([("From", f"{ME},\n\t{OTHER}")]) == ["c", refusal(OTHER)]
    assert lookup.calls == [ME, ME, OTHER, ME]


def test_submission_from_header_an_abort_forgets_the_message(server: ServerThread) -> None:
    with mta(server) as client:
        client.macros(b"M", auth_authen=ME)
        assert client.ask(b"M", b"<x>\0") == (b"c", b"")
        client.send(b"L", b"From\0" + OTHER.encode() + b"\0")
        client.send(b"A")
        # A new message on the same connection, without a From: header this time.
        assert client.message([("Subject", "again")]) == ["c", "c", "c"]


def test_submission_from_header_judged_at_end_of_message_when_eoh_is_skipped(
        server: ServerThread, lookup: Lookup) -> None:
    with mta(server) as client:
        assert client.message([("From", OTHER)], eoh=False) == ["c", refusal(OTHER)]
        assert client.message([("From", ME)], eoh=False) == ["c", "c"]
        # A refusal at the end of the headers stands at the end of the message.
        assert client.message([("From", OTHER)], end=False) == ["c", refusal(OTHER)]
        assert client.message([], end=False) == ["c", "c"]  # nothing carried over
        assert client.ask(b"E") == (b"c", b"")
    assert lookup.calls == [ME, ME, ME]


def test_submission_from_header_other_events_are_answered_continue(
        server: ServerThread) -> None:
    with mta(server, flags=0) as client:  # an MTA that cannot skip anything
        assert client.ask(b"C", b"host\x004\x00\x19127.0.0.1\0") == (b"c", b"")
        assert client.ask(b"H", b"client.example\0") == (b"c", b"")
        client.macros(b"M", auth_authen=ME)
        assert client.ask(b"M", b"<" + ME.encode() + b">\0") == (b"c", b"")
        assert client.ask(b"R", b"<" + OTHER.encode() + b">\0") == (b"c", b"")
        assert client.ask(b"T") == (b"c", b"")
        assert client.ask(b"L", b"From\0" + ME.encode() + b"\0") == (b"c", b"")
        assert client.ask(b"N") == (b"c", b"")
        assert client.ask(b"B", b"body\r\n") == (b"c", b"")
        assert client.ask(b"E") == (b"c", b"")
        assert client.ask(b"U", b"XYZZY\0") == (b"c", b"")


def test_submission_from_header_a_percent_is_escaped_for_postfix(server: ServerThread) -> None:
    with mta(server) as client:
        client.macros(b"M", auth_authen=ME)
        client.ask(b"M", b"<x>\0")
        client.send(b"L", b"From\0a%b@evil.example\0")
        command, data = client.ask(b"N") or (b"", b"")
    assert command == b"y"
    assert data == (b"550 5.7.1 From: <a%%b@evil.example> does not belong to the signed-in "
                    b"account <" + ME.encode() + b">\0")


def test_submission_from_header_quit_closes_and_quit_nc_keeps_the_connection(
        server: ServerThread) -> None:
    with mta(server) as client:
        client.send(b"K")
        assert client.message([("From", ME)]) == ["c", "c", "c"]
        client.send(b"Q")
        assert closed_by_peer(client.sock)


@pytest.mark.parametrize("garbage", [
    struct.pack(">I", MAX_PACKET + 1) + b"L",  # oversized
    struct.pack(">I", 0),  # empty packet
    packet(b"Z", b"what"),  # unknown command
    packet(b"O", b"\0\0\0\x06"),  # negotiation too short
    packet(b"O", struct.pack(">III", 1, 0, 0)),  # protocol version 1
    struct.pack(">I", 100) + b"Lpartial",  # closed inside a packet
    b"\0\0",  # closed inside a length
], ids=["oversized", "empty", "unknown", "short-optneg", "version-1", "truncated",
        "short-length"])
def test_malformed_input_drops_that_connection_only(server: ServerThread,
                                                    garbage: bytes) -> None:
    with server.connect() as bad, mta(server) as good:
        with contextlib.suppress(OSError):
            bad.sendall(garbage)
            bad.shutdown(socket.SHUT_WR)
        assert closed_by_peer(bad)
        assert good.message([("From", OTHER)]) == ["c", refusal(OTHER)]


@pytest.mark.parametrize("garbage", [
    packet(b"L", b"From-without-a-NUL"),
    packet(b"D", b""),
    packet(b"Z"),
    struct.pack(">I", MAX_PACKET + 1),
])
def test_malformed_packets_after_negotiation_close_the_connection(
        server: ServerThread, garbage: bytes) -> None:
    with mta(server) as bad:
        bad.sock.sendall(garbage)
        assert closed_by_peer(bad.sock)
    with mta(server) as good:
        assert good.message([("From", ME)]) == ["c", "c", "c"]


def test_commands_before_negotiation_close_the_connection(server: ServerThread) -> None:
    with server.connect() as sock:
        sock.sendall(packet(b"M", b"<x>\0"))
        assert closed_by_peer(sock)


def test_closing_the_server_closes_idle_connections() -> None:
    async def go() -> bool:
        srv = await serve_milter("127.0.0.1", 0, profile_loader=lambda: NB,
                                 allowed_senders=Lookup(), run_db=inline_db)
        reader, writer = await asyncio.open_connection("127.0.0.1", srv.port)
        await asyncio.sleep(0.05)
        srv.close()
        await asyncio.wait_for(srv.wait_closed(), 5)
        eof = await asyncio.wait_for(reader.read(), 5) == b""
        writer.close()
        return eof

    assert asyncio.run(go())


def test_an_idle_peer_is_dropped() -> None:
    async def go() -> bytes:
        srv = await serve_milter("127.0.0.1", 0, profile_loader=lambda: NB,
                                 allowed_senders=Lookup(), run_db=inline_db,
                                 idle_timeout=0.1)
        reader, writer = await asyncio.open_connection("127.0.0.1", srv.port)
        data = await asyncio.wait_for(reader.read(), 5)
        writer.close()
        srv.close()
        await srv.wait_closed()
        return data

    assert asyncio.run(go()) == b""


def test_a_from_header_past_the_size_limit_is_refused(server: ServerThread) -> None:
    with mta(server) as client:
        big = ", ".join([ME] * (MAX_FROM_BYTES // len(ME) + 2))
        assert client.message([("From", big)]) == ["c", unreadable()]
        many = [("From", ME)] * 40
        assert client.message(many) == ["c", unreadable()]
        assert client.message([("From", ME)]) == ["c", "c", "c"]


# --- Fuzzing -------------------------------------------------------------------------------

_COMMANDS = st.sampled_from([b"O", b"D", b"C", b"H", b"M", b"R", b"L", b"N", b"B", b"E",
                             b"A", b"T", b"U", b"K", b"Z", b"\0", b"y", b"Q"])
_DATA = st.binary(max_size=200) | st.sampled_from([
    struct.pack(">III", 6, POSTFIX_ACTIONS, POSTFIX_FLAGS), b"From\0" + OTHER.encode() + b"\0",
    b"M{auth_authen}\0" + ME.encode() + b"\0", b"from\0<>\0", b"", b"\0", b"M",
    b"From\0" + ME.encode() + b"\0"])
_PACKETS = st.lists(st.tuples(_COMMANDS, _DATA), max_size=25)


async def _drain(data: bytes) -> list[tuple[bytes, bytes]]:
    reader = asyncio.StreamReader()
    reader.feed_data(data)
    reader.feed_eof()
    out: list[tuple[bytes, bytes]] = []
    while True:
        try:
            got = await read_packet(reader, 1.0)
        except MilterProtocolError:
            return out
        if got is None:
            return out
        out.append(got)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=3000) | _PACKETS.map(
    lambda ps: b"".join(packet(c, d) for c, d in ps)))
def test_fuzz_the_packet_reader_always_ends_cleanly(data: bytes) -> None:
    packets = asyncio.run(_drain(data))
    assert all(len(c) == 1 and len(d) < MAX_PACKET for c, d in packets)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=300))
def test_fuzz_the_packet_parsers_raise_only_protocol_errors(data: bytes) -> None:
    for parse in (parse_macros, parse_header, parse_optneg):
        with contextlib.suppress(MilterProtocolError):
            parse(data)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.text(max_size=120) | st.sampled_from(
    [ME, OTHER, f"A <{ME}>", "<>", '"', "(", "=?utf-8?q?a,b?=", "a@b, c@d", "g: a@b;"]),
    max_size=4))
def test_fuzz_from_headers_always_get_a_verdict(values: list[str]) -> None:
    addresses = from_addresses(values)
    assert addresses is None or all(isinstance(a, str) and a for a in addresses)
    reply = judge(ME, values)
    assert reply is None or reply.startswith("550 5.7.1 From: ")
    assert reply is None or (reply.isascii() and reply.isprintable())


def _well_formed(reply: bytes | None) -> bool:
    if reply is None:
        return True
    (length,) = struct.unpack(">I", reply[:4])
    return length == len(reply) - 4 and reply[4:5] in (b"O", b"c", b"y")


#: Commands the MTA sends without waiting for a reply.
_NO_REPLY = {b"D", b"A", b"K", b"Q"}


@settings(max_examples=300, deadline=None)
@given(_PACKETS)
def test_fuzz_random_packet_sequences_answer_or_close(packets: list[tuple[bytes, bytes]]) -> None:
    async def go() -> None:
        session = MilterSession(check())
        for command, data in packets:
            try:
                reply = await session.handle(command, data)
            except MilterProtocolError:
                return
            assert _well_formed(reply)
            if reply is None:
                assert command in _NO_REPLY or (
                    command == b"L" and session.flags & SMFIP_NR_HDR), command
            if session.closed:
                return

    asyncio.run(go())


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.binary(max_size=2000) | _PACKETS.map(
    lambda ps: b"".join(packet(c, d) for c, d in ps)))
def test_fuzz_socket_sessions_keep_serving(server: ServerThread, data: bytes) -> None:
    with server.connect() as bad:
        with contextlib.suppress(OSError):
            bad.sendall(packet(b"O", struct.pack(">III", 6, POSTFIX_ACTIONS, POSTFIX_FLAGS))
                        + data)
            bad.shutdown(socket.SHUT_WR)
        # Whatever it answered came as whole, well-formed packets, and then it closed.
        replies = MtaClient(bad)
        first = replies.recv()
        assert first is not None and first[0] == b"O"
        while (reply := replies.recv()) is not None:
            assert reply[0] in (b"c", b"y", b"O"), reply  # O: a renegotiation
        assert closed_by_peer(bad)
    with mta(server) as good:
        assert good.message([("From", OTHER)]) == ["c", refusal(OTHER)]
