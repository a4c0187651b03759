from __future__ import annotations

import csv

import pytest
from django.test import Client
from playwright.sync_api import Page, expect

from activity.models import ExportEvent
from tests.browser.conftest import follow_nav, journey_screenshot
from tests.factories import PASSWORD
from tests.security.signin_support import CHROME_WINDOWS, SAFARI_IPHONE

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

US_IP, GB_IP = "8.8.8.8", "81.2.69.160"


def _attempt(email: str, password: str, ip: str, ua: str) -> None:
    Client().post("/signin/", {"email": email, "password": password}, REMOTE_ADDR=ip, HTTP_USER_AGENT=ua)


def test_auditor_filters_opens_a_row_exports_and_finds_the_export(live_server, page: Page,
                                                                  viewport):
    from tests.conftest import _tenant_set

    acme, globex = _tenant_set("Acme"), _tenant_set("Globex")
    for _ in range(3):
        _attempt(acme.member.email, "wrong", US_IP, SAFARI_IPHONE)  # the rows we look for
    _attempt(acme.helpdesk.email, "wrong", GB_IP, CHROME_WINDOWS)  # failure, other country
    _attempt(acme.admin.email, PASSWORD, US_IP, CHROME_WINDOWS)  # US, but a success
    _attempt(globex.member.email, "wrong", US_IP, CHROME_WINDOWS)  # another tenant
    base = live_server.url

    page.goto(base + "/signin/")
    page.get_by_label("E-mail address").fill(acme.auditor.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    follow_nav(page, "Sign-in log")

    filters = page.get_by_test_id("signin-filters")
    filters.get_by_label("Country").fill("US")
    filters.get_by_label("Outcome").select_option("failure")
    filters.get_by_role("button", name="Filter").click()
    rows = page.get_by_test_id("signin-row")
    expect(rows).to_have_count(3)
    expect(rows.first).to_contain_text(acme.member.display_name)
    expect(page.get_by_test_id("signin-table")).not_to_contain_text("globex")
    journey_screenshot(page, "auditor-signin-log-filtered")

    rows.first.get_by_role("link").first.click()
    expect(page.get_by_text("iPhone OS 17_5", exact=False).first).to_be_visible()  # the raw User-Agent
    expect(page.get_by_text("Mobile Safari").first).to_be_visible()
    journey_screenshot(page, "auditor-signin-detail")
    page.go_back()

    with page.expect_download() as download_info:
        page.get_by_test_id("export-links").get_by_role("link", name="CSV", exact=True).click()
    download = download_info.value
    with open(download.path(), encoding="utf-8", newline="") as handle:
        exported = list(csv.DictReader(handle))
    assert [(r["person"], r["country"], r["outcome"]) for r in exported] == [
        (acme.member.email, "US", "failure")] * 3

    follow_nav(page, "Export log")
    first = page.get_by_test_id("export-row").first
    expect(first).to_contain_text(acme.auditor.display_name)
    expect(first).to_contain_text("signin_log")
    expect(first).to_contain_text("US")
    expect(first).to_contain_text("Completed")
    journey_screenshot(page, "auditor-export-log")
    event = ExportEvent.objects.for_tenant(acme.tenant).latest("occurred_at")
    assert (event.row_count, event.format, event.status) == (3, "csv", "completed")
    assert event.filters.get("country") == "US" and event.filters.get("outcome") == "failure"
