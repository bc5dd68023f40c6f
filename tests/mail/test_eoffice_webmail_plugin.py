"""The webmail's eOffice button (Roundcube plugin ``congvu_eoffice``): enabled in the
rendered configuration with congvu's hand-over address, installed into the tree Apache
serves with its translations, and valid PHP. The endpoint it calls is tested end to end
with a real access token in ``tests/console/eoffice/test_intake_pages.py``."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from congvu.profiles import load_profile
from congvu.webmail.config import (
    ROUNDCUBE,
    Client,
    MailEndpoints,
    Provider,
    WebmailOptions,
    WebmailPaths,
    build_root,
    render_config,
)

PHP = shutil.which("php")
PLUGIN = Path(__file__).parents[2] / "congvu" / "webmail" / "plugin" / "congvu_eoffice"


def test_the_plugin_is_enabled_with_congvus_handover_address(tmp_path: Path) -> None:
    text = render_config(load_profile("gia-lai"), WebmailPaths(tmp_path),
                         WebmailOptions(port=8025), Provider("https://congvu.gialai.gov.vn"),
                         Client("cid", "secret"), MailEndpoints("127.0.0.1", 2143,
                                                                "127.0.0.1", 2587), "k" * 24)
    assert "$config['plugins'] = ['congvu_sso', 'congvu_eoffice'];" in text
    assert ("$config['congvu_eoffice_url'] = "
            "'https://congvu.gialai.gov.vn/console/eoffice/intake/mail/handover/';") in text
    assert "$config['congvu_eoffice_max_bytes'] = 104857600;" in text


@pytest.mark.skipif(not (ROUNDCUBE / "index.php").exists(),
                    reason="Debian's roundcube is not installed")
def test_build_root_installs_the_plugin_with_its_translations(tmp_path: Path) -> None:
    paths = WebmailPaths(tmp_path)
    build_root(paths)
    installed = paths.plugins_dir / "congvu_eoffice"
    assert (installed / "congvu_eoffice.php").is_file() and not installed.is_symlink()
    vi = (installed / "localization" / "vi_VN.inc").read_text("utf-8")
    assert "Chuyển vào văn bản đến" in vi
    assert (installed / "congvu_eoffice.js").is_file()


@pytest.mark.skipif(PHP is None, reason="PHP's command line is not installed")
@pytest.mark.parametrize("name", ["congvu_eoffice.php", "localization/vi_VN.inc",
                                  "localization/en_US.inc"])
def test_the_plugin_is_valid_php(name: str) -> None:
    out = subprocess.run([str(PHP), "-l", str(PLUGIN / name)], capture_output=True,
                         text=True, check=False)
    assert out.returncode == 0, out.stdout + out.stderr
