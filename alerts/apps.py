from __future__ import annotations

from django.apps import AppConfig


class AlertsConfig(AppConfig):
    name = "alerts"

    def ready(self) -> None:
        from activity.signals import record_committed
        from alerts.receivers import record_committed_detect

        record_committed.connect(record_committed_detect, dispatch_uid="alerts.record_committed_detect")
