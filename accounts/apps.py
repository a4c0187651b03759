from __future__ import annotations

from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"

    def ready(self) -> None:
        from auditlog.registry import auditlog

        from accounts.models import User

        # Role and status changes are the point; secrets and sign-in noise are not.
        auditlog.register(User, exclude_fields=["password", "last_login"])
