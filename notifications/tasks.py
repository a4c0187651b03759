from __future__ import annotations

from celery import shared_task

from notifications.delivery import deliver_due


@shared_task(name="notifications.deliver_due", time_limit=280, soft_time_limit=250)
def deliver_due_task() -> int:
    """From beat every few seconds; claims rows with SKIP LOCKED, so overlapping runs are safe.

    The limits stay under the claim lease: a run killed by them leaves rows that are due again.
    """
    return deliver_due(limit=100).sent
