"""The webhook events a tenant can subscribe to (the ``type`` of each delivered body)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

TEST_EVENT = "webhook.test"

# Sent by the alerts app (alerts/notify.py) through notifications.services.webhook_event_enqueue.
EVENT_TYPES = [
    ("alert.opened", _("An alert was opened")),
    ("alert.updated", _("An alert was acknowledged, assigned, resolved or marked a false positive")),
]
