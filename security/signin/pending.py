"""The half-signed-in state between a verified password and a verified second factor.

Design: ``login()`` is never called before the second factor. The session (rotated when the
password is verified) holds only the person's id, the stage and a timestamp. Such a session is
anonymous to every view; only the MFA verify/enrol pages read it (through ``pending_get``), and
``pending_complete`` performs the real ``login()``, which rotates the key again.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Literal

from django.http import HttpRequest

from accounts.models import User

SESSION_KEY = "mailadmin.pending_signin"
PENDING_TTL_SECONDS = 10 * 60
# Days left to enrol in MFA, set at sign-in during the grace period (drives the banner).
MFA_GRACE_SESSION_KEY = "mailadmin.mfa_grace_days"
# Set on a full session whose password no longer meets the policy: only the change page works.
PASSWORD_CHANGE_SESSION_KEY = "mailadmin.must_change_password"  # noqa: S105 -- a key name

Stage = Literal["verify", "enroll"]


@dataclass(frozen=True)
class PendingSignIn:
    user: User
    stage: Stage
    started_at: float
    password_change_required: bool = False
    # Policies in monitor mode that would have refused this attempt (kept for the success row).
    monitored: tuple[str, ...] = ()


def pending_begin(*, request: HttpRequest, user: User, stage: Stage,
                  password_change_required: bool = False, monitored: list[str] | None = None) -> None:
    """Rotate the session key and remember who passed the password step."""
    request.session.cycle_key()
    request.session[SESSION_KEY] = {
        "uid": user.pk, "stage": stage, "at": time.time(), "pwchange": password_change_required,
        "monitored": list(monitored or []),
        # Invalidated if the password changes in the meantime.
        "hash": user.get_session_auth_hash(),
    }


def pending_get(request: HttpRequest) -> PendingSignIn | None:
    data = request.session.get(SESSION_KEY)
    if not isinstance(data, dict):
        return None
    if time.time() - float(data.get("at", 0)) > PENDING_TTL_SECONDS:
        pending_clear(request)
        return None
    user = User.objects.select_related("tenant").filter(pk=data.get("uid")).first()
    if user is None or not user.is_active or user.get_session_auth_hash() != data.get("hash"):
        pending_clear(request)
        return None
    stage: Stage = "enroll" if data.get("stage") == "enroll" else "verify"
    return PendingSignIn(user=user, stage=stage, started_at=float(data["at"]),
                         password_change_required=bool(data.get("pwchange")),
                         monitored=tuple(str(r) for r in data.get("monitored") or ()))


def pending_clear(request: HttpRequest) -> None:
    request.session.pop(SESSION_KEY, None)
