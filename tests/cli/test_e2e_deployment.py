"""The real ``congvu`` console script on a fresh deployment (SQLite, or PostgreSQL when
the suite runs with DATABASE_URL), as an operator would use it."""

from __future__ import annotations

import json
import socket
import stat
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

CONGVU = str(Path(sys.executable).parent / "congvu")


def run(env, *args, stdin=None):
    return subprocess.run([CONGVU, *args], input=stdin, capture_output=True, text=True,
                          env=env, timeout=120)


def test_init_prints_a_one_time_password_once(fresh_home) -> None:
    first = run(fresh_home, "init", "--profile", "quang-nam", "--json")
    assert first.returncode == 0, first.stderr
    data = json.loads(first.stdout)
    assert data["operator"] == "quantri@quangnam.gov.vn" and len(data["one_time_password"]) >= 12
    settings = Path(fresh_home["CONGVU_HOME"]) / "congvu.toml"
    assert stat.S_IMODE(settings.stat().st_mode) == 0o600
    again = run(fresh_home, "init", "--profile", "quang-nam", "--json")
    assert again.returncode == 0 and json.loads(again.stdout)["one_time_password"] is None
    other = run(fresh_home, "init", "--profile", "ninh-binh")
    assert other.returncode == 2 and "quang-nam" in other.stderr


def test_two_deployments_never_share_the_operator_password(fresh_home, tmp_path) -> None:
    one = json.loads(run(fresh_home, "init", "--profile", "gia-lai", "--json").stdout)
    env2 = {**fresh_home, "CONGVU_HOME": str(tmp_path / "second")}
    if env2["DATABASE_URL"]:
        env2["DATABASE_URL"] += "_2"
    try:
        two = json.loads(run(env2, "init", "--profile", "gia-lai", "--json").stdout)
        assert one["one_time_password"] != two["one_time_password"]
    finally:
        if env2["DATABASE_URL"]:
            import psycopg

            with psycopg.connect(env2["DATABASE_URL"].rsplit("/", 1)[0] + "/postgres",
                                 autocommit=True) as conn:
                name = env2["DATABASE_URL"].rsplit("/", 1)[1]
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_unknown_profile_is_a_clear_error(fresh_home) -> None:
    r = run(fresh_home, "init", "--profile", "atlantis")
    assert r.returncode == 2 and "ninh-thuan" in r.stderr and "Traceback" not in r.stderr


def test_commands_before_init_explain_what_to_do(fresh_home) -> None:
    r = run(fresh_home, "account", "show", "a@b.gov.vn")
    assert r.returncode == 2 and "congvu init" in r.stderr and "Traceback" not in r.stderr


def test_operator_flow_end_to_end(fresh_home) -> None:
    assert run(fresh_home, "init", "--profile", "ninh-binh").returncode == 0
    assert run(fresh_home, "org", "add", "--abbr", "skhcn", "--name",
               "Sở Khoa học và Công nghệ").returncode == 0
    created = run(fresh_home, "account", "create", "--agency", "skhcn", "--full-name",
                  "Nguyễn Ngọc Thành", "--now", "2026-01-15T09:00", "--json")
    a = json.loads(created.stdout)
    assert a["address"] == "thanhnn.skhcn@ninhbinh.gov.vn"
    changed = run(fresh_home, "account", "change-password", a["address"], "--now",
                  "2026-01-16T09:00", stdin=f"{a['one_time_password']}\nRv7&kLm2Qz\n")
    assert changed.returncode == 0, changed.stderr
    swept = run(fresh_home, "lifecycle", "run", "--now", "2026-07-16T09:00", "--json")
    changes = {c["rule"]: c["addresses"] for c in json.loads(swept.stdout)["changes"]
               if c["count"]}
    assert changes == {"NB-8.2a": [a["address"]]}
    shown = json.loads(run(fresh_home, "account", "show", a["address"], "--json").stdout)
    assert shown["state"] == "active" and shown["must_change_password"] is True
    events = json.loads(run(fresh_home, "audit", "list", "--json").stdout)
    assert [e["action"] for e in events][-3:] == [
        "account.create", "account.change_password", "account.password_expired"]


def test_deployment_overrides_a_profile_value(fresh_home) -> None:
    assert run(fresh_home, "init", "--profile", "quang-nam").returncode == 0
    settings = Path(fresh_home["CONGVU_HOME"]) / "congvu.toml"
    settings.write_text(settings.read_text() + "\n[profile.password]\nmin_length = 14\n")
    run(fresh_home, "org", "add", "--abbr", "sotttt", "--name", "Sở TT&TT")
    a = json.loads(run(fresh_home, "account", "create", "--agency", "sotttt", "--full-name",
                       "Nguyễn Văn Nam", "--json").stdout)
    short = run(fresh_home, "account", "change-password", a["address"],
                stdin=f"{a['one_time_password']}\nRv7&kLm2Qz\n")
    assert short.returncode == 1 and "14" in short.stderr
    good = run(fresh_home, "account", "change-password", a["address"],
               stdin=f"{a['one_time_password']}\nRv7&kLm2Qz#Tp9\n")
    assert good.returncode == 0, good.stderr


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_serve_answers_with_security_headers(fresh_home) -> None:
    assert run(fresh_home, "init", "--profile", "khanh-hoa").returncode == 0
    port = _free_port()
    proc = subprocess.Popen([CONGVU, "serve", "--bind", f"127.0.0.1:{port}"], env=fresh_home,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        for _ in range(100):
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as r:
                    assert json.loads(r.read()) == {"status": "ok", "profile": "khanh-hoa"}
                    break
            except OSError:
                time.sleep(0.1)
        else:
            pytest.fail("congvu serve did not answer")
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as r:
            page = r.read().decode()
            assert "Khánh Hòa" in page and "khanhhoa.gov.vn" in page
            assert "default-src 'self'" in r.headers["Content-Security-Policy"]
            assert r.headers["X-Frame-Options"] == "DENY"
    finally:
        proc.terminate()
        proc.wait(timeout=10)
