"""``congvu account import FILE``: the same check and write as the console, from the
command line; --dry-run writes nothing; errors stop everything unless --only-valid; the
passwords go once to a new file only the operator can read."""

from __future__ import annotations

import io
import stat
from collections.abc import Callable
from pathlib import Path

import openpyxl
import pytest

from congvu.accounts.models import Account
from congvu.audit.models import AuditEvent
from congvu.profiles import Profile
from tests.factories import agency
from tests.imports.conftest import csv_bytes

pytestmark = pytest.mark.django_db

FILE = csv_bytes("Họ và tên,Cơ quan", "Phan Văn Hùng,stc", "Cúc,stc", "Lê Thị Hoa,stc")


@pytest.fixture
def qn(use_profile: Callable[[str], Profile], tmp_path: Path) -> Path:
    p = use_profile("quang-nam")
    agency(p, "stc", "Sở Tài chính")
    path = tmp_path / "danh-sach.csv"
    path.write_bytes(FILE)
    return path


def test_dry_run_shows_every_row_and_writes_nothing(qn: Path, cli: Callable[..., object]) -> None:
    result = cli("account", "import", str(qn), "--dry-run")
    assert result.exit_code == 0, result.stderr
    out = result.stdout
    assert "Dòng 3: Họ và tên:" in out and "QN-4.1" in out
    assert "hungpv@quangnam.gov.vn" in out and "hoalt@quangnam.gov.vn" in out
    assert "Chưa có gì được ghi" in out
    assert not Account.objects.filter(address="hungpv@quangnam.gov.vn").exists()
    data = cli("account", "import", str(qn), "--dry-run", "--json").json()
    assert data["errors"] == 1 and data["rows_checked"][0]["line"] == 3


def test_errors_stop_the_import_unless_only_valid(qn: Path, tmp_path: Path,
                                                   cli: Callable[..., object]) -> None:
    out = tmp_path / "mat-khau.xlsx"
    result = cli("account", "import", str(qn), "--passwords-out", str(out))
    assert result.exit_code == 2 and "--only-valid" in result.stderr
    assert not out.exists() and not Account.objects.filter(
        address="hungpv@quangnam.gov.vn").exists()
    result = cli("account", "import", str(qn), "--passwords-out", str(out), "--only-valid")
    assert result.exit_code == 0, result.stderr
    assert "2" in result.stdout and str(out) in result.stdout
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    book = openpyxl.load_workbook(io.BytesIO(out.read_bytes()))
    addresses = {r[3] for r in book.worksheets[0].iter_rows(min_row=2, values_only=True)}
    assert addresses == {"hungpv@quangnam.gov.vn", "hoalt@quangnam.gov.vn"}
    assert AuditEvent.objects.filter(action="import.passwords").count() == 1
    again = cli("account", "import", str(qn), "--passwords-out", str(out), "--only-valid")
    assert again.exit_code == 2 and "không bao giờ bị ghi đè" in again.stderr


def test_passwords_out_is_required_to_write(qn: Path, cli: Callable[..., object]) -> None:
    result = cli("account", "import", str(qn), "--only-valid")
    assert result.exit_code == 2 and "--passwords-out" in result.stderr
