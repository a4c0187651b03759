"""Audit-trail registration of the account policies (called from ``SecurityConfig.ready``)."""

from __future__ import annotations


def register_account_policies() -> None:
    """Every change to a password, MFA, lockout or session policy becomes an audit entry.

    Password hashes (``PasswordHistory``) and per-person state are deliberately not registered:
    the trail records admins' decisions, not people's credentials. Idempotent.
    """
    from auditlog.registry import auditlog

    from security.policies.lockout import LockoutPolicy
    from security.policies.mfa import MfaPolicy
    from security.policies.password import PasswordPolicy
    from security.policies.sessions import SessionPolicy

    for model in (PasswordPolicy, MfaPolicy, LockoutPolicy, SessionPolicy):
        if not auditlog.contains(model):
            # updated_at moves on every save; the entry's own timestamp says when.
            auditlog.register(model, exclude_fields=["updated_at"])
