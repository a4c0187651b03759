"""Helpers for the passkey tests (no tests here): enrol a passkey through the real pages."""

from __future__ import annotations

from django.conf import settings
from django.test import Client

from accounts.models import User
from tests.accounts.passkeys.authenticator import SoftAuthenticator
from tests.factories import PASSWORD


def soft_authenticator() -> SoftAuthenticator:
    return SoftAuthenticator(rp_id=settings.OTP_WEBAUTHN_RP_ID,
                             origin=settings.OTP_WEBAUTHN_ALLOWED_ORIGINS[0])


def confirmed_client(user: User) -> Client:
    """A signed-in client that just re-entered its password (sensitive MFA changes need it)."""
    client = Client()
    response = client.post("/signin/", {"email": user.email, "password": PASSWORD})
    assert response.status_code == 302 and response["Location"] == "/", response.content[:300]
    assert client.post("/me/mfa/confirm/", {"secret": PASSWORD}).status_code == 302
    return client


def register(client: Client, auth: SoftAuthenticator, *, name: str = "Laptop"):
    """Name, begin, create, complete: the page's steps; returns the complete view's response."""
    page = client.post("/me/mfa/passkeys/add/", {"name": name})
    assert page.status_code == 200 and 'id="passkey-register-button"' in page.content.decode()
    options = client.post("/me/mfa/passkeys/register/begin/")
    assert options.status_code == 200, options.content
    return client.post("/me/mfa/passkeys/register/complete/", auth.create(options.json()),
                       content_type="application/json")


def enrol_passkey(user: User, *, name: str = "Laptop") -> SoftAuthenticator:
    """A passkey for a person without a device yet, through the self-service pages."""
    auth = soft_authenticator()
    response = register(confirmed_client(user), auth, name=name)
    assert response.status_code == 200, response.content
    return auth
