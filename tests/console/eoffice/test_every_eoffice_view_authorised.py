"""Every eOffice URL (issue 7; GL-12..15: permissions by role and agency), enumerated from
the URL configuration so a page added later is covered: an anonymous visitor is sent to
the sign-in page; the director and the clerk of another agency and a civil servant with
no eOffice role, reaching for Sở TT&TT's documents, assignments, files, events, messages,
delegations and role grants by editing the URL, get a refusal and never see them; and
none of their POSTs changes any of it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from congvu.calendars.access import CalendarRef
from congvu.calendars.actions import EventForm, do_create_event
from congvu.calendars.models import Event
from congvu.eoffice import actions
from congvu.eoffice.models import (
    Assignment,
    Delegation,
    DocumentVersion,
    IncomingDocument,
    OfficeRoleGrant,
    OutgoingDocument,
    ReviewRound,
    WorkFile,
)
from congvu.messaging.actions import do_send_message
from congvu.messaging.models import Message
from tests.console.conftest import logged_in
from tests.console.test_every_view_authorised import _patterns
from tests.eoffice.conftest import PARAMS, Office, Person, draft, register
from tests.factories import account

pytestmark = pytest.mark.django_db

#: A word only in Sở TT&TT's objects: no refused page may show it.
SECRET = "Bíchngọcxanh"
#: The calendar feed answers calendar programs without a session (404 for an unknown token).
SESSIONLESS = {"eoffice-calendar-feed"}
#: Pages that read nothing of anyone's (the summary hints of the text typed).
HARMLESS = {"eoffice-incoming-hints"}
#: URL parameters naming one of Sở TT&TT's objects.
OBJECT_PARAMS = ("doc_id", "document_id", "version_id", "assignment_id", "work_file_id",
                 "event_id", "message_id", "delegation_id", "grant_id")


def _objects(o: Office) -> dict[str, int]:
    now = timezone.now()
    incoming = register(o, when=now, summary=f"Về việc {SECRET} chuyển đổi số",
                        number_symbol="77/UBND-VX")
    [assignment] = actions.do_assign_incoming(
        actor=o.director.actor, profile=o.p, document_id=incoming.pk, now=now, params=PARAMS,
        recipients=[actions.Recipient(kind="handle", department_id=o.cntt.pk,
                                      directions=SECRET)])
    outgoing = draft(o, when=now, summary=f"Dự thảo {SECRET} quy chế")
    work_file = actions.do_create_work_file(actor=o.spec.actor, agency_id=o.agency.pk,
                                            title=f"Hồ sơ {SECRET}", now=now)
    event = do_create_event(
        actor=o.director.actor, calendar=CalendarRef(kind="leaders", agency_id=o.agency.pk),
        form=EventForm(title=f"Họp {SECRET}", starts_at=now + dt.timedelta(days=1),
                       ends_at=now + dt.timedelta(days=1, hours=1)), now=now)
    message = do_send_message(actor=o.director.actor, agency_id=o.agency.pk,
                              subject=f"Tin {SECRET}", body=SECRET, now=now,
                              people_ids=[o.spec.id])
    delegation = actions.do_request_delegation(
        actor=o.director.actor, agency_id=o.agency.pk, delegate_id=o.deputy.id,
        roles=["director"], starts_at=now, ends_at=now + dt.timedelta(days=7), now=now,
        reason=SECRET)
    grant = OfficeRoleGrant.objects.get(account_id=o.spec.id)
    return {"incoming": incoming.pk, "assignment": assignment.pk, "outgoing": outgoing.pk,
            "incoming_version": DocumentVersion.objects.get(incoming=incoming).pk,
            "outgoing_version": DocumentVersion.objects.get(outgoing=outgoing).pk,
            "work_file": work_file.pk, "event": event.pk, "message": message.pk,
            "delegation": delegation.pk, "grant": grant.pk}


def _url(route: str, ids: dict[str, int]) -> str:
    outgoing = route.startswith("/console/eoffice/outgoing/")
    values = {"doc_id": ids["incoming"], "document_id": ids["outgoing"],
              "version_id": ids["outgoing_version" if outgoing else "incoming_version"],
              "assignment_id": ids["assignment"], "work_file_id": ids["work_file"],
              "event_id": ids["event"], "message_id": ids["message"],
              "delegation_id": ids["delegation"], "grant_id": ids["grant"],
              "token": "khong-co-that", "kind": "incoming", "fmt": "xlsx"}
    url = route
    for key, value in values.items():
        for conv in ("int", "str", "slug", "path"):
            url = url.replace(f"<{conv}:{key}>", str(value))
    assert "<" not in url, f"no test value for a parameter of {route}"
    return url


def _eoffice_routes() -> list[tuple[str, str]]:
    return [(n, r) for n, r in _patterns() if r.startswith("/console/eoffice/")]


def _state(ids: dict[str, int]) -> tuple[Any, ...]:
    """What an outsider's POST could change of Sở TT&TT's objects."""
    return (
        list(IncomingDocument.objects.values_list("id", "status", "summary", "number")),
        list(Assignment.objects.values_list("id", "status", "result", "directions")),
        list(OutgoingDocument.objects.values_list("id", "status", "number", "summary")),
        DocumentVersion.objects.count(), ReviewRound.objects.count(),
        list(WorkFile.objects.values_list("id", "title")),
        list(Event.objects.values_list("id", "title", "starts_at")),
        Message.objects.count(),
        list(Delegation.objects.values_list("id", "status")),
        list(OfficeRoleGrant.objects.values_list("id", "account_id", "role")),
    )


def test_every_eoffice_route_is_covered() -> None:
    names = {n for n, _r in _eoffice_routes()}
    assert {"eoffice-incoming", "eoffice-incoming-detail", "eoffice-outgoing",
            "eoffice-outgoing-detail", "eoffice-registers", "eoffice-search",
            "eoffice-statistics", "eoffice-calendar", "eoffice-messages",
            "eoffice-delegations", "eoffice-settings", "eoffice-mail-intake"} <= names


def test_anonymous_visitors_are_sent_to_sign_in_from_every_eoffice_url(
        web_office: Office) -> None:
    ids = _objects(web_office)
    for name, route in _eoffice_routes():
        url = _url(route, ids)
        for method in ("get", "post"):
            resp = getattr(Client(), method)(url)
            if name in SESSIONLESS:
                assert resp.status_code in (404, 405), (name, method, resp.status_code)
                continue
            assert resp.status_code in (302, 401, 403, 405), (name, method, resp.status_code)
            if resp.status_code == 302:
                assert resp["Location"].startswith("/sso/login/"), (name, resp["Location"])
            assert SECRET not in resp.content.decode(errors="replace"), name


@pytest.mark.parametrize("who", ["other_director", "other_clerk", "no_role"])
def test_gl_12_no_eoffice_url_gives_another_agencys_documents_or_changes_them(
        web_office: Office, who: str, browser_of: Callable[[Person], Client]) -> None:
    ids = _objects(web_office)
    if who == "no_role":
        acct, _otp = account(web_office.p, "stc", "Tạ Văn Thường",
                             timezone.now() - dt.timedelta(days=30))
        client = logged_in(acct)
    else:
        client = browser_of(getattr(web_office, who))
    before = _state(ids)
    for name, route in _eoffice_routes():
        url = _url(route, ids)
        resp = client.get(url)
        if any(f":{p}>" in route for p in OBJECT_PARAMS):  # Sở TT&TT's object in the URL
            assert resp.status_code in (403, 404, 405), (name, url, resp.status_code)
        elif who == "no_role" and name not in SESSIONLESS | HARMLESS:
            assert resp.status_code in (302, 403, 405), (name, url, resp.status_code)
        body = resp.content.decode(errors="replace").split("<main", 1)[-1]
        assert SECRET not in body, (name, url)
        post = client.post(url, {"confirm": "1", "comment": "x", "text": "x", "result": "x",
                                 "title": "x", "body": "x", "role": "director",
                                 "account": str(web_office.other_clerk.id)})
        assert post.status_code in (200, 302, 400, 403, 404, 405), (name, url, post.status_code)
        assert SECRET not in post.content.decode(errors="replace"), (name, url)
    assert _state(ids) == before
