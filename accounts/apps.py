from __future__ import annotations

from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"

    def ready(self) -> None:
        from auditlog.registry import auditlog

        from accounts.models import User

        # Role and status changes are the point; secrets and sign-in noise are not.
        auditlog.register(User, exclude_fields=["password", "last_login"])

        # Django's receiver saves the whole user, which makes auditlog re-read the row on every
        # sign-in only to find no audited change; a direct UPDATE records the time for less.
        from django.contrib.auth.models import update_last_login
        from django.contrib.auth.signals import user_logged_in

        from accounts.services import last_login_record

        user_logged_in.disconnect(update_last_login, dispatch_uid="update_last_login")
        user_logged_in.connect(last_login_record, dispatch_uid="mailadmin_last_login")
