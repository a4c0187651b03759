"""People's Celery tasks: the worker's autodiscovery imports this module, so each task of a
people package is named here."""

from __future__ import annotations

from people.imports.tasks import imports_run_due_task
from people.offboarding.tasks import offboardings_due_task
from people.reminders import invitation_expiry_reminders_task

__all__ = ["imports_run_due_task", "invitation_expiry_reminders_task", "offboardings_due_task"]
