"""Filters, pagers and triage actions update the page in place (htmx), and the same pages work
with JavaScript off.

In place means: the document is not reloaded (a marker set on ``window`` survives), the address bar
follows (a filtered page can be bookmarked, Back returns to it), focus stays on the control in use
and a screen reader hears the new entry count. With JavaScript off, the same clicks submit the
same forms as whole pages. A session that ended meanwhile sends the person to the sign-in page as
a whole page, never a sign-in form swapped into the console.
"""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.utils import timezone
from playwright.sync_api import Browser, Page, expect

from activity.capture.types import ClientInfo, DeviceType
from activity.services import login_event_record
from alerts.models import AlertStatus
from tests.alerts.triage_support import make_alert
from tests.browser.conftest import follow_nav
from tests.factories import PASSWORD
from tests.security.signin_support import CHROME_WINDOWS

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

US = ClientInfo(ip="8.8.8.8", country="US", user_agent=CHROME_WINDOWS, browser_family="Chrome",
                browser_version="126", os_family="Windows", os_version="10",
                device_type=DeviceType.DESKTOP)
MARK = "window.__sameDocument = true"
SAME = "window.__sameDocument === true"


def _history(acme) -> None:
    """60 failed sign-ins of the member over the last hour (one page of 50 and a second page),
    and one success of the admin."""
    now = timezone.now()
    for minute in range(60):
        login_event_record(tenant=acme.tenant, user=acme.member, attempted_login=acme.member.email,
                           client=US, outcome="failure", reason="bad_credentials",
                           occurred_at=now - dt.timedelta(minutes=minute, seconds=30))
    login_event_record(tenant=acme.tenant, user=acme.admin, attempted_login=acme.admin.email,
                       client=US, outcome="success", reason="",
                       occurred_at=now - dt.timedelta(hours=2))


def _sign_in(page: Page, base: str, email: str) -> None:
    page.goto(base + "/signin/")
    page.get_by_label("E-mail address").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", level=1)).to_be_visible()


def test_filters_and_pages_update_in_place_and_the_address_follows(live_server, page: Page):
    from tests.conftest import _tenant_set

    acme = _tenant_set("Acme")
    _history(acme)
    _sign_in(page, live_server.url, acme.admin.email)
    follow_nav(page, "Sign-in log")
    rows = page.get_by_test_id("signin-row")
    expect(rows).to_have_count(50)
    page.evaluate(MARK)

    filters = page.get_by_test_id("signin-filters")
    outcome = filters.get_by_label("Outcome")
    outcome.focus()
    outcome.select_option("success")  # no "Filter" click: a change is enough
    expect(page).to_have_url(re.compile(r"/logs/signins/\?outcome=success&size=50$"))  # no empties
    expect(rows).to_have_count(2)  # the seeded success and this very sign-in
    assert page.evaluate(SAME), "the page was reloaded"
    # Focus returns to the control once the swap has settled (fails after the 15 s timeout).
    page.wait_for_function("document.activeElement && document.activeElement.name === 'outcome'")
    expect(page.get_by_test_id("live-status")).to_have_text(re.compile(r"^2 entries"))

    filters.get_by_label("Outcome").select_option("failure")
    expect(rows).to_have_count(50)
    expect(page.get_by_test_id("live-status")).to_have_text(re.compile(r"^60 entries"))
    page.get_by_test_id("page-older").click()
    expect(rows).to_have_count(10)
    assert page.evaluate(SAME), "the pager reloaded the page"
    assert "outcome=failure" in page.url and page.url != live_server.url + "/logs/signins/"
    second_page = page.url

    page.go_back()  # the filtered first page, rebuilt from the server (no copy in the browser)
    expect(rows).to_have_count(50)
    expect(page).to_have_url(re.compile(r"outcome=failure"))
    page.go_forward()
    expect(rows).to_have_count(10)
    assert page.url == second_page
    assert page.evaluate("localStorage.getItem('htmx-history-cache')") is None


def test_the_same_filter_works_with_javascript_off(live_server, browser: Browser):
    from tests.conftest import _tenant_set

    acme = _tenant_set("Acme")
    _history(acme)
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    _sign_in(page, live_server.url, acme.admin.email)
    page.goto(live_server.url + "/logs/signins/")
    filters = page.get_by_test_id("signin-filters")
    filters.get_by_label("Outcome").select_option("success")
    expect(page.get_by_test_id("signin-row")).to_have_count(50)  # nothing happens on change
    with page.expect_navigation():
        filters.get_by_role("button", name="Filter").click()
    expect(page.get_by_test_id("signin-row")).to_have_count(2)
    assert "outcome=success" in page.url
    with page.expect_navigation():
        page.get_by_role("link", name="Clear filters").click()
    expect(page.get_by_test_id("signin-row")).to_have_count(50)
    context.close()


def test_triage_acts_in_place(live_server, page: Page):
    from tests.conftest import _tenant_set

    acme = _tenant_set("Acme")
    alert = make_alert(acme.member, rule="new_country", severity="high")
    _sign_in(page, live_server.url, acme.admin.email)
    page.goto(f"{live_server.url}/alerts/{alert.pk}/")
    page.evaluate(MARK)
    triage = page.get_by_test_id("triage")
    triage.get_by_label("Note").fill("Checked with the employee: a forgotten password.")
    triage.get_by_role("button", name="Acknowledge").click()
    expect(page.get_by_test_id("timeline-entry").filter(
        has_text="Checked with the employee")).to_be_visible()
    assert page.evaluate(SAME), "the action reloaded the page"
    alert.refresh_from_db()
    assert alert.status == AlertStatus.ACKNOWLEDGED


def test_a_session_that_ended_sends_the_filter_to_the_sign_in_page(live_server, page: Page):
    from tests.conftest import _tenant_set

    acme = _tenant_set("Acme")
    _sign_in(page, live_server.url, acme.admin.email)
    page.goto(live_server.url + "/logs/signins/")
    page.context.clear_cookies()  # signed out elsewhere, or the idle timeout
    page.get_by_test_id("signin-filters").get_by_label("Outcome").select_option("failure")
    expect(page).to_have_url(re.compile(r"/signin/\?next="))
    expect(page.get_by_label("E-mail address")).to_be_visible()
    expect(page.locator("nav.sidebar")).to_have_count(0)  # a whole sign-in page, not a swap
    page.get_by_label("E-mail address").fill(acme.admin.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(r"/logs/signins/\?.*outcome=failure"))
