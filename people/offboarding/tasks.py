from __future__ import annotations

from celery import shared_task

from people.offboarding.services import offboardings_due_carry_out


@shared_task(name="people.offboardings_due", time_limit=600, soft_time_limit=540)
def offboardings_due_task() -> int:
    """Idempotent (a person's status is re-read under a row lock): safe to run twice or overlap."""
    return offboardings_due_carry_out()
