"""Probes of the htmx sign-in redirect as an attacker: HX-Redirect only ever names our own sign-in
page with a safe ?next= (never another site, never an off-site next), an ended session's reason
survives the whole-page reload, and HX-Request from a signed-out visitor changes nothing.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.http import HttpResponse, HttpResponseRedirect
from django.test import RequestFactory
from django.utils import timezone
from django_htmx.middleware import HtmxMiddleware

from activity.models import LoginEvent
from mailadmin.middleware import HtmxSignInRedirectMiddleware
from security.models import UserSession
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true", "HTTP_HX_CURRENT_URL": "http://testserver/logs/signins/"}


def _through_middleware(location: str, *, htmx: bool = True) -> HttpResponse:
    """A view's redirect to ``location``, passed through the htmx middlewares as in settings."""
    def view(request):
        return HttpResponseRedirect(location)

    chain = HtmxMiddleware(HtmxSignInRedirectMiddleware(view))
    request = RequestFactory().get("/logs/signins/", **(HTMX if htmx else {}))
    return chain(request)


@pytest.mark.parametrize("location", [
    "https://evil.example/signin/?next=/logs/",
    "//evil.example/signin/",
    "http://evil.example/signin/",
    "https:///evil.example/signin/",
    "/signin/../evil/",
])
def test_a_redirect_to_a_sign_in_path_on_another_site_is_never_made_an_hx_redirect(location):
    response = _through_middleware(location)
    assert "HX-Redirect" not in response
    assert response.status_code == 302 and response["Location"] == location  # left as the view made it


@pytest.mark.parametrize("unsafe_next", [
    "//evil.example/", "https://evil.example/", "/\\evil.example", "javascript:alert(1)",
    "http://testserver.evil.example/",
])
def test_an_off_site_next_is_dropped_from_the_hx_redirect(unsafe_next):
    from urllib.parse import urlencode

    response = _through_middleware("/signin/?" + urlencode({"next": unsafe_next}))
    assert response.status_code == 200
    assert response["HX-Redirect"] == "/signin/"


def test_a_safe_next_is_kept_in_the_hx_redirect():
    response = _through_middleware("/signin/?next=/logs/signins/%3Foutcome%3Dfailure")
    assert response["HX-Redirect"] == "/signin/?next=/logs/signins/%3Foutcome%3Dfailure"
    plain = _through_middleware("/signin/?next=/logs/", htmx=False)
    assert plain.status_code == 302 and "HX-Redirect" not in plain


def test_an_idle_session_ended_by_an_htmx_request_still_says_why_on_the_sign_in_page(
        two_tenants, signed_in):
    """The whole-page reload keeps the response's cookies: the message and the ended session's."""
    client = signed_in(two_tenants.a.admin)
    UserSession.objects.filter(user=two_tenants.a.admin).update(
        last_seen_at=timezone.now() - timedelta(hours=3))
    response = client.get("/logs/signins/", {"outcome": "failure"}, **HTMX)
    assert response.status_code == 200 and response["HX-Redirect"].startswith("/signin/")
    assert "messages" in response.cookies  # the reason travels with the reload
    page = client.get(response["HX-Redirect"])
    assert "You were signed out after a period of inactivity." in page.content.decode()
    assert client.get("/logs/signins/").status_code == 302  # and the session stays ended


def test_hx_request_from_a_signed_out_visitor_changes_nothing_on_public_pages(two_tenants, client):
    member = two_tenants.a.member
    before = LoginEvent.objects.count()
    page = client.get("/signin/", **HTMX)
    assert page.status_code == 200 and "HX-Redirect" not in page
    assert "htmx" not in page.content.decode()  # signed-out pages load no script
    wrong = client.post("/signin/", {"email": member.email, "password": "wrong"}, **HTMX)
    assert wrong.status_code == 200 and "HX-Redirect" not in wrong
    assert LoginEvent.objects.count() == before + 1  # one failure, as without htmx
    # A signed-out htmx request to a console page is sent to the sign-in page and nothing more.
    console = client.post("/policies/mail/", {"off_roles": ["member"]}, **HTMX)
    assert console.status_code in (200, 403)
    assert "HX-Redirect" not in console or console["HX-Redirect"].startswith("/signin/")
    from security.policies.mail.models import MailPolicy

    assert not MailPolicy.objects.exists()
    ok = client.post("/signin/", {"email": member.email, "password": PASSWORD}, **HTMX)
    assert ok.status_code == 302 and "HX-Redirect" not in ok  # a sign-in is never turned into one


def test_a_signed_out_htmx_language_switch_keeps_its_cookie_and_never_leaves_the_site(client, settings):
    back = client.post("/i18n/setlang/", {"language": "zh-hans", "next": "/signin/"}, **HTMX)
    assert back["HX-Redirect"] == "/signin/"
    assert back.cookies[settings.LANGUAGE_COOKIE_NAME].value == "zh-hans"  # kept through the reload
    assert 'lang="zh-hans"' in client.get("/signin/").content.decode()
    for language in ("zh-hans", "fr"):
        away = client.post("/i18n/setlang/", {"language": language, "next": "https://evil.example/signin/"},
                           **HTMX)
        assert "evil" not in away.get("HX-Redirect", "") and "evil" not in away.get("Location", "")
