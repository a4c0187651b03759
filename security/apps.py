from __future__ import annotations

from django.apps import AppConfig


class SecurityConfig(AppConfig):
    name = "security"

    def ready(self) -> None:
        from security.policies.registry import register_access_policies
        from security.policies.registry_account import register_account_policies

        register_access_policies()
        register_account_policies()
