"""The owner's journey through the sign-in policies: a custom password policy, two-step sign-in
for owners and administrators, an enforced network allowlist (the owner's own address inside it,
so no lock-out warning) and sign-in hours in monitor mode. Each page says what is now in force;
an employee outside the allowlist is then refused. Runs at a desktop's and a phone's size."""

from __future__ import annotations

import pytest
from django.test import override_settings
from playwright.sync_api import Browser, Page, expect

from activity.models import LoginEvent
from security.policies.hours.models import SignInHoursPolicy
from security.policies.mfa.models import MfaPolicy
from security.policies.network.models import NetworkAllowEntry, NetworkPolicy
from security.policies.password.models import PasswordPolicy
from tests.browser.conftest import journey_screenshot
from tests.factories import PASSWORD
from tests.security.signin_support import CHROME_WINDOWS

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

OFFICE_IP, ELSEWHERE_IP = "198.51.100.7", "81.2.69.160"


@override_settings(TRUSTED_PROXY_COUNT=1, TRUSTED_PROXY_CIDRS=[])
def test_owner_sets_password_mfa_allowlist_and_hours_policies(live_server, page: Page,
                                                             browser: Browser, viewport):
    from tests.conftest import _tenant_set

    acme, globex = _tenant_set("Acme"), _tenant_set("Globex")
    base = live_server.url
    # The owner works from the office, behind the company's proxy.
    page.set_extra_http_headers({"X-Forwarded-For": OFFICE_IP})
    page.goto(base + "/signin/")
    page.get_by_label("E-mail address").fill(acme.owner.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()

    # Password: a custom profile of 14 characters with a digit, the last 5 passwords refused.
    page.goto(base + "/policies/password/")
    expect(page.get_by_role("heading", name="Password policy", level=1)).to_be_visible()
    page.get_by_label("Custom", exact=True).check()
    page.get_by_label("Minimum length").fill("14")
    page.get_by_label("Maximum length").fill("128")
    page.get_by_label("Require a digit").check()
    page.get_by_label("Previous passwords refused").fill("5")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("The password policy is saved.")).to_be_visible()
    expect(page.get_by_test_id("policy-profile")).to_have_text("Custom")
    expect(page.get_by_test_id("policy-help")).to_contain_text("14")
    journey_screenshot(page, "owner-password-policy")

    # Two-step sign-in: required for owners and administrators, a week's grace.
    page.goto(base + "/policies/mfa/")
    page.get_by_label("Required for owners and administrators").check()
    page.get_by_label("Grace period in days").fill("7")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("The two-step sign-in policy is saved.")).to_be_visible()
    expect(page.get_by_test_id("policy-requirement")).to_have_text(
        "Required for owners and administrators")
    expect(page.get_by_test_id("grace-ends")).to_be_visible()
    journey_screenshot(page, "owner-mfa-policy")

    # Allowlist, enforced: the owner's own address is inside it.
    page.goto(base + "/policies/network/")
    expect(page.get_by_role("heading", name="Network allowlist")).to_be_visible()
    page.get_by_label("Allowed networks").fill("198.51.100.0/24 This office\n10.20.0.0/16 VPN")
    page.get_by_label("Mode").select_option("enforce")
    page.get_by_label("Applies to").select_option("everyone")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("The network allowlist is saved.")).to_be_visible()
    expect(page.get_by_test_id("policy-mode")).to_have_text("Enforce")
    expect(page.get_by_test_id("current-ip")).to_have_text(OFFICE_IP)
    expect(page.get_by_test_id("current-ip-inside")).to_contain_text("Yes")
    expect(page.get_by_test_id("self-lockout-warning")).to_have_count(0)
    journey_screenshot(page, "owner-network-policy")

    # Sign-in hours, monitored first: weekdays 08:00-19:00. A mistyped range is refused first.
    page.goto(base + "/policies/hours/")
    expect(page.get_by_role("heading", name="Sign-in hours")).to_be_visible()
    page.get_by_label("Monday", exact=True).fill("8 till late")
    page.get_by_label("Mode").select_option("monitor")
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".has-error").filter(has=page.get_by_label("Monday", exact=True))
           .locator(".error")).to_be_visible()
    expect(page.get_by_test_id("policy-mode")).to_have_text("Off")
    for day in ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday"):
        page.get_by_label(day, exact=True).fill("08:00-19:00")
    page.get_by_label("Mode").select_option("monitor")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("The sign-in hours are saved.")).to_be_visible()
    expect(page.get_by_test_id("policy-mode")).to_have_text("Monitor (record, do not block)")
    expect(page.get_by_label("Monday", exact=True)).to_have_value("08:00-19:00")
    journey_screenshot(page, "owner-hours-policy")

    tenant = acme.tenant
    password = PasswordPolicy.objects.get(tenant=tenant)
    assert (password.profile, password.min_length, password.require_digit,
            password.history_count) == ("custom", 14, True, 5)
    assert MfaPolicy.objects.get(tenant=tenant).requirement == "required_admins"
    assert NetworkPolicy.objects.get(tenant=tenant).mode == "enforce"
    assert sorted(NetworkAllowEntry.objects.for_tenant(tenant).values_list("cidr", "label")) == [
        ("10.20.0.0/16", "VPN"), ("198.51.100.0/24", "This office")]
    assert SignInHoursPolicy.objects.get(tenant=tenant).mode == "monitor"
    # Another company's policies are untouched.
    assert not NetworkPolicy.objects.filter(tenant=globex.tenant, mode="enforce").exists()

    # The allowlist is in force: an employee from an address outside it is refused.
    outside = browser.new_context(user_agent=CHROME_WINDOWS,
                                  extra_http_headers={"X-Forwarded-For": ELSEWHERE_IP}).new_page()
    outside.goto(base + "/signin/")
    outside.get_by_label("E-mail address").fill(acme.member.email)
    outside.get_by_label("Password").fill(PASSWORD)
    outside.get_by_role("button", name="Sign in").click()
    expect(outside.get_by_role("alert")).to_be_visible()
    expect(outside.get_by_role("button", name="Sign in")).to_be_visible()
    journey_screenshot(outside, "employee-outside-allowlist")
    last = LoginEvent.objects.for_tenant(tenant).filter(user=acme.member).latest("id")
    assert (last.outcome, last.reason) == ("denied", "network_denied")
