"""security's models, one module per concept."""

from __future__ import annotations

from security.models.sessions import UserSession

__all__ = ["UserSession"]
from security.policies.hours import SignInHoursPolicy
from security.policies.network import NetworkAllowEntry, NetworkPolicy

__all__ += ["NetworkAllowEntry", "NetworkPolicy", "SignInHoursPolicy"]
from security.policies.lockout import LockoutPolicy  # noqa: E402
from security.policies.mfa import MfaPolicy  # noqa: E402
from security.policies.password import (  # noqa: E402
    PasswordExpiryReminder,
    PasswordHistory,
    PasswordPolicy,
    PasswordState,
)
from security.policies.sessions import SessionPolicy  # noqa: E402

__all__ += ["LockoutPolicy", "MfaPolicy", "PasswordExpiryReminder", "PasswordHistory",
            "PasswordPolicy", "PasswordState", "SessionPolicy"]
