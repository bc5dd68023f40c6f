"""One incoming document through the eOffice in a real browser (issue 7, GL-9), each step
as that role in its own browser, signed in through congvu's SSO: the clerk registers a
scanned PDF (the GL-9.1 summary hint appears as she types; the page gives "Số đến"),
the director distributes it to a lead department and a coordinating one (GL-9.3), the
head of the lead department passes it on to a specialist (GL-9.4), and the specialist
records progress, files it into a new work file and records the result (GL-9.6); the
clerk then sees it handled. Screenshots along the way."""

from __future__ import annotations

import contextlib
import datetime as dt
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.browser import Browser
from tests.e2e.conftest import RP_BROWSER_SKIP, Account, LiveProvider

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("sso-e2e"), RP_BROWSER_SKIP]

PDF = (b"%PDF-1.4\n1 0 obj <<>> endobj\n% Cong van UBND tinh\ntrailer <<>>\n%%EOF\n")
SUMMARY = "UBND tỉnh mời họp ngày 10/12 về việc triển khai chuyển đổi số năm 2027"


@contextlib.contextmanager
def browser_for(chromium: Any, provider: LiveProvider, artifacts: Path,
                name: str) -> Iterator[Browser]:
    """One more person's browser (its own cookies), Vietnamese."""
    context = chromium.new_context(locale="vi-VN")
    try:
        page = context.new_page()
        page.set_default_timeout(30_000)
        b = Browser(page, provider, artifacts, name)
        yield b
        with contextlib.suppress(Exception):
            b.shot("cuoi")
        assert not [m for m in b.console if "Content Security Policy" in m], b.console
    finally:
        context.close()


def _office(provider: LiveProvider) -> dict[str, Account]:
    """Sở KH&CN with its Văn phòng and Phòng Quản lý công nghệ; one person per seat."""
    provider.cli("org", "add", "--abbr", "vp", "--name", "Văn phòng Sở", "--parent", "skhcn",
                 "--kind", "department")
    provider.cli("org", "add", "--abbr", "qlcn", "--name", "Phòng Quản lý công nghệ",
                 "--parent", "skhcn", "--kind", "department")
    people = {key: provider.ready_account("skhcn")
              for key in ("clerk", "director", "head", "spec")}
    roles = {"clerk": ("clerk", "vp"), "director": ("director", ""),
             "head": ("department_head", "qlcn"), "spec": ("specialist", "qlcn")}
    grants = "".join(
        f"grant({people[k].address!r}, {role!r}, {dept!r})\n" for k, (role, dept) in roles.items())
    provider.django(
        "from django.utils import timezone\n"
        "from congvu.accounts.models import Account\n"
        "from congvu.actors import Actor\n"
        "from congvu.directory.models import Agency\n"
        "from congvu.eoffice.actions import do_grant_office_role\n"
        "op = Actor(kind='operator', label='test:operator')\n"
        "agency = Agency.objects.get(abbr='skhcn', parent__isnull=True)\n"
        "def grant(address, role, dept):\n"
        "    d = Agency.objects.get(abbr=dept, parent=agency).pk if dept else None\n"
        "    do_grant_office_role(actor=op, account_id=Account.objects.get(address=address).pk,\n"
        "                         agency_id=agency.pk, role=role, department_id=d,\n"
        "                         now=timezone.now())\n" + grants)
    return people


def _label(account: Account) -> str:
    """How the forms name a person."""
    return f"{account.full_name} ({account.address})"


