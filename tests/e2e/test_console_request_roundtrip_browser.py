"""A request from an agency to the operator and back, all in the browser (issue 6): an
agency IT contact files KH Mẫu 01 for a new colleague, the operator (another browser,
signed in with the second factor) processes it on the one screen, and the contact sees it
done with the new address. Nothing goes through the CLI between the two people."""

from __future__ import annotations

import re

import pytest

from tests.e2e.browser import Browser, init_operator
from tests.e2e.conftest import RP_BROWSER_SKIP, LiveProvider

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("sso-e2e"), RP_BROWSER_SKIP]


def test_a_request_filed_by_an_agency_is_fulfilled_by_the_operator(
        browser: Browser, provider: LiveProvider, chromium: object, artifacts: object,
        request: pytest.FixtureRequest) -> None:
    issuer = provider.issuer
    contact = provider.account("skhcn")
    provider.cli("role", "grant", contact.address, "agency-it", "--agency", "skhcn")

    # The agency files the form.
    form = f"{issuer}/console/requests/new/new_mailboxes/"
    browser.open(form)
    browser.sign_in(contact, then=form)
    page = browser.page
    page.fill("#id_requester_position", "Chánh Văn phòng")
    page.fill("#id_requester_phone", "0229 3871 234")
    page.fill("#id_row-1-full_name", "Đặng Thị Thu Hương")
    page.fill("#id_row-1-position", "Chuyên viên")
    browser.shot("co-quan-gui-mau-01")
    page.click("#file")
    page.wait_for_selector("#facts")
    match = re.search(r"/console/requests/(\d+)/$", browser.url)
    assert match, browser.url
    request_id = match.group(1)

    # The operator, in their own browser, takes it from the queue and fulfils it.
    context = chromium.new_context(locale="vi-VN")  # type: ignore[attr-defined]
    try:
        op_page = context.new_page()
        op_page.set_default_timeout(30_000)
        operator = Browser(op_page, provider, artifacts,  # type: ignore[arg-type]
                           f"{request.node.name}-op")
        queue = f"{issuer}/console/requests/"
        operator.open(queue)
        operator.sign_in_enrolling_totp(init_operator(provider), then=queue)
        op_page.click(f"#request-{request_id} a")
        operator.arrive(f"{issuer}/console/requests/{request_id}/")
        op_page.click("#process")
        operator.arrive(f"{issuer}/console/requests/{request_id}/process/")
        assert "Đặng Thị Thu Hương" in op_page.inner_text("main")
        operator.shot("van-hanh-xu-ly")
        op_page.click("#fulfil")
        op_page.wait_for_selector("#otp-1")
        outcome = op_page.inner_text("#outcomes")
        address = re.search(r"[\w.]+@ninhbinh\.gov\.vn", outcome)
        assert address, outcome
        operator.shot("van-hanh-da-cap")
    finally:
        context.close()

    # The agency sees it done, with the address given, and the account is there.
    browser.open(f"{issuer}/console/requests/{request_id}/")
    assert page.inner_text("#status").strip().startswith("Hoàn thành")
    assert address.group(0) in page.inner_text("#items")
    browser.shot("co-quan-thay-hoan-thanh")
    shown = provider.cli_json("account", "show", address.group(0), "--json")
    assert shown["state"] == "active" and shown["full_name"] == "Đặng Thị Thu Hương"
