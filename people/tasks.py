"""People's Celery tasks: the worker's autodiscovery imports this module, so each task of a
people package is named here."""

from __future__ import annotations

from people.offboarding.tasks import offboardings_due_task

__all__ = ["offboardings_due_task"]
