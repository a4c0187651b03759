from __future__ import annotations

import pytest
from django.core import mail
from django.test import override_settings

from mailadmin.celery import app
from notifications.services import email_enqueue
from notifications.tasks import deliver_due_task

pytestmark = pytest.mark.django_db


def test_beat_drains_the_outbox_every_few_seconds_and_drops_late_runs():
    entry = app.conf.beat_schedule["notifications-deliver"]
    assert entry["task"] == "notifications.deliver_due" == deliver_due_task.name
    assert entry["task"] in app.tasks
    assert entry["schedule"] <= 10 and entry["options"]["expires"] < entry["schedule"]
    # The task's limits stay inside the claim lease, so a run killed by them leaves due rows.
    from django.conf import settings

    assert deliver_due_task.time_limit < settings.NOTIFICATIONS_LEASE_SECONDS


@override_settings(NOTIFICATIONS_DELIVER_ON_COMMIT=False)
def test_the_task_delivers_what_is_due(two_tenants):
    email_enqueue(tenant=two_tenants.a.tenant, to="x@acme.example", subject="S", body="B",
                  idempotency_key="task", kind="test")
    assert deliver_due_task() == 1
    assert deliver_due_task() == 0
    assert len(mail.outbox) == 1