def test_one_incoming_document_from_registration_to_the_work_file(
        browser: Browser, provider: LiveProvider, chromium: Any, artifacts: Path,
        tmp_path: Path, request: pytest.FixtureRequest) -> None:
    issuer = provider.issuer
    people = _office(provider)
    base = f"{issuer}/console/eoffice/incoming/"
    deadline = (dt.date.today() + dt.timedelta(days=14)).isoformat()
    soon = (dt.date.today() + dt.timedelta(days=10)).isoformat()
    scan = tmp_path / "cong-van-ubnd.pdf"
    scan.write_bytes(PDF)

    # The clerk registers the scan.
    clerk = browser
    clerk.open(f"{base}new/")
    clerk.sign_in(people["clerk"], then=f"{base}new/")
    page = clerk.page
    page.set_input_files("#id_file", str(scan))
    page.fill("#id_issuer", "UBND tỉnh")
    page.fill("#id_number_symbol", "1234/UBND-KGVX")
    page.select_option("#id_doc_type", "cong-van")
    page.locator("#id_summary").press_sequentially("V/v Mời họp")
    page.wait_for_selector("#hints-list")  # GL-9.1, as she types (htmx)
    assert "GL-9.1" in page.inner_text("#summary-hints")
    clerk.shot("van-thu-goi-y-trich-yeu")
    page.fill("#id_summary", SUMMARY)
    page.fill("#id_signer", "Nguyễn Văn A")
    page.select_option("#id_urgency", "khan")
    page.fill("#id_page_count", "2")
    page.fill("#id_deadline", deadline)
    clerk.shot("van-thu-vao-so")
    page.click("#save")
    page.wait_for_selector("#facts")
    match = re.search(r"/incoming/(\d+)/$", clerk.url)
    assert match, clerk.url
    doc_url = f"{base}{match.group(1)}/"
    assert "Số đến: 01" in page.inner_text("#messages")
    assert "Khẩn" in page.inner_text("#marks")
    assert "đúng hạn" in page.inner_text("#registered")
    clerk.shot("van-thu-so-den")

    # The director distributes: a lead department and a coordinating one.
    with browser_for(chromium, provider, artifacts, f"{request.node.name}-gd") as director:
        director.open(base)
        director.sign_in(people["director"], then=base)
        p = director.page
        assert "Chờ phân phối" in p.inner_text("#tabs")
        assert SUMMARY in p.inner_text("#incoming")
        p.click(f"a[href='{doc_url.removeprefix(issuer)}']")
        director.arrive(doc_url)
        p.click("#assign-more")  # htmx: one more row
        p.wait_for_selector("#id_assign-4-target")
        p.select_option("#id_assign-1-target", label="Phòng Quản lý công nghệ")
        p.select_option("#id_assign-1-kind", "lead")
        p.fill("#id_assign-1-directions", "Chủ trì tham mưu báo cáo UBND tỉnh")
        p.fill("#id_assign-1-deadline", soon)
        p.select_option("#id_assign-2-target", label="Văn phòng Sở")
        p.select_option("#id_assign-2-kind", "coordinate")
        p.fill("#id_assign-2-deadline", soon)
        director.shot("giam-doc-phan-phoi")
        p.click("#assign-submit")
        p.wait_for_selector("#tree")
        assert "Đã phân phối cho 2 nơi nhận." in p.inner_text("#messages")
        tree = p.inner_text("#tree")
        assert "Chủ trì: Phòng Quản lý công nghệ" in tree and "Phối hợp: Văn phòng Sở" in tree
        director.shot("giam-doc-da-phan-phoi")

    # The head of the lead department passes it on to a specialist.
    with browser_for(chromium, provider, artifacts, f"{request.node.name}-tp") as head:
        head.open(base)
        head.sign_in(people["head"], then=base)
        p = head.page
        assert SUMMARY in p.inner_text("#incoming")
        assert "Chủ trì" in p.inner_text("#incoming")
        head.open(doc_url)
        form_id = p.locator("form[id^='pass-on-']").first.get_attribute("id") or ""
        aid = form_id.removeprefix("pass-on-")
        p.click(f"#act-{aid} > summary")
        p.select_option(f"#id_pass{aid}-1-target", label=_label(people["spec"]))
        p.select_option(f"#id_pass{aid}-1-kind", "handle")
        p.fill(f"#id_pass{aid}-1-directions", "Dự thảo báo cáo, trình trước hạn")
        p.fill(f"#id_pass{aid}-1-deadline", soon)
        head.shot("truong-phong-chuyen")
        p.click(f"#pass-on-submit-{aid}")
        p.wait_for_selector("#messages")
        assert "Đã chuyển xử lý cho 1 người." in p.inner_text("#messages")
        assert people["spec"].full_name in p.inner_text("#tree")

    # The specialist records progress, files it, and records the result.
    with browser_for(chromium, provider, artifacts, f"{request.node.name}-cv") as spec:
        spec.open(base)
        spec.sign_in(people["spec"], then=base)
        p = spec.page
        mine = p.inner_text("#incoming")
        assert SUMMARY in mine and "Dự thảo báo cáo" in mine
        spec.shot("chuyen-vien-viec-cua-toi")
        spec.open(doc_url)
        act = p.locator("details.act").first.get_attribute("id") or ""
        aid = act.removeprefix("act-")
        p.click(f"#{act} > summary")
        p.fill(f"#id_a{aid}-text", "Đã dự thảo báo cáo")
        p.fill(f"#id_a{aid}-percent", "60")
        p.click(f"#progress-submit-{aid}")
        p.wait_for_selector("#messages")
        assert "Đã dự thảo báo cáo (60%)" in p.inner_text("#tree")
        p.fill("#id_new_title", "Chuyển đổi số 2027")
        p.click("#file-submit")
        p.wait_for_selector("#filed-in")
        assert "Chuyển đổi số 2027" in p.inner_text("#filed-in")
        p.click(f"#{act} > summary")
        p.fill(f"#id_a{aid}-result", "Đã báo cáo UBND tỉnh")
        spec.shot("chuyen-vien-ket-qua")
        p.click(f"#result-submit-{aid}")
        p.wait_for_selector("#messages")
        assert "đã được xử lý xong" in p.inner_text("#messages")
        assert p.inner_text("#status").startswith("Đã xử lý")
        spec.open(f"{issuer}/console/eoffice/work-files/")
        p.click("#work-files a")
        assert SUMMARY in p.inner_text("#items")
        spec.shot("chuyen-vien-ho-so")

    # The clerk sees it handled among the agency's registered documents.
    clerk.open(f"{base}?tab=registered")
    assert "Đã xử lý" in page.inner_text("#incoming")
    clerk.shot("van-thu-da-xu-ly")
    assert not [m for m in clerk.console if "Content Security Policy" in m], clerk.console
