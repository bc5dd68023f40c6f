"""One outgoing draft through the eOffice in a real browser (issue 7, GL-10), each person
in their own browser context, signed in through congvu's SSO sign-in page: the
specialist drafts and submits; the head of department returns it with a comment (round
1); the specialist uploads a new version and resubmits; the head forwards (round 2); the
deputy director, a leader of the agency, approves (round 3; the director distributes in
the incoming walk, so the two walks take every eOffice role, GL-12..15); the clerk
numbers it (``Số: N/QĐ-…``), adds the signed PDF and issues it to a department and an
official e-mail address (KH-7). Screenshots of every step into ``$CONGVU_ARTIFACTS``."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.browser import Browser
from tests.e2e.conftest import CHROMIUM, Account, LiveProvider

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("sso-e2e"),
              pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="needs Debian's chromium")]

SUMMARY = "Quyết định ban hành Quy chế quản lý và sử dụng hệ thống văn bản điều hành"
DOCX = b"PK\x03\x04" + "Dự thảo".encode() + b"\x00" * 32
PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\n% signed\ntrailer <<>>\n%%EOF\n"

_SETUP = """
import json
from django.utils import timezone
from congvu.accounts.models import Account
from congvu.actors import Actor
from congvu.directory.models import Agency
from congvu.eoffice import actions
op, now = Actor(kind="operator", label="e2e:operator"), timezone.now()
agency = Agency.objects.get(account_name="skhcn")
unit = Agency.objects.get(parent=agency, abbr="qlkh")
grants = json.loads({grants!r})
for address, role, department in grants:
    actions.do_grant_office_role(
        actor=op, account_id=Account.objects.get(address=address).pk, agency_id=agency.pk,
        role=role, department_id=unit.pk if department else None, now=now)
