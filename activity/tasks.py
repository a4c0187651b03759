from __future__ import annotations

from celery import shared_task

from activity.partitions import partitions_ensure


@shared_task(name="activity.partitions_ensure", time_limit=600, soft_time_limit=540)
def partitions_ensure_task(days_ahead: int = 14) -> list[str]:
    """Daily: partitions for today and ``days_ahead`` days. Idempotent; a no-op on SQLite."""
    return partitions_ensure(days_ahead=days_ahead)
