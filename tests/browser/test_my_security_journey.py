"""The "My security" journey: an employee signed in on a laptop and on a phone notices the phone
on "My security", signs it out from the laptop, and the phone is back at the sign-in page while
the laptop carries on."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, Page, expect

from activity.models import LoginEvent
from security.models import UserSession
from tests.factories import PASSWORD
from tests.security.signin_support import CHROME_WINDOWS, SAFARI_IPHONE

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _sign_in(page: Page, base: str, email: str) -> None:
    page.goto(base + "/signin/")
    page.get_by_label("E-mail address").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="My profile")).to_be_visible()


def test_employee_signs_out_the_other_session_from_my_security(live_server, browser: Browser):
    from tests.conftest import _tenant_set

    acme = _tenant_set("Acme")
    member = acme.member
    base = live_server.url
    laptop = browser.new_context(user_agent=CHROME_WINDOWS).new_page()
    phone = browser.new_context(user_agent=SAFARI_IPHONE, viewport={"width": 390, "height": 844},
                                is_mobile=True, has_touch=True).new_page()
    laptop.set_default_timeout(15_000)
    phone.set_default_timeout(15_000)
    _sign_in(laptop, base, member.email)
    _sign_in(phone, base, member.email)
    assert UserSession.objects.filter(user=member).count() == 2

    laptop.get_by_role("link", name="My security").click()
    expect(laptop.get_by_role("heading", name="My security", level=1)).to_be_visible()
    sessions = laptop.get_by_test_id("security-sessions")
    rows = sessions.get_by_test_id("session-row")
    expect(rows).to_have_count(2)
    this = rows.filter(has_text="This browser")
    expect(this).to_contain_text("Chrome")
    other = rows.filter(has_text="Mobile Safari")
    expect(other).to_contain_text("iOS")
    other.get_by_role("button", name="Sign out").click()

    expect(laptop.get_by_text("The session was ended.")).to_be_visible()
    expect(laptop.get_by_test_id("security-sessions").get_by_test_id("session-row")).to_have_count(1)
    assert UserSession.objects.filter(user=member).count() == 1
    assert LoginEvent.objects.for_tenant(acme.tenant).filter(
        user=member, outcome="signout", reason="signed_out").count() == 1

    # The phone's next click lands on the sign-in page; the laptop is still signed in.
    phone.reload()
    expect(phone.get_by_role("button", name="Sign in")).to_be_visible()
    assert "/signin/" in phone.url
    laptop.reload()
    expect(laptop.get_by_role("heading", name="My security", level=1)).to_be_visible()
