"""Signed-in pages are never stored (ASVS V8): every console URL without parameters answers a
signed-in admin and member with ``Cache-Control: no-store``, whatever its status."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.http import HttpResponse

from mailadmin.middleware import SignedInNoStoreMiddleware
from tests.urlwalk import console_routes

pytestmark = pytest.mark.django_db


ROUTES = sorted({"/" + route for route, _pattern in console_routes()
                 if "<" not in route and not route.startswith("^")})


def test_the_walk_covers_the_console():
    for path in ("/dashboard/", "/people/", "/me/", "/me/sessions/", "/logs/signins/",
                 "/logs/audit/", "/policies/password/", "/people/locked/"):
        assert path in ROUTES


@pytest.mark.parametrize("role", ["admin", "member"])
def test_every_signed_in_page_says_no_store(two_tenants, signed_in, role):
    client = signed_in(two_tenants.a.by_role(role))
    missing = {}
    for path in ROUTES:
        if path in ("/signout/",):
            continue  # GET is refused, and a POST would end the session the walk needs
        response = client.get(path)
        if "no-store" not in response.get("Cache-Control", ""):
            missing[path] = (response.status_code, response.get("Cache-Control"))
    assert missing == {}


def test_a_views_own_header_is_left_alone(client, signed_in, two_tenants):
    signed_in(two_tenants.a.member)
    # never_cache's header stands as the view set it.
    response = client.get("/me/mfa/backup-codes/")
    assert response["Cache-Control"] == "max-age=0, no-cache, no-store, must-revalidate, private"


def test_static_files_and_signed_out_requests_are_left_alone(rf, two_tenants):
    middleware = SignedInNoStoreMiddleware(lambda request: HttpResponse("body{}"))
    request = rf.get("/dashboard/")
    request.user = AnonymousUser()
    assert "Cache-Control" not in middleware(request)
    request = rf.get("/" + settings.STATIC_URL.lstrip("/") + "css/console.css")
    request.user = two_tenants.a.member
    assert "Cache-Control" not in middleware(request)
    request = rf.get("/dashboard/")
    request.user = two_tenants.a.member
    assert middleware(request)["Cache-Control"] == "no-store"
