"""The daily alerts digest for security admins (beat: ``alerts-digest`` in mailadmin/celery.py).

Idempotent: each e-mail's key names the tenant, the person and the UTC day it covers, so a
second run (or a redelivered task) sends nothing twice. Each run covers the last two days, so a
run missed once still sends yesterday's digest the next morning.
"""

from __future__ import annotations

from celery import shared_task

from alerts.notify import alerts_digest_send


@shared_task(name="alerts.digest_send", time_limit=900, soft_time_limit=840)
def alerts_digest_send_task() -> int:
    """Returns how many digests were due (an already queued one is not queued again)."""
    return alerts_digest_send()
