"""The mail plane end to end: real Postfix and Dovecot started by ``congvu mail up`` on
loopback ports, real SMTP and IMAP clients, an SMTP sink standing in for the Internet.
Runs on SQLite, and on PostgreSQL when the suite has DATABASE_URL."""

from __future__ import annotations

import concurrent.futures
import imaplib
import json
import os
import shutil
import smtplib
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.header import decode_header, make_header
from pathlib import Path

import pytest

from tests.mail.smtp_sink import Sink, start_sink

CONGVU = str(Path(sys.executable).parent / "congvu")
CAN_RUN = os.geteuid() == 0 and Path("/usr/sbin/postfix").exists() \
    and Path("/usr/sbin/dovecot").exists()
pytestmark = [
    pytest.mark.slow,
    pytest.mark.xdist_group("mail-plane"),
    pytest.mark.skipif(not CAN_RUN, reason="the mail plane needs root and Debian's postfix "
                       "and dovecot (scripts/setup installs them as root)"),
]
TLS = ssl.create_default_context()
TLS.check_hostname = False
TLS.verify_mode = ssl.CERT_NONE  # the deployment's self-signed certificate
GIVEN = ["An", "Bình", "Cường", "Dũng", "Giang", "Hà", "Hải", "Hạnh", "Hùng", "Khánh", "Lan",
         "Long", "Mai", "Minh", "Nga", "Ngọc", "Phúc", "Quân", "Sơn", "Tâm", "Thảo", "Trang",
         "Tuấn", "Vy", "Yến", "Đạt", "Ánh", "Bảo", "Châu", "Diệp"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Account:
    address: str
    password: str


@dataclass
class Plane:
    env: dict[str, str]
    smtp_port: int
    submission_port: int
    imap_port: int
    sink: Sink
    home: Path
    agency: Account | None = None
    names: Iterator[str] = field(default_factory=lambda: iter(GIVEN))

    def cli(self, *args: str, stdin: str | None = None,
            check: bool = True) -> subprocess.CompletedProcess[str]:
        proc = subprocess.run([CONGVU, *args], input=stdin, capture_output=True, text=True,
                              env=self.env, timeout=120)
        if check and proc.returncode != 0:
            raise AssertionError(f"congvu {' '.join(args)}: {proc.stderr}")
        return proc

    def account(self, agency: str = "skhcn") -> Account:
        made = json.loads(self.cli("account", "create", "--agency", agency, "--full-name",
                                   f"Phạm Văn {next(self.names)}", "--json").stdout)
        password = "Kx7#" + uuid.uuid4().hex[:10] + "Q!"
        self.cli("account", "change-password", made["address"],
                 stdin=f"{made['one_time_password']}\n{password}\n")
        return Account(made["address"], password)

    def show(self, address: str) -> dict[str, object]:
        return json.loads(self.cli("account", "show", address, "--json").stdout)

    def submit(self, who: Account, recipients: list[str], *, sender: str | None = None,
               subject: str = "Công văn", body: str = "Nội dung") -> dict[str, object]:
        msg = (f"From: {sender or who.address}\r\nTo: {', '.join(recipients[:3])}\r\n"
               f"Subject: {subject}\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{body}\r\n")
        with smtplib.SMTP("127.0.0.1", self.submission_port, timeout=30) as s:
            s.starttls(context=TLS)
            s.login(who.address, who.password)
            return s.sendmail(sender or who.address, recipients, msg.encode())

    def inbound(self, recipient: str, subject: str = "Từ Internet",
                body: str = "Xin chào") -> None:
        with smtplib.SMTP("127.0.0.1", self.smtp_port, timeout=30) as s:
            s.sendmail("citizen@example.org", [recipient],
                       f"Subject: {subject}\r\n\r\n{body}\r\n".encode())

    def imap(self, who: Account) -> imaplib.IMAP4:
        m = imaplib.IMAP4("127.0.0.1", self.imap_port, timeout=30)
        m.starttls(ssl_context=TLS)
        m.login(who.address, who.password)
        return m

    def subjects(self, who: Account, want: int, seconds: float = 20) -> list[str]:
        """The INBOX's subjects (decoded), waiting up to ``seconds`` for ``want`` of them."""
        deadline = time.monotonic() + seconds
        while True:
            m = self.imap(who)
            m.select("INBOX")
            _typ, data = m.search(None, "ALL")
            found = []
            for num in data[0].split():
                _t, parts = m.fetch(num, "(BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
                raw = parts[0][1].decode().split(":", 1)[1].strip()
                found.append(str(make_header(decode_header(raw))))
            m.logout()
            if len(found) >= want or time.monotonic() > deadline:
                return found
            time.sleep(0.3)


def _wait(predicate, seconds: float = 20) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.2)
    return False


@pytest.fixture(scope="module")
def plane() -> Iterator[Plane]:
    home = Path(tempfile.mkdtemp(prefix="cvm", dir="/tmp"))
    env = {**os.environ, "CONGVU_HOME": str(home), "CONGVU_LANG": "en"}
    base = os.environ.get("DATABASE_URL", "")
    dbname = ""
    if base.startswith("postgres"):
        dbname = f"congvu_mail_{uuid.uuid4().hex[:10]}"
        env["DATABASE_URL"] = base.rsplit("/", 1)[0] + "/" + dbname
    else:
        env["DATABASE_URL"] = ""
    sink = start_sink()
    p = Plane(env, _free_port(), _free_port(), _free_port(), sink, home)
    p.cli("init", "--profile", "ninh-binh")
    p.cli("org", "add", "--abbr", "skhcn", "--name", "Sở Khoa học và Công nghệ")
    box = json.loads(p.cli("account", "create", "--agency", "skhcn", "--agency-mailbox",
                           "--json").stdout)
    p.agency = Account(box["address"], "Cq8#" + uuid.uuid4().hex[:10] + "Z!")
    p.cli("account", "change-password", box["address"],
          stdin=f"{box['one_time_password']}\n{p.agency.password}\n")
    p.cli("mail", "up", "--smtp-port", str(p.smtp_port), "--submission-port",
          str(p.submission_port), "--imap-port", str(p.imap_port),
          "--internet-relay", f"127.0.0.1:{sink.port}", "--listen", "127.0.0.1")
    try:
        yield p
    finally:
        p.cli("mail", "down", check=False)
        p.sink.stop()
        shutil.rmtree(home, ignore_errors=True)
        if dbname:
            import psycopg

            with psycopg.connect(base.rsplit("/", 1)[0] + "/postgres", autocommit=True) as c:
                c.execute(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')


def test_mail_status_reports_running_parts(plane: Plane) -> None:
    status = json.loads(plane.cli("mail", "status", "--json").stdout)
    assert status["running"] is True
    assert status["ports"]["smtp"] == plane.smtp_port
    assert status["ports"]["imap"] == plane.imap_port


def test_two_accounts_mail_each_other_and_read_over_imap(plane: Plane) -> None:
    a, b = plane.account(), plane.account()
    assert plane.submit(a, [b.address], subject="Giay moi hop") == {}
    assert plane.subjects(b, 1) == ["Giay moi hop"]
    box = json.loads(plane.cli("mailbox", "show", b.address, "--json").stdout)
    assert box["messages"] == 1 and box["bytes"] > 0
    assert box["quota_bytes"] == 2048 * 1024 * 1024  # NB-8.1b
    assert plane.show(b.address)["last_login_at"] is not None


def test_external_mail_goes_to_the_internet_relay(plane: Plane) -> None:
    a = plane.account()
    plane.submit(a, ["citizen@example.org"])
    assert _wait(lambda: "citizen@example.org" in plane.sink.recipients())


def test_unknown_recipient_is_refused_at_rcpt(plane: Plane) -> None:
    with pytest.raises(smtplib.SMTPRecipientsRefused) as err:
        plane.inbound("nobody.skhcn@ninhbinh.gov.vn")
    code, text = err.value.recipients["nobody.skhcn@ninhbinh.gov.vn"]
    assert code == 550 and b"5.1.1" in text


def test_nb_7_1_suspended_mailbox_still_receives_but_cannot_sign_in(plane: Plane) -> None:
    a = plane.account()
    plane.cli("account", "suspend", a.address, "--rule", "NB-7.2c", "--reason", "virus")
    plane.inbound(a.address, subject="Van ban den")
    with pytest.raises(imaplib.IMAP4.error):
        plane.imap(a)
    with pytest.raises(smtplib.SMTPAuthenticationError):
        plane.submit(a, [a.address])
    restored = json.loads(plane.cli("account", "restore", a.address, "--json").stdout)
    fresh = Account(a.address, restored["one_time_password"])
    assert "Van ban den" in plane.subjects(fresh, 2)  # and the QN-7.2 notice


def test_qn_7_2_suspension_notifies_the_holder_and_the_agency(plane: Plane) -> None:
    assert plane.agency is not None
    before = len(plane.subjects(plane.agency, 0, seconds=0))
    a = plane.account()
    plane.cli("account", "suspend", a.address, "--rule", "NB-7.2c", "--reason", "lộ mật khẩu")
    subjects = plane.subjects(plane.agency, before + 1)
    assert any(a.address in s and "NB-7.2c" in s for s in subjects)
    assert _wait(lambda: json.loads(plane.cli("mailbox", "show", a.address, "--json").stdout)
                 ["messages"] == 1)


def test_nb_7_4_locked_mailbox_refuses_mail_with_a_permanent_error(plane: Plane) -> None:
    a = plane.account()
    today = time.strftime("%Y-%m-%d")
    plane.cli("account", "leave", a.address, "--effective", today)
    with pytest.raises(smtplib.SMTPRecipientsRefused) as err:
        plane.inbound(a.address)
    code, text = err.value.recipients[a.address]
    assert code == 550 and b"locked" in text and b"NB-7.4" in text
    with pytest.raises(imaplib.IMAP4.error):
        plane.imap(a)


def test_tombstoned_address_is_refused_at_rcpt(plane: Plane) -> None:
    a = plane.account()
    plane.cli("account", "delete", a.address, "--rule", "NB-10.1e")
    with pytest.raises(smtplib.SMTPRecipientsRefused) as err:
        plane.inbound(a.address)
    code, text = err.value.recipients[a.address]
    assert code == 550 and b"no longer in use" in text


def test_sender_must_be_the_signed_in_account(plane: Plane) -> None:
    a, b = plane.account(), plane.account()
    with pytest.raises((smtplib.SMTPSenderRefused, smtplib.SMTPRecipientsRefused)):
        plane.submit(a, [b.address], sender=b.address)
    with pytest.raises((smtplib.SMTPSenderRefused, smtplib.SMTPRecipientsRefused)):
        plane.submit(a, [b.address], sender="boss@gmail.com")


def test_kh_15_1_delegate_sends_as_the_agency_mailbox(plane: Plane) -> None:
    assert plane.agency is not None
    agency_address = plane.agency.address
    clerk, reader = plane.account(), plane.account()
    with pytest.raises((smtplib.SMTPSenderRefused, smtplib.SMTPRecipientsRefused)):
        plane.submit(clerk, [reader.address], sender=agency_address)
    plane.cli("mailbox", "delegate", agency_address, "--to", clerk.address)
    assert plane.submit(clerk, [reader.address], sender=agency_address,
                        subject="Thay mat co quan") == {}
    assert plane.subjects(reader, 1) == ["Thay mat co quan"]


def test_nb_7_2a_thirteenth_bad_password_suspends(plane: Plane) -> None:
    a = plane.account()

    def bad_login(_i: int) -> None:
        with pytest.raises(imaplib.IMAP4.error):
            plane.imap(Account(a.address, "wrong-password"))

    with concurrent.futures.ThreadPoolExecutor(12) as pool:
        list(pool.map(bad_login, range(12)))
    assert plane.show(a.address)["state"] == "active"
    bad_login(13)
    assert _wait(lambda: plane.show(a.address)["state"] == "suspended", 10)
    assert plane.show(a.address)["reason"] == "NB-7.2a"


def test_nb_7_2a_a_success_resets_the_count(plane: Plane) -> None:
    a = plane.account()
    for _ in range(2):
        for _i in range(7):
            with pytest.raises(imaplib.IMAP4.error):
                plane.imap(Account(a.address, "wrong-password"))
        plane.imap(a).logout()
    assert plane.show(a.address)["state"] == "active"


def test_nb_7_2b_251st_external_recipient_suspends_the_sender(plane: Plane) -> None:
    a, colleague = plane.account(), plane.account()
    outside = [f"citizen{i}@example.org" for i in range(251)]
    with smtplib.SMTP("127.0.0.1", plane.submission_port, timeout=60) as s:
        s.starttls(context=TLS)
        s.login(a.address, a.password)
        s.mail(a.address)
        codes = [s.rcpt(r)[0] for r in [colleague.address, *outside]]
        s.rset()
    assert codes[:251] == [250] * 251  # the colleague is internal: never counted
    assert codes[251] == 554 or codes[251] >= 500
    assert _wait(lambda: plane.show(a.address)["state"] == "suspended", 10)
    assert plane.show(a.address)["reason"] == "NB-7.2b"


def test_nb_8_1b_oversized_message_is_refused(plane: Plane) -> None:
    a, b = plane.account(), plane.account()
    with smtplib.SMTP("127.0.0.1", plane.submission_port, timeout=30) as s:
        s.starttls(context=TLS)
        s.ehlo()
        s.login(a.address, a.password)
        code, text = s.mail(a.address, ["SIZE=60000000"])
    assert code == 552 and b"size" in text.lower()
    del b


def test_quota_full_mailbox_is_refused_with_a_clear_error(plane: Plane) -> None:
    a = plane.account()
    _set_quota(plane, a.address, 4000)
    plane.inbound(a.address, subject="first", body="x" * 3000)
    assert plane.subjects(a, 1)
    with pytest.raises(smtplib.SMTPRecipientsRefused) as err:
        plane.inbound(a.address, body="y" * 2000)  # smtplib declares SIZE; Dovecot answers
    code, text = err.value.recipients[a.address]
    assert code == 552 and b"full" in text


def test_nb_4_5_forwarding_only_to_government_domains(plane: Plane) -> None:
    a = plane.account()
    refused = plane.cli("mailbox", "forward", a.address, "--to", "me@gmail.com", check=False)
    assert refused.returncode == 2 and "NB-4.5" not in refused.stdout
    assert "gov.vn" in refused.stderr
    plane.cli("mailbox", "forward", a.address, "--to", "archive@hanoi.gov.vn")
    plane.inbound(a.address, subject="Chuyen tiep")
    assert _wait(lambda: "archive@hanoi.gov.vn" in plane.sink.recipients())
    assert plane.subjects(a, 1) == ["Chuyen tiep"]  # a copy stays


def test_alias_delivers_and_its_name_is_reserved(plane: Plane) -> None:
    a = plane.account()
    plane.cli("alias", "add", "vanthu.skhcn", "--to", a.address)
    plane.inbound("vanthu.skhcn@ninhbinh.gov.vn", subject="Qua bi danh")
    assert plane.subjects(a, 1) == ["Qua bi danh"]
    again = plane.cli("alias", "add", "vanthu.skhcn", "--to", a.address, check=False)
    assert again.returncode == 2


def test_restart_loses_no_accepted_mail(plane: Plane) -> None:
    a = plane.account()
    port = plane.sink.port
    plane.sink.stop()
    plane.submit(a, ["queued@example.org"], subject="Trong hang doi")
    time.sleep(1)
    plane.cli("mail", "down")
    assert json.loads(plane.cli("mail", "status", "--json", check=False).stdout)["running"] \
        is False
    plane.sink = start_sink(port)
    plane.cli("mail", "up")
    subprocess.run(["/usr/sbin/postqueue", "-c", str(plane.home / "mail" / "postfix"), "-f"],
                   check=True)
    assert _wait(lambda: "queued@example.org" in plane.sink.recipients(), 30)


def _set_quota(plane: Plane, address: str, quota: int) -> None:
    sql = (f"UPDATE accounts_mailbox SET quota_bytes = {int(quota)} WHERE account_id = "
           f"(SELECT id FROM accounts_account WHERE address = '{address}')")
    if plane.env["DATABASE_URL"]:
        import psycopg

        with psycopg.connect(plane.env["DATABASE_URL"], autocommit=True) as c:
            c.execute(sql)  # type: ignore[arg-type]
    else:
        import sqlite3

        with sqlite3.connect(plane.home / "congvu.sqlite3") as c:
            c.execute(sql)


@pytest.mark.skipif(shutil.which("swaks") is None, reason="swaks is not installed")
def test_swaks_submits_with_starttls_and_auth_like_a_mail_client(plane: Plane) -> None:
    a, b = plane.account(), plane.account()
    proc = subprocess.run(
        ["swaks", "--server", f"127.0.0.1:{plane.submission_port}", "--tls",
         "--auth", "LOGIN", "--auth-user", a.address, "--auth-password", a.password,
         "--from", a.address, "--to", b.address, "--header", "Subject: Tu swaks",
         "--body", "Noi dung", "--tls-verify"],
        capture_output=True, text=True, timeout=60)
    # The self-signed certificate fails verification: a client that checks it refuses.
    assert proc.returncode != 0
    proc = subprocess.run(
        ["swaks", "--server", f"127.0.0.1:{plane.submission_port}", "--tls",
         "--auth", "LOGIN", "--auth-user", a.address, "--auth-password", a.password,
         "--from", a.address, "--to", b.address, "--header", "Subject: Tu swaks",
         "--body", "Noi dung"],
        capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stdout[-500:]
    assert plane.subjects(b, 1) == ["Tu swaks"]
    refused = subprocess.run(
        ["swaks", "--server", f"127.0.0.1:{plane.submission_port}", "--tls",
         "--auth", "LOGIN", "--auth-user", a.address, "--auth-password", "wrong",
         "--from", a.address, "--to", b.address], capture_output=True, text=True, timeout=60)
    assert refused.returncode != 0 and "535" in refused.stdout


def test_submission_from_header_must_belong_to_the_signed_in_account(plane: Plane) -> None:
    a, b = plane.account(), plane.account()
    msg = (f"From: {b.address}\r\nTo: {b.address}\r\nSubject: Mao danh\r\n\r\nx\r\n").encode()
    with smtplib.SMTP("127.0.0.1", plane.submission_port, timeout=30) as s:
        s.starttls(context=TLS)
        s.login(a.address, a.password)
        with pytest.raises(smtplib.SMTPDataError) as err:
            s.sendmail(a.address, [b.address], msg)
    assert err.value.smtp_code == 550 and b"does not belong" in err.value.smtp_error


def test_sieve_rules_file_incoming_mail(plane: Plane) -> None:
    a = plane.account()
    local, _at, domain = a.address.partition("@")
    home = plane.home / "mail" / "vmail" / domain / local
    home.mkdir(parents=True, exist_ok=True)
    script = home / ".dovecot.sieve"
    script.write_text('require ["fileinto", "mailbox"];\n'
                      'if header :contains "subject" "Giay moi" { fileinto :create "GiayMoi"; }\n')
    uid, gid = 8, 8  # Debian's "mail" user: the mail_uid of the private Dovecot
    for path in (home, script):
        os.chown(path, uid, gid)
    plane.inbound(a.address, subject="Giay moi hop giao ban")
    plane.inbound(a.address, subject="Bao cao tuan")

    def folder_count(name: str) -> int:
        m = plane.imap(a)
        typ, data = m.select(name)
        m.logout()
        return int(data[0]) if typ == "OK" else -1

    assert _wait(lambda: folder_count("GiayMoi") == 1)
    assert folder_count("INBOX") == 1
