"""The detector's Celery task: beat runs it every few seconds (mailadmin/celery.py)."""

from __future__ import annotations

import logging

from celery import shared_task

from alerts.detect import detect_all

logger = logging.getLogger(__name__)


@shared_task(name="alerts.detect", time_limit=300, soft_time_limit=280, ignore_result=True)
def alerts_detect_task() -> int:
    """Catch up on every active tenant's new sign-ins and exports; returns the events read.

    Idempotent and resumable: the watermark is in the database, each batch commits on its own,
    and a tenant whose cursor another worker holds is skipped until the next run.
    """
    result = detect_all()
    if result.events or result.exports:
        logger.info("alerts.detect: %s sign-ins, %s exports, %s alerts opened, %s grown, "
                    "%s rule errors", result.events, result.exports, result.alerts_opened,
                    result.alerts_grown, result.rule_errors)
    return result.events + result.exports
