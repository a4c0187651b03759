"""Sign-in: authenticate, then rotate the session and index it.

Before the password is verified every refusal reads the same (no account enumeration).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth import authenticate, login, logout
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from accounts.models import User, normalize_email
from security.sessions import user_session_forget, user_session_record

GENERIC_FAILURE = _("The e-mail address or password is incorrect, or this account cannot sign in.")


@dataclass(frozen=True)
class SignInResult:
    user: User | None
    error: str | None = None


def signin_attempt(*, request: HttpRequest, email: str, password: str) -> SignInResult:
    """Check the credentials; on success the person is signed in on a fresh session key."""
    user = authenticate(request, email=normalize_email(email), password=password)
    if user is None or getattr(request, "axes_locked_out", False):
        return SignInResult(user=None, error=str(GENERIC_FAILURE))
    login(request, user)  # rotates the session key
    user_session_record(request=request, user=user)
    return SignInResult(user=user)


def signout(*, request: HttpRequest) -> None:
    user_session_forget(session_key=request.session.session_key)
    logout(request)
