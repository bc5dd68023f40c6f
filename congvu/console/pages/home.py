"""The console's home page: who is signed in, their roles and agencies, where to go."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path

from congvu.accounts.models import Account
from congvu.accounts.selectors import roles_of
from congvu.actors import Actor
from congvu.console.views import REQUEST_ROLES, ROLE_LABELS, console_view
from congvu.directory.models import Agency


@console_view
def home(request: HttpRequest, actor: Actor) -> HttpResponse:
    account = request.user
    assert isinstance(account, Account)
    roles = [str(ROLE_LABELS.get(r, r)) for r in roles_of(account)]
    agencies = list(Agency.objects.filter(pk__in=actor.request_scope).order_by("name"))
    return render(request, "console/home.html", {
        "account": account, "roles": roles, "agencies": agencies,
        "sees_requests": actor.kind in REQUEST_ROLES, "is_operator": actor.is_operator})


urlpatterns = [path("", home, name="home")]
