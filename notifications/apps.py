from __future__ import annotations

from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "notifications"

    def ready(self) -> None:
        from auditlog.registry import auditlog

        from accounts.mfa.signals import mfa_changed, mfa_reset
        from notifications.models import WebhookEndpoint
        from notifications.receivers import mfa_change_email, mfa_reset_email

        # Endpoint changes are audited by django-auditlog like every registered model; the
        # secret never enters the audit trail (a rotation shows as a new secret_rotated_at).
        auditlog.register(WebhookEndpoint, exclude_fields=["secret"])
        mfa_changed.connect(mfa_change_email, dispatch_uid="notifications_mfa_change_email")
        mfa_reset.connect(mfa_reset_email, dispatch_uid="notifications_mfa_reset_email")
