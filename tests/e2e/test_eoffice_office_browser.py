"""The work calendar in a real browser (issue 7, GL-8.1): the agency's clerk signs in,
adds an event to the leaders' weekly calendar through the form, sees it in the week
view, makes a subscription address and a calendar program (no cookies) reads the event
from it. No CSP violation on the way; screenshots kept as CI artefacts."""

from __future__ import annotations

import urllib.request

import pytest

from tests.calendars.icsparse import parse, unescape
from tests.e2e.browser import Browser
from tests.e2e.conftest import RP_BROWSER_SKIP, LiveProvider

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("sso-e2e"), RP_BROWSER_SKIP]


def test_gl_8_1_clerk_posts_the_leaders_week_and_subscribes(browser: Browser,
                                                             provider: LiveProvider) -> None:
    clerk = provider.account("skhcn")
    provider.django(
        "from django.utils import timezone\n"
        "from congvu.accounts.models import Account\n"
        "from congvu.directory.models import Agency\n"
        "from congvu.eoffice.actions import do_grant_office_role\n"
        "from congvu.actors import Actor\n"
        f"a = Account.objects.get(address='{clerk.address}')\n"
        "do_grant_office_role(actor=Actor(kind='operator', label='test'), account_id=a.pk,"
        " agency_id=Agency.objects.get(account_name='skhcn').pk, role='clerk',"
        " now=timezone.now())\n")
    page = browser.page
    calendar = f"{provider.issuer}/console/eoffice/calendar/"
    browser.open(calendar)
    browser.sign_in(clerk, then=calendar)
    assert "Lịch công tác tuần" in page.inner_text("h1")
    page.click("#new-event")
    browser.arrive(f"{calendar}new/")
    page.select_option("#id_calendar", "leaders")
    page.fill("#id_title", "Họp giao ban Sở, quý IV")
    page.fill("#id_start_time", "08:00")
    page.fill("#id_end_time", "10:00")
    page.fill("#id_place", "Phòng họp số 1")
    page.fill("#id_chair", "Giám đốc Sở")
    browser.shot("them-lich")
    page.click("#save-event")
    browser.arrive(calendar)
    assert "Họp giao ban Sở, quý IV" in page.inner_text("#week")
    assert "08:00–10:00" in page.inner_text("#week")
    browser.shot("lich-tuan")

    page.click("#subscribe")
    browser.arrive(f"{calendar}subscription/")
    page.click("#create-feed")
    page.wait_for_selector("#feed-url code")
    url = page.inner_text("#feed-url code").strip()
    browser.shot("dang-ky-lich")
    with urllib.request.urlopen(url, timeout=30) as resp:
        body = resp.read()
    assert [unescape(e.get("SUMMARY")) for e in parse(body).all("VEVENT")] == [
        "Họp giao ban Sở, quý IV"]
    assert not [m for m in browser.console if "Content Security Policy" in m], browser.console
