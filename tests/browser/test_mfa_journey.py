from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pyotp
import pytest
from playwright.sync_api import Page, expect

from activity.models import LoginEvent
from tests.browser.conftest import journey_screenshot
from tests.factories import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _sign_in(page: Page, base: str, email: str, password: str) -> None:
    page.goto(base + "/signin/")
    page.get_by_label("E-mail address").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


def test_admin_requires_mfa_and_an_employee_enrols_then_signs_in_again(live_server, page: Page,
                                                                       time_machine, viewport):
    from tests.conftest import _tenant_set

    time_machine.move_to(datetime.now(tz=ZoneInfo("UTC")), tick=True)
    acme = _tenant_set("Acme")
    base = live_server.url

    # The admin requires two-step sign-in for everyone, no grace period.
    _sign_in(page, base, acme.admin.email, PASSWORD)
    page.goto(base + "/policies/mfa/")
    page.get_by_label("Required for everyone").check()
    page.get_by_label("Grace period in days").fill("0")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_test_id("policy-requirement")).to_have_text("Required for everyone")
    journey_screenshot(page, "mfa-policy-required")
    page.get_by_role("button", name="Sign out").click()

    # The employee signs in and can do nothing before enrolling.
    _sign_in(page, base, acme.member.email, PASSWORD)
    expect(page.get_by_role("heading", name="Set up two-step sign-in")).to_be_visible()
    page.goto(base + "/me/")  # not signed in yet: back to the second step
    expect(page.get_by_role("heading", name="Set up two-step sign-in")).to_be_visible()
    journey_screenshot(page, "mfa-forced-enrolment")
    key = page.get_by_test_id("totp-key").inner_text()
    totp = pyotp.TOTP(key.replace(" ", "").replace("-", ""))
    page.get_by_label("Code").fill(totp.now())
    page.get_by_role("button", name="Confirm and turn on").click()
    # The first device comes with backup codes, shown once, then on to where they were going.
    expect(page.get_by_role("heading", name="Two-step sign-in is on")).to_be_visible()
    expect(page.get_by_test_id("backup-codes").locator("li")).to_have_count(10)
    journey_screenshot(page, "mfa-backup-codes")
    page.get_by_role("link", name="I have saved them").click()
    expect(page.get_by_role("heading", name="My profile")).to_be_visible()
    page.get_by_role("button", name="Sign out").click()

    # Half a minute later: password, then a fresh code.
    time_machine.move_to(datetime.now(tz=ZoneInfo("UTC")) + timedelta(seconds=31), tick=True)
    _sign_in(page, base, acme.member.email, PASSWORD)
    expect(page.get_by_role("heading", name="Two-step sign-in")).to_be_visible()
    page.get_by_label("Code").fill(totp.now())
    page.get_by_role("button", name="Verify").click()
    expect(page.get_by_role("heading", name="My profile")).to_be_visible()
    journey_screenshot(page, "mfa-signed-in-with-code")

    last = LoginEvent.objects.for_tenant(acme.tenant).filter(user=acme.member).order_by("-id").first()
    assert (last.outcome, last.reason, last.mfa_method) == ("success", "mfa_verified", "totp")
    assert last.browser_family in {"Chrome", "HeadlessChrome", "Chromium"}
