"""The alert journey: an employee signs in from a new country, the detector opens an alert and the
outbox worker delivers their "Was this you?" e-mail to a real SMTP server; they open its link without signing in and report it;
their sessions end; an admin sees the high-severity report, acknowledges and resolves it.

The country is simulated the way a deployment behind a proxy sees it: one trusted proxy and an
``X-Forwarded-For`` address that the configured resolver places in the United Kingdom (the
browser itself talks from loopback, which no resolver is asked about). Runs at a desktop's and a
phone's size; full-page screenshots land in var/artefacts/.
"""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.test import override_settings
from django.utils import timezone
from playwright.sync_api import Browser, Page, expect

from activity.capture.types import ClientInfo, DeviceType
from activity.services import login_event_record
from alerts.models import Alert
from alerts.tasks import alerts_detect_task
from notifications.delivery import deliver_due
from notifications.models import OutboxMessage
from security.models import UserSession
from tests.browser.conftest import follow_nav, journey_screenshot
from tests.factories import PASSWORD
from tests.notifications.support import SmtpHandler, smtp_server
from tests.security.signin_support import CHROME_WINDOWS

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

UK_IP = "81.2.69.160"
US = ClientInfo(ip="8.8.8.8", country="US", user_agent=CHROME_WINDOWS, browser_family="Chrome",
                browser_version="126", os_family="Windows", os_version="10",
                device_type=DeviceType.DESKTOP)


def _sign_in(page: Page, base: str, email: str) -> None:
    page.goto(base + "/signin/")
    page.get_by_label("E-mail address").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()


def _usual_history(user) -> None:
    """Three weeks of afternoon sign-ins from the US: past the learning period of new country."""
    today = timezone.now().replace(hour=14, minute=0, second=0, microsecond=0)
    for days in range(21, 0, -1):
        login_event_record(tenant=user.tenant, user=user, attempted_login=user.email, client=US,
                           outcome="success", reason="", occurred_at=today - dt.timedelta(days=days))


@override_settings(TRUSTED_PROXY_COUNT=1, TRUSTED_PROXY_CIDRS=[], NOTIFICATIONS_DELIVER_ON_COMMIT=False)
def test_employee_reports_a_new_country_signin_and_the_admin_resolves_it(
        live_server, page: Page, browser: Browser, viewport):
    from tests.conftest import _tenant_set

    acme = _tenant_set("Acme")
    member = acme.member
    member.timezone = "Europe/Berlin"
    member.save()
    _usual_history(member)
    base = live_server.url

    # The employee (or whoever has their password) signs in from the United Kingdom.
    abroad = browser.new_context(user_agent=CHROME_WINDOWS,
                                 extra_http_headers={"X-Forwarded-For": UK_IP})
    laptop = abroad.new_page()
    _sign_in(laptop, base, member.email)
    expect(laptop.get_by_role("heading", name="My profile")).to_be_visible()
    assert UserSession.objects.filter(user=member).exists()

    alerts_detect_task()  # what beat runs every few seconds
    opened = Alert.objects.for_tenant(acme.tenant).get(rule="new_country", user=member)
    assert opened.evidence["country"] == "GB"
    queued = OutboxMessage.objects.for_tenant(acme.tenant).get(kind="alert_was_this_you")
    assert queued.to == member.email
    # The outbox worker delivers it to a real SMTP server, where the person's mail arrives.
    with smtp_server(SmtpHandler()) as mailbox:
        deliver_due()
    [received] = [m for m in mailbox.received if m["To"] == member.email]
    assert str(received["Subject"]).startswith(
        "New sign-in to your account: Chrome on Windows, United Kingdom")
    text = received.get_payload(decode=True).decode()
    link = re.search(r"https?://\S+(/alerts/report/\S+/)", text).group(1)

    # The e-mail is read elsewhere, not signed in: the link's page only asks.
    phone = browser.new_context().new_page()
    phone.goto(base + link)
    expect(phone.get_by_test_id("report-confirm")).to_contain_text(UK_IP)
    journey_screenshot(phone, "alert-report-confirm")
    assert not Alert.objects.filter(rule="this_wasnt_me").exists()
    phone.get_by_role("button", name="This wasn't me: secure my account").click()
    expect(phone.get_by_role("heading", name="Thank you: your account is secured")).to_be_visible()
    journey_screenshot(phone, "alert-report-done")
    # Every session ended: the browser abroad is signed out.
    assert not UserSession.objects.filter(user=member).exists()
    laptop.goto(base + "/me/")
    expect(laptop.get_by_role("button", name="Sign in")).to_be_visible()
    # The link works once.
    phone.goto(base + link)
    expect(phone.get_by_test_id("report-link-refused")).to_contain_text("used already")
    abroad.close()

    # The admin sees the report at the top of the alerts and deals with it.
    _sign_in(page, base, acme.admin.email)
    expect(page.get_by_test_id("alerts-high")).to_have_text("1")
    follow_nav(page, "Alerts")
    row = page.get_by_test_id("alert-row").filter(has_text="This wasn't me")
    expect(row).to_contain_text("High")
    journey_screenshot(page, "alert-list")
    row.get_by_role("link").click()
    expect(page.get_by_test_id("alert-explained")).to_contain_text(UK_IP)
    expect(page.get_by_test_id("evidence-row")).to_contain_text("United Kingdom")
    journey_screenshot(page, "alert-detail")
    page.get_by_label("Note").fill("Called Lin: not her. Password reset at next sign-in.")
    page.get_by_role("button", name="Acknowledge").click()
    expect(page.get_by_text("Alert acknowledged.")).to_be_visible()
    expect(page.get_by_test_id("alert-status")).to_have_text("Acknowledged")
    page.get_by_role("button", name="Resolve").click()
    expect(page.get_by_test_id("alert-status")).to_have_text("Resolved")
    expect(page.get_by_test_id("timeline")).to_contain_text("Called Lin")
    journey_screenshot(page, "alert-resolved")
    report = Alert.objects.for_tenant(acme.tenant).get(rule="this_wasnt_me")
    assert (report.status, report.severity, report.user_id) == ("resolved", "high", member.pk)
