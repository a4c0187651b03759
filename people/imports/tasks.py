"""People import tasks: beat runs the due jobs (queued, or left by a killed worker)."""

from __future__ import annotations

from celery import shared_task

from people.imports.services import import_jobs_run_due


@shared_task(name="people.imports_run_due", time_limit=30 * 60, soft_time_limit=29 * 60)
def imports_run_due_task() -> int:
    """Every few seconds: preview or apply each due import; a job owned by a live worker
    (its lease, its locked row) is skipped. Returns how many jobs ran."""
    return import_jobs_run_due()
