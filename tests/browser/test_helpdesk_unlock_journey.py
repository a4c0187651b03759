from __future__ import annotations

import re

import pytest
from django.core import mail
from playwright.sync_api import Page, expect

from tests.browser.conftest import journey_screenshot
from tests.factories import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

NEW_PASSWORD = "Quiet-harbour-lanterns-2026"


def _sign_in(page: Page, base: str, email: str, password: str) -> None:
    page.goto(base + "/signin/")
    page.get_by_label("E-mail address").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


def test_helpdesk_unlocks_a_locked_account_from_the_person_page(live_server, page: Page, browser,
                                                               viewport):
    from tests.conftest import _tenant_set

    acme = _tenant_set("Acme")
    base = live_server.url
    # The member locks themselves out (five wrong passwords, the default limit).
    for _ in range(5):
        _sign_in(page, base, acme.member.email, "wrong-password")
    _sign_in(page, base, acme.member.email, PASSWORD)
    expect(page.get_by_role("button", name="Sign in")).to_be_visible()  # still refused
    journey_screenshot(page, "helpdesk-locked-out")

    helpdesk = browser.new_context().new_page()
    _sign_in(helpdesk, base, acme.helpdesk.email, PASSWORD)
    helpdesk.goto(f"{base}/people/{acme.member.pk}/")
    expect(helpdesk.get_by_test_id("person-locked")).to_have_text("Locked out")
    journey_screenshot(helpdesk, "helpdesk-person-locked")
    helpdesk.get_by_test_id("action-unlock").click()
    # Unlocking asks who the helpdesk person is, then shows what it will do.
    helpdesk.get_by_label("Password or authentication code").fill(PASSWORD)
    helpdesk.get_by_role("button", name="Confirm").click()
    helpdesk.get_by_test_id("confirm").click()
    expect(helpdesk.get_by_text("can sign in again")).to_be_visible()
    expect(helpdesk.get_by_test_id("person-locked")).to_have_text("Not locked")
    journey_screenshot(helpdesk, "helpdesk-unlocked")

    _sign_in(page, base, acme.member.email, PASSWORD)
    expect(page.get_by_role("heading", name="My profile")).to_be_visible()
    assert helpdesk.viewport_size == viewport  # the helpdesk's own browser has the size too

    # The member has forgotten the password after all: the helpdesk sends a reset link (their
    # confirmation a minute ago still counts), and the member uses it.
    page.context.clear_cookies()
    mail.outbox.clear()
    helpdesk.get_by_test_id("action-send-reset").click()  # not destructive: sent at once
    expect(helpdesk.get_by_text(f"A password-reset link was sent to {acme.member.email}.")).to_be_visible()
    [message] = [m for m in mail.outbox if m.to == [acme.member.email]]
    link = re.search(r"https?://[^\s]+/signin/reset/\d+/[^\s/]+/", message.body).group(0)
    page.goto(base + link[link.index("/signin/reset/"):])
    expect(page.get_by_role("heading", name="Choose a new password")).to_be_visible()
    page.get_by_label("New password", exact=True).fill(NEW_PASSWORD)
    page.get_by_label("Repeat the new password").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Set new password").click()
    journey_screenshot(page, "helpdesk-reset-used")
    _sign_in(page, base, acme.member.email, PASSWORD)  # the old password no longer works
    expect(page.get_by_role("button", name="Sign in")).to_be_visible()
    _sign_in(page, base, acme.member.email, NEW_PASSWORD)
    expect(page.get_by_role("heading", name="My profile")).to_be_visible()
    # The link worked once: opened again, it is refused.
    page.context.clear_cookies()
    page.goto(base + link[link.index("/signin/reset/"):])
    expect(page.get_by_role("heading", name="Choose a new password")).to_have_count(0)
