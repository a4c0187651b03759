"""Every model of the security app, imported here so Django finds them (app label ``security``).

Each model lives in its concept's package: the session index in ``security.sessions``, the
device cookies in ``security.signin``, each policy in ``security.policies.<name>``.
"""

from __future__ import annotations

from security.policies.hours.models import SignInHoursPolicy
from security.policies.lockout.models import LockoutPolicy
from security.policies.mail.models import MailPolicy
from security.policies.mfa.models import MfaPolicy
from security.policies.models import TenantPolicy
from security.policies.network.models import NetworkAllowEntry, NetworkPolicy
from security.policies.password.models import (
    PasswordExpiryReminder,
    PasswordHistory,
    PasswordPolicy,
    PasswordState,
)
from security.policies.sessions.models import SessionPolicy
from security.recovery.models import PasswordReset, PasswordResetThrottle
from security.sessions.models import UserSession
from security.signin.models import CeilingLift, DeviceCookie

__all__ = [
    "CeilingLift",
    "DeviceCookie",
    "LockoutPolicy",
    "MailPolicy",
    "MfaPolicy",
    "NetworkAllowEntry",
    "NetworkPolicy",
    "PasswordExpiryReminder",
    "PasswordHistory",
    "PasswordPolicy",
    "PasswordReset",
    "PasswordResetThrottle",
    "PasswordState",
    "SessionPolicy",
    "SignInHoursPolicy",
    "UserSession",
]

# The one-row-per-tenant policies: audited and versioned by SecurityConfig.ready().
POLICY_MODELS: tuple[type[TenantPolicy], ...] = (
    NetworkPolicy, SignInHoursPolicy, PasswordPolicy, MfaPolicy, LockoutPolicy, SessionPolicy, MailPolicy)
