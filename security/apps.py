from __future__ import annotations

from django.apps import AppConfig


class SecurityConfig(AppConfig):
    name = "security"

    def ready(self) -> None:
        from security.policies.registry import register_access_policies
        from security.policies.registry_account import register_account_policies

        register_access_policies()
        register_account_policies()

        from security.models import (
            LockoutPolicy,
            MfaPolicy,
            NetworkAllowEntry,
            NetworkPolicy,
            PasswordPolicy,
            SessionPolicy,
            SignInHoursPolicy,
        )
        from security.policies.cache import connect_policy_models

        connect_policy_models([NetworkPolicy, NetworkAllowEntry, SignInHoursPolicy, PasswordPolicy,
                               MfaPolicy, LockoutPolicy, SessionPolicy])
