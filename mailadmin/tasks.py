from __future__ import annotations

from celery import shared_task

from mailadmin.health import beat_heartbeat_write


@shared_task(name="mailadmin.beat_heartbeat", time_limit=30, soft_time_limit=20)
def beat_heartbeat_task() -> None:
    beat_heartbeat_write()
