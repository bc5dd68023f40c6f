"""Every console URL, enumerated from the URL configuration (a page added later is
covered without anyone remembering to): an anonymous visitor is sent to the sign-in page,
a civil servant of another agency and an agency IT contact reaching for another agency's
objects get a refusal, and none of their POSTs changes anything. Each area's own tests go
deeper (form fields, hidden inputs); this one guarantees no view was forgotten."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import URLPattern, URLResolver

from congvu.audit.models import AuditEvent
from congvu.console import urls as console_urls
from congvu.jobs.actions import do_enqueue
from tests.console.conftest import logged_in
from tests.factories import OPERATOR

pytestmark = pytest.mark.django_db

#: Pages every signed-in person may open (their own data, the province directory).
EVERYONE = {"home", "me", "me-password", "me-forward-add", "me-forward-remove", "directory"}

#: Pages an agency IT contact may open for their own agency (with another agency's
#: objects in the URL they must still refuse).
AGENCY = {"requests", "request-new", "request-file", "request-row", "request",
          "request-cancel", "accounts", "account", "account-action", "monitoring",
          "monitoring-csv", "reports", "reports-export", "job", "job-progress",
          "job-download"}


def _patterns() -> list[tuple[str, str]]:
    """(name, route) of every console URL."""
    found: list[tuple[str, str]] = []

    def walk(entries: list[Any], prefix: str) -> None:
        for entry in entries:
            if isinstance(entry, URLResolver):
                walk(entry.url_patterns, prefix + str(entry.pattern))
            elif isinstance(entry, URLPattern):
                found.append((entry.name or "", prefix + str(entry.pattern)))

    walk(console_urls.urlpatterns, "/console/")
    return found


def _issue_6_patterns() -> list[tuple[str, str]]:
    """The console's URLs but the eOffice's (their own walk, with documents in the URLs,
    is ``tests/console/eoffice/test_every_eoffice_view_authorised.py``)."""
    return [(n, r) for n, r in _patterns() if not r.startswith("/console/eoffice/")]


def _url(route: str, world: dict[str, Any], job_id: int) -> str:
    """The route with another agency's objects (Sở Tài chính's) in it."""
    foreign = world["foreign"]
    servant = world["servant"][0]
    values = {"request_id": foreign.pk, "address": servant.address, "kind": "new_mailboxes",
              "action": "suspend", "job_id": job_id, "batch_id": 1, "fmt": "csv"}
    url = route
    for key, value in values.items():
        for conv in ("int", "str", "slug", "path"):
            url = url.replace(f"<{conv}:{key}>", str(value))
    assert "<" not in url, f"no test value for a parameter of {route}"
    return url


def _job_of_another(world: dict[str, Any]) -> int:
    """A job queued by the operator: nobody else may see it."""
    from congvu.jobs import registry

    registry.discover()
    kind = next(iter(registry.HANDLERS))
    from django.utils import timezone

    return do_enqueue(actor=OPERATOR, kind=kind, now=timezone.now(),
                      account=world["op"][0]).pk


def test_the_console_has_the_areas_of_issue_6() -> None:
    names = {name for name, _route in _patterns()}
    assert {"requests", "process", "accounts", "account", "roles", "imports", "audit",
            "reports", "monitoring", "me", "directory", "job"} <= names


def test_anonymous_visitors_are_sent_to_sign_in_from_every_console_url(
        world: dict[str, Any]) -> None:
    from django.test import Client

    job = _job_of_another(world)
    before = AuditEvent.objects.count()
    for name, route in _issue_6_patterns():
        url = _url(route, world, job)
        for method in ("get", "post"):
            resp = getattr(Client(), method)(url)
            assert resp.status_code in (302, 405), (name, method, resp.status_code)
            if resp.status_code == 302:
                assert resp["Location"].startswith("/sso/login/"), (name, resp["Location"])
    assert AuditEvent.objects.count() == before


@pytest.mark.parametrize("who", ["servant", "it"])
def test_no_console_url_gives_another_agencys_data_or_changes_it(
        world: dict[str, Any], who: str) -> None:
    """A civil servant of Sở Tài chính (no role) and Sở TT&TT's IT contact, on every URL
    with Sở Tài chính's request, account and the operator's job in it."""
    job = _job_of_another(world)
    actor = world[who][0]
    client = logged_in(actor)
    before = AuditEvent.objects.count()
    foreign_name = "Võ Thị Hoa Sen"  # a person only in Sở Tài chính's request
    for name, route in _issue_6_patterns():
        if name in EVERYONE:
            continue
        url = _url(route, world, job)
        resp = client.get(url)
        if who == "servant" or name not in AGENCY or any(
                p in route for p in ("<int:request_id>", "<str:address>", "<int:job_id>")):
            assert resp.status_code in (403, 404, 405), (name, url, resp.status_code)
        # The page itself (the header's language switch repeats the URL typed).
        body = resp.content.decode(errors="replace").split("<main", 1)[-1]
        assert foreign_name not in body, (name, url)
        if who == "it":
            assert world["servant"][0].address not in body, (name, url)
        post = client.post(url, {"reason": "x", "confirm": "1", "agency": "stc",
                                 "address": world["servant"][0].address})
        assert post.status_code in (200, 302, 400, 403, 404, 405), (name, url)
        if post.status_code == 302:
            # Only a form redisplay or a refusal: never a redirect to a result page of a
            # change made to another agency.
            assert not post["Location"].startswith("/console/jobs/"), (name, url)
    changed = AuditEvent.objects.filter(pk__gt=0).count() - before
    writes = list(AuditEvent.objects.order_by("-pk")[:changed].values_list("action", "target"))
    assert not [w for w in writes if not w[0].startswith(("sso.", "job."))], writes
