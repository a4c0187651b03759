"""Who hears about an alert: the detector calls these in the transaction that opened or grew it.

The alerts-pages work fills these in (e-mails through the outbox, webhooks); until then they do
nothing, and the detector's alerts wait on the alerts page.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from alerts.models import Alert


def alert_opened(*, alert: Alert) -> None:
    """A new alert (mode "alert", not "record only") was created."""


def alert_seen_again(*, alert: Alert) -> None:
    """An open alert's finding repeated (its count and last-seen grew)."""
