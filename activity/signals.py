"""What the record tells the layers above it.

``record_committed`` is sent after a transaction that wrote sign-in or export rows commits
(``transaction.on_commit``), with ``tenant_id`` and ``kind`` ("signin" or "export"). Receivers
run in the request after its commit, so they must be quick and must never block on Redis:
``alerts`` runs its detector only when embedded (eager, no worker); with a worker it ignores
the signal and beat drives detection from the database.
"""

from __future__ import annotations

from django.db import transaction
from django.dispatch import Signal

record_committed = Signal()


def record_committed_send(*, tenant_id: int, kind: str) -> None:
    """Send ``record_committed`` once the current transaction commits (at once outside one)."""
    if not record_committed.has_listeners():
        return
    transaction.on_commit(
        lambda: record_committed.send(sender=None, tenant_id=tenant_id, kind=kind),
        robust=True,
    )
