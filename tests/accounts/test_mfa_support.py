"""Helpers shared by the MFA tests (no tests here): enrol a device, compute codes with pyotp."""

from __future__ import annotations

import base64
from importlib import import_module
from urllib.parse import parse_qs, urlparse

import pyotp
from django.conf import settings

from accounts.mfa import services
from accounts.mfa.models import EncryptedTOTPDevice
from accounts.models import User


def new_session():
    return import_module(settings.SESSION_ENGINE).SessionStore()


def secret_of(enrollment: services.TotpEnrollment) -> str:
    """The base32 key as the person would type it from the page (spaces removed)."""
    return enrollment.key_text.replace(" ", "")


def secret_from_uri(uri: str) -> str:
    return parse_qs(urlparse(uri).query)["secret"][0]


def code_for(secret: str, *, offset_steps: int = 0) -> str:
    totp = pyotp.TOTP(secret)
    import time

    return totp.at(time.time() + 30 * offset_steps)


def enroll(user: User, *, name: str = "Phone") -> tuple[EncryptedTOTPDevice, str]:
    """A confirmed authenticator through the real enrolment services; returns (device, secret)."""
    session = new_session()
    enrollment = services.totp_enrollment_begin(session=session, user=user)
    secret = secret_of(enrollment)
    device = services.totp_enrollment_confirm(session=session, user=user,
                                              step_token=enrollment.step_token,
                                              code=code_for(secret), name=name)
    return device, secret


def hex_of(secret: str) -> str:
    padded = secret + "=" * (-len(secret) % 8)
    return base64.b32decode(padded).hex()