actions.do_set_agency_symbol(actor=op, agency_id=agency.pk, symbol="SKHCN", now=now)
print(json.dumps({{"unit": unit.pk}}))
"""


@pytest.fixture
def people(provider: LiveProvider) -> dict[str, Any]:
    """Sở KH&CN with its Phòng Quản lý khoa học; a specialist and the head there, the
    deputy director and the clerk, each with their eOffice role."""
    provider.cli("org", "add", "--abbr", "qlkh", "--name", "Phòng Quản lý khoa học",
                 "--parent", "skhcn", "--kind", "department")
    who = {role: provider.ready_account("skhcn")
           for role in ("specialist", "department_head", "deputy_director", "clerk")}
    grants = [(acc.address, role, role in ("specialist", "department_head"))
              for role, acc in who.items()]
    made = json.loads(provider.django(_SETUP.format(grants=json.dumps(grants))))
    return {**who, "unit": made["unit"]}


@pytest.fixture
def contexts(chromium: Any) -> Iterator[list[Any]]:
    opened: list[Any] = []
    yield opened
    for context in opened:
        context.close()


def test_one_outgoing_draft_through_two_rounds_to_number_and_issue(
        chromium: Any, provider: LiveProvider, artifacts: Path, people: dict[str, Any],
        contexts: list[Any], request: pytest.FixtureRequest) -> None:
    issuer = provider.issuer
    folder = artifacts.parent / "eoffice-outgoing"
    folder.mkdir(parents=True, exist_ok=True)
    browsers: dict[str, Browser] = {}

    def as_(role: str, url: str) -> Browser:
        """``role``'s own browser context on ``url`` (signing in the first time)."""
        if role not in browsers:
            context = chromium.new_context(locale="vi-VN")
            contexts.append(context)
            page = context.new_page()
            page.set_default_timeout(20_000)
            b = Browser(page, provider, folder, f"{request.node.name}-{role}")
            b.open(url)
            account: Account = people[role]
            b.sign_in(account, then=url)
            browsers[role] = b
        else:
            browsers[role].open(url)
        return browsers[role]

    # The specialist drafts and submits (GL-10.1).
    spec = as_("specialist", f"{issuer}/console/eoffice/outgoing/new/")
    page = spec.page
    page.select_option("#id_doc_type", "quyet-dinh")
    page.fill("#id_summary", SUMMARY)
    page.fill("#id_field", "Khoa học và công nghệ")
    page.set_input_files("#id_file", files=[{"name": "du-thao.docx", "buffer": DOCX,
                                             "mimeType": "application/octet-stream"}])
    spec.shot("chuyen-vien-du-thao")
    page.click("#save-draft")
    spec.arrive(f"{issuer}/console/eoffice/outgoing/")
    match = re.search(r"/outgoing/(\d+)/$", spec.url)
    assert match, spec.url
    doc = f"{issuer}/console/eoffice/outgoing/{match.group(1)}/"
    page.click("#submit")
    page.wait_for_selector("#messages")
    assert "Đang trình duyệt" in page.inner_text("#status")
    spec.shot("chuyen-vien-da-trinh")

    # The head finds it in their review queue (GL-10.7) and returns it with a comment.
    head = as_("department_head", f"{issuer}/console/eoffice/reviews/")
    queued = head.page.inner_text(f"#reviews-{match.group(1)}")
    assert SUMMARY in queued and "ngày làm việc" in queued, queued
    head.shot("truong-phong-hang-cho")
    head.page.click(f"#reviews-{match.group(1)} a")
    head.arrive(doc)
    head.page.fill("#id_r-comment", "Bổ sung căn cứ Nghị định 30/2020/NĐ-CP")
    head.shot("truong-phong-tra-lai")
    head.page.click("#return")
    head.page.wait_for_selector("#messages")
    assert "Trả lại" in head.page.inner_text("#status")

    # The specialist uploads version 2 and resubmits (GL-10.8).
    spec.open(doc)
    assert "Bổ sung căn cứ Nghị định 30/2020/NĐ-CP" in page.inner_text("#round-1")
    page.set_input_files("#id_file", files=[{"name": "du-thao-v2.docx", "buffer": DOCX + b"2",
                                             "mimeType": "application/octet-stream"}])
    page.fill("#id_note", "Đã bổ sung căn cứ")
    page.click("#upload-version")
    page.wait_for_selector("#version-2")
    page.click("#submit")
    page.wait_for_selector("#round-2")
    spec.shot("chuyen-vien-trinh-lai")

    # The head forwards to the agency's leaders.
    head.open(doc)
    head.page.click("#forward")
    head.page.wait_for_selector("#round-3")
    head.shot("truong-phong-trinh-giam-doc")

    # The deputy director approves.
    director = as_("deputy_director", doc)
    director.page.fill("#id_a-comment", "Đồng ý ban hành")
    director.page.click("#approve")
    director.page.wait_for_selector("#messages")
    assert "Đã phê duyệt" in director.page.inner_text("#status")
    director.shot("giam-doc-phe-duyet")

    # The clerk finds it waiting for a number, numbers it, adds the signed PDF, issues it.
    clerk = as_("clerk", f"{issuer}/console/eoffice/outgoing/")
    cp = clerk.page
    cp.click(f"#to-number-{match.group(1)} a")
    clerk.arrive(doc)
    assert cp.locator("#number").count() == 0  # nothing reserved before the number
    cp.click("#number-it")
    cp.wait_for_selector("#number")
    number = cp.inner_text("#number").strip()
    assert re.fullmatch(r"Số: \d{2,}/QĐ-SKHCN", number), number
    clerk.shot("van-thu-cap-so")
    cp.set_input_files("#id_file", files=[{"name": "ban-ky-so.pdf", "buffer": PDF,
                                           "mimeType": "application/pdf"}])
    cp.click("#upload-version")
    cp.wait_for_selector("#version-3")
    cp.check(f"input[name=units][value='{people['unit']}']")
    cp.fill("#id_emails", "vanthu@ubnd.ninhbinh.gov.vn")
    assert SUMMARY in cp.inner_text("#mail-subject")  # KH-7
    clerk.shot("van-thu-phat-hanh")
    cp.click("#issue")
    cp.wait_for_selector("#distributions")
    assert "Đã phát hành" in cp.inner_text("#status")
    sent = cp.inner_text("#distributions")
    assert "Phòng Quản lý khoa học" in sent and "vanthu@ubnd.ninhbinh.gov.vn" in sent
    clerk.shot("van-thu-da-phat-hanh")
    for b in browsers.values():  # the strict CSP held on every page
        assert not [m for m in b.console if "Content Security Policy" in m], b.console
