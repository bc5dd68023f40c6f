"""eOffice pages (issue 7): registers. Paths under ``/console/eoffice/``."""

from __future__ import annotations

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
