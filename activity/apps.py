from __future__ import annotations

from django.apps import AppConfig


class ActivityConfig(AppConfig):
    name = "activity"

    def ready(self) -> None:
        from accounts.mfa.signals import mfa_changed
        from activity.middleware import connect_audit_context
        from activity.receivers import mfa_change_record

        connect_audit_context()
        mfa_changed.connect(mfa_change_record, dispatch_uid="activity.mfa_change_record")
