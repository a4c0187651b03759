"""An employee adds a passkey in the real Chromium, then signs in with password + passkey.

The authenticator is Chromium's DevTools virtual one (CDP ``WebAuthn``): a platform passkey
with user verification, created and used by the browser exactly as a laptop's would be. The
live server runs on http://localhost (a secure context; 127.0.0.1 is not a valid RP id).
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from activity.models import LoginEvent
from tests.factories import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _sign_in(page: Page, base: str, email: str) -> None:
    page.goto(base + "/signin/")
    page.get_by_label("E-mail address").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()


def _virtual_authenticator(page: Page) -> tuple[object, str]:
    cdp = page.context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    added = cdp.send("WebAuthn.addVirtualAuthenticator", {"options": {
        "protocol": "ctap2", "transport": "internal", "hasResidentKey": True,
        "hasUserVerification": True, "isUserVerified": True,
    }})
    return cdp, added["authenticatorId"]


def test_an_employee_adds_a_passkey_and_signs_in_with_it(live_server, page: Page, settings):
    from tests.conftest import _tenant_set

    assert live_server.url.startswith("http://localhost:")
    settings.OTP_WEBAUTHN_RP_ID = "localhost"
    settings.OTP_WEBAUTHN_ALLOWED_ORIGINS = [live_server.url]
    acme = _tenant_set("Acme")
    base = live_server.url
    cdp, authenticator = _virtual_authenticator(page)

    # Signed in with the password only (no device yet), the employee adds a passkey.
    _sign_in(page, base, acme.member.email)
    expect(page.get_by_role("heading", name="My profile")).to_be_visible()
    page.goto(base + "/me/mfa/")
    expect(page.get_by_test_id("passkeys-none")).to_be_visible()
    page.get_by_role("link", name="Add a passkey").click()
    expect(page.get_by_role("heading", name="Confirm it is you")).to_be_visible()
    page.get_by_label("Password or authentication code").fill(PASSWORD)
    page.get_by_role("button", name="Confirm").click()
    expect(page.get_by_role("heading", name="Add a passkey")).to_be_visible()
    page.get_by_label("Name (optional)").fill("Work laptop")
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_test_id("passkey-name")).to_contain_text("Work laptop")
    page.get_by_role("button", name="Create the passkey").click()

    # The first device: its backup codes, shown once.
    expect(page.get_by_role("heading", name="Two-step sign-in is on")).to_be_visible()
    expect(page.get_by_test_id("backup-codes").locator("li")).to_have_count(10)
    page.get_by_role("link", name="I have saved them").click()
    passkeys = page.get_by_test_id("mfa-passkeys")
    expect(passkeys).to_contain_text("Work laptop")
    credentials = cdp.send("WebAuthn.getCredentials", {"authenticatorId": authenticator})
    assert len(credentials["credentials"]) == 1  # the browser holds the private key
    page.get_by_role("button", name="Sign out").click()

    # Password, then the passkey.
    _sign_in(page, base, acme.member.email)
    expect(page.get_by_role("heading", name="Two-step sign-in")).to_be_visible()
    page.get_by_role("button", name="Use a passkey").click()
    expect(page.get_by_role("heading", name="My profile")).to_be_visible()

    last = LoginEvent.objects.for_tenant(acme.tenant).filter(user=acme.member).order_by("-id").first()
    assert (last.outcome, last.reason, last.mfa_method) == ("success", "mfa_verified", "passkey")

    # The employee's sign-in history says which second factor it was.
    page.goto(base + "/me/signins/")
    newest = page.get_by_test_id("signin-row").first
    expect(newest).to_contain_text("Passkey")
    expect(newest).to_contain_text(re.compile("Success", re.IGNORECASE))
    # And the passkey's "last used" is filled in.
    page.goto(base + "/me/mfa/")
    expect(page.get_by_test_id("mfa-passkeys").locator("tbody tr td").nth(2)).not_to_have_text("—")
