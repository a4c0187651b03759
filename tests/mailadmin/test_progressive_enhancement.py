"""Progressive enhancement with htmx: the script is ours (no CDN), allowed by the CSP's nonce,
configured to keep no copy of personal pages in localStorage; filter forms and pagers carry the
attributes that swap <main>, and still work as plain forms and links; an htmx request whose
session ended is sent to the sign-in page as a whole page, not swapped into the console."""

from __future__ import annotations

import json
import re

import pytest
from django.contrib.staticfiles import finders

from activity.models import LoginEvent

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true", "HTTP_HX_CURRENT_URL": "http://testserver/logs/signins/"}


def _scripts(html: str) -> list[tuple[str, str]]:
    return re.findall(r'<script src="([^"]+)"[^>]*nonce="([^"]+)"', html)


def test_signed_in_pages_load_htmx_from_our_static_files_under_the_csp_nonce(signed_in,
                                                                             two_tenants):
    client = signed_in(two_tenants.a.admin)
    response = client.get("/logs/signins/")
    html = response.content.decode()
    scripts = dict(_scripts(html))
    assert set(scripts) == {"/static/django_htmx/htmx-2.min.js", "/static/js/console.js"}
    nonce = re.search(r"'nonce-([^']+)'", response["Content-Security-Policy"]).group(1)
    assert set(scripts.values()) == {nonce}
    for src in scripts:  # both files exist in the app's static files: nothing from a CDN
        assert finders.find(src.removeprefix("/static/"))
    assert "//" not in "".join(scripts)


def test_htmx_keeps_no_history_copy_and_runs_no_eval_or_inline_script(signed_in, two_tenants):
    html = signed_in(two_tenants.a.admin).get("/dashboard/").content.decode()
    config = json.loads(re.search(r"<meta name=\"htmx-config\" content='([^']+)'>", html).group(1))
    assert config["historyCacheSize"] == 0 and config["refreshOnHistoryMiss"] is True
    assert config["allowEval"] is False and config["allowScriptTags"] is False
    assert config["includeIndicatorStyles"] is False  # an inline <style> the CSP would refuse
    assert config["selfRequestsOnly"] is True


def test_signed_out_pages_carry_no_script(client):
    html = client.get("/signin/").content.decode()
    assert "htmx" not in html
    assert _scripts(html) == []


@pytest.mark.parametrize(("path", "testid"), [
    ("/logs/signins/", "signin-filters"), ("/logs/exports/", "export-filters"),
    ("/logs/audit/", "audit-filters"), ("/alerts/", "alert-filters"),
    ("/people/", "people-filters"), ("/me/signins/", "my-signin-filters"),
])
def test_filter_forms_swap_main_and_still_submit_without_javascript(signed_in, two_tenants,
                                                                    path, testid):
    html = signed_in(two_tenants.a.admin).get(path).content.decode()
    form = re.search(rf'<form [^>]*data-testid="{testid}"[^>]*>', html, re.S).group(0)
    assert 'method="get"' in form  # the plain form is still there for a browser without JS
    assert f'hx-get="{path}"' in form and 'hx-select="#main"' in form
    assert 'hx-push-url="true"' in form  # the filtered URL can be bookmarked and shared


def test_an_htmx_filter_answers_the_filtered_page(signed_in, two_tenants, make_client):
    from tests.factories import PASSWORD

    other = make_client()
    assert other.post("/signin/", {"email": two_tenants.b.admin.email,
                                   "password": PASSWORD}).status_code == 302
    client = signed_in(two_tenants.a.admin)
    client.post("/signin/", {"email": two_tenants.a.member.email, "password": "wrong"})
    response = client.get("/logs/signins/", {"outcome": "success"}, **HTMX)
    assert response.status_code == 200
    assert 'id="main"' in response.content.decode()
    rows = LoginEvent.objects.filter(tenant=two_tenants.a.tenant, outcome="success").count()
    assert rows == 1  # the admin's own sign-in; the failure and Globex's success are not shown
    assert response.content.decode().count('data-testid="signin-row"') == rows
    assert "no-store" in response["Cache-Control"]


def test_an_htmx_request_after_the_session_ended_reloads_the_sign_in_page(signed_in,
                                                                          two_tenants):
    client = signed_in(two_tenants.a.admin)
    client.post("/signout/")
    response = client.get("/logs/signins/", {"outcome": "failure"}, **HTMX)
    assert response.status_code == 200
    assert response["HX-Redirect"].startswith("/signin/?next=")
    assert "outcome%3Dfailure" in response["HX-Redirect"]  # back to the same filtered page
    assert response.content == b""  # nothing to swap into the console's layout
    plain = client.get("/logs/signins/", {"outcome": "failure"})
    assert plain.status_code == 302 and "HX-Redirect" not in plain  # without htmx: unchanged


def test_an_htmx_redirect_inside_the_console_is_followed_as_usual(signed_in, two_tenants):
    client = signed_in(two_tenants.a.admin)
    response = client.get("/", **HTMX)
    assert response.status_code == 302 and "HX-Redirect" not in response
