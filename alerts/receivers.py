"""Receivers of the lower layers' signals."""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings

from alerts.detect import detect_all

logger = logging.getLogger(__name__)


def record_committed_detect(sender: object, *, tenant_id: int, kind: str = "", **kwargs: Any) -> None:
    """``activity.signals.record_committed``: embedded (no worker), detect right after the commit.

    With a worker (``ALERTS_DETECT_EAGER`` off) this does nothing: beat runs the detector from
    the database, and the request never waits on it or on Redis.
    """
    if not settings.ALERTS_DETECT_EAGER:
        return
    try:
        detect_all(tenant_ids=[tenant_id])
    except Exception:  # the sign-in already committed; the next run catches up
        logger.exception("Eager alert detection failed for tenant %s", tenant_id)
