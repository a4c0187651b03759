from __future__ import annotations

from django.apps import AppConfig


class ActivityConfig(AppConfig):
    name = "activity"

    def ready(self) -> None:
        from activity.middleware import connect_audit_context

        connect_audit_context()
