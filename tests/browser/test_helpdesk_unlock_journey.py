from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import journey_screenshot
from tests.factories import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


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
