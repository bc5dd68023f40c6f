"""eOffice pages (issue 7): office. Paths under ``/console/eoffice/``: work calendars
(``calendar/``), internal messages (``messages/``), the eOffice's notifications
(``notices/``), delegations (``delegations/``) and the agency's eOffice settings
(``settings/``), each in its own module."""

from __future__ import annotations

from django.urls import URLPattern

from congvu.console.pages import (
    eoffice_office_calendar,
    eoffice_office_delegations,
    eoffice_office_messages,
    eoffice_office_settings,
)

urlpatterns: list[URLPattern] = [
    *eoffice_office_calendar.urlpatterns,
    *eoffice_office_messages.urlpatterns,
    *eoffice_office_delegations.urlpatterns,
    *eoffice_office_settings.urlpatterns,
]
