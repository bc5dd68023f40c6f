"""The first pages: the deployment's home page and a health check for monitoring."""

from __future__ import annotations

from pathlib import Path

from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.http.response import HttpResponseBase
from django.shortcuts import render
from django.views.static import serve

from congvu import deployment

STATIC_ROOT = Path(__file__).resolve().parent / "static"


def home(request: HttpRequest) -> HttpResponse:
    profile = deployment.deployment_profile()
    return render(request, "web/home.html", {"profile": profile})


def health(request: HttpRequest) -> JsonResponse:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok", "profile": deployment.read_config().get("profile_name")})


def static(request: HttpRequest, path: str) -> HttpResponseBase:
    """The console's few static files (no separate web server on the embedded default)."""
    response = serve(request, path, document_root=str(STATIC_ROOT))
    response["Cache-Control"] = "public, max-age=3600"
    return response
