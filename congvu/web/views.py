"""The first pages: the deployment's home page and a health check for monitoring."""

from __future__ import annotations

from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render

from congvu import deployment


def home(request: HttpRequest) -> HttpResponse:
    profile = deployment.deployment_profile()
    return render(request, "web/home.html", {"profile": profile})


def health(request: HttpRequest) -> JsonResponse:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok", "profile": deployment.read_config().get("profile_name")})
