"""The nightly sweep on beat (mailadmin/celery.py, "retention-sweep")."""

from __future__ import annotations

from celery import shared_task
from django.conf import settings

from retention.sweep import retention_sweep

# The broker redelivers a task that is not acknowledged within its visibility timeout
# (TASK_HARD_LIMIT + 15 minutes in mailadmin/celery.py); the time limit stays below it, and
# the sweep's own budget (RETENTION_SWEEP_BUDGET_SECONDS) below the soft limit, so it stops
# itself cleanly first and resumes the next night.
SWEEP_TIME_LIMIT = 30 * 60
SWEEP_SOFT_TIME_LIMIT = SWEEP_TIME_LIMIT - 2 * 60


@shared_task(name="retention.sweep", acks_late=True, time_limit=SWEEP_TIME_LIMIT,
             soft_time_limit=SWEEP_SOFT_TIME_LIMIT)
def retention_sweep_task() -> str:
    """Nightly: roll up, purge, receipts (idempotent; a second one at once is skipped)."""
    budget = min(settings.RETENTION_SWEEP_BUDGET_SECONDS, SWEEP_SOFT_TIME_LIMIT - 60)
    return str(retention_sweep(budget_seconds=budget).status)
