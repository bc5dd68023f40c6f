"""A non-editable install (a wheel) carries every file congvu reads at run time: templates,
static files, message catalogues, profiles, the webmail plugin. An editable checkout hides
a missing ``package-data`` pattern until an operator installs the wheel."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _runtime_files() -> set[str]:
    found = set()
    for path in (ROOT / "congvu").rglob("*"):
        if path.is_file() and path.suffix not in (".py", ".pyc") \
                and "__pycache__" not in path.parts:
            found.add(path.relative_to(ROOT).as_posix())
    return found


def test_the_wheel_carries_every_runtime_file(tmp_path: Path) -> None:
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                    "-q", "-w", str(tmp_path), str(ROOT)], check=True, capture_output=True,
                   timeout=300, cwd=tmp_path)
    (wheel,) = tmp_path.glob("congvu-*.whl")
    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
    missing = sorted(_runtime_files() - names)
    assert not missing, f"not in the wheel (pyproject package-data): {missing}"
