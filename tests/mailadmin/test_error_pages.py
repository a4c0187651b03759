"""The error pages: friendly, translated, a way back, and the 500 page's correlation id is the one
in the response header and in the log."""

from __future__ import annotations

import logging

import pytest
from django.http import HttpRequest, HttpResponse
from django.test import Client, override_settings
from django.urls import path

from mailadmin import urls as project_urls
from mailadmin.middleware import RequestIdLogFilter, request_id_current

pytestmark = pytest.mark.django_db


def _boom(request: HttpRequest) -> HttpResponse:
    raise RuntimeError("the database went away")


class _Tagged(logging.Handler):
    """A handler with the settings' filter: which request id each record was written under."""

    def __init__(self) -> None:
        super().__init__(level=logging.ERROR)
        self.addFilter(RequestIdLogFilter())
        self.seen: list[tuple[str, str]] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.seen.append((record.name, record.request_id))  # type: ignore[attr-defined]


urlpatterns = [path("boom/", _boom), *project_urls.urlpatterns]
handler500 = project_urls.handler500


def test_a_missing_page_says_so_and_leads_back(client):
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    body = response.content.decode()
    assert "Page not found" in body and 'href="/"' in body
    assert "Go to your start page" in body


def test_a_page_the_role_may_not_open_says_why(signed_in, two_tenants):
    client = signed_in(two_tenants.a.member)
    response = client.get("/people/")
    assert response.status_code == 403
    body = response.content.decode()
    assert "You cannot open this page" in body and "ask an owner" in body
    assert 'aria-current="page"' in body or "sidebar" in body  # the signed-in shell, navigation


def test_a_missing_page_is_shown_in_the_visitors_language():
    response = Client(HTTP_ACCEPT_LANGUAGE="zh-hans").get("/no-such-page/")
    assert response.status_code == 404
    assert response["Content-Language"].lower().startswith("zh")


@override_settings(ROOT_URLCONF=__name__, DEBUG=False)
def test_a_server_error_shows_the_reference_that_is_logged(caplog):
    client = Client(raise_request_exception=False)
    tagged = _Tagged()
    logging.getLogger().addHandler(tagged)
    try:
        with caplog.at_level(logging.ERROR):
            response = client.get("/boom/")
    finally:
        logging.getLogger().removeHandler(tagged)
    assert response.status_code == 500
    reference = response["X-Request-ID"]
    assert len(reference) == 32
    body = response.content.decode()
    assert "Something went wrong" in body
    assert f"<code>{reference}</code>" in body
    assert "the database went away" not in body  # nothing internal on the page
    logged = [r for r in caplog.records if reference in r.getMessage()]
    assert logged, [r.getMessage() for r in caplog.records]
    # Django's own traceback line carries the id too, through the settings' log filter.
    assert ("django.request", reference) in tagged.seen


@override_settings(ROOT_URLCONF=__name__, DEBUG=False)
def test_a_proxys_request_id_is_kept_and_a_forged_one_is_not():
    client = Client(raise_request_exception=False)
    response = client.get("/boom/", HTTP_X_REQUEST_ID="lb-7f3a9c21-0001")
    assert response["X-Request-ID"] == "lb-7f3a9c21-0001"
    assert "lb-7f3a9c21-0001" in response.content.decode()
    response = client.get("/boom/", HTTP_X_REQUEST_ID="<script>alert(1)</script>")
    assert response["X-Request-ID"] != "<script>alert(1)</script>"
    assert "<script>alert(1)" not in response.content.decode()


def test_every_response_carries_a_fresh_id_and_none_leaks_outside_a_request(client):
    first, second = client.get("/signin/"), client.get("/signin/")
    assert first["X-Request-ID"] != second["X-Request-ID"]
    assert request_id_current() == "-"
