"""Alerts, evidence and sign-ins for the pages, triage, report and notification tests."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from django.utils import timezone

from accounts.models import User
from activity.capture.types import ClientInfo, DeviceType
from activity.models import LoginEvent
from activity.services import login_event_record
from alerts.models import Alert, AlertActivity, AlertEvidence


@pytest.fixture(autouse=True)
def quiet_detector(settings):
    """These tests make their alerts themselves: the embedded eager detector stays out (it would
    add, say, an unusual-hour alert for a test's own sign-in at night)."""
    settings.ALERTS_DETECT_EAGER = False


GERMANY = ClientInfo(ip="203.0.113.7", country="DE", user_agent="Mozilla/5.0 (Windows NT 10.0)",
                     browser_family="Chrome", browser_version="131", os_family="Windows",
                     os_version="10", device_type=DeviceType.DESKTOP)


def signin(user: User, *, client: ClientInfo = GERMANY, outcome: str = "success",
           at: datetime | None = None) -> LoginEvent:
    assert user.tenant is not None
    return login_event_record(tenant=user.tenant, user=user, attempted_login=user.email,
                              client=client, outcome=outcome, reason="",
                              occurred_at=at or timezone.now())


def make_alert(user: User | None, *, tenant=None, rule: str = "new_country", severity: str = "medium",
               status: str = "open", mode: str = "alert", at: datetime | None = None,
               event: LoginEvent | None = None, dedup: str | None = None) -> Alert:
    tenant = tenant or user.tenant
    at = at or timezone.now()
    alert = Alert.objects.create(
        tenant=tenant, rule=rule, severity=severity, status=status, mode=mode, user=user,
        dedup_key=dedup or f"{rule}:{user.pk if user else 'x'}:{at.timestamp()}",
        evidence={"country": "DE", "known": ["FR"], "days": 90}, first_seen=at - timedelta(minutes=5),
        last_seen=at, count=1)
    if event is not None:
        AlertEvidence.objects.create(
            tenant=tenant, alert=alert, event_id=event.pk, event_kind="signin",
            occurred_at=event.occurred_at, ip=event.ip, country=event.country,
            browser_family=event.browser_family, os_family=event.os_family,
            device_type=event.device_type, user_agent=event.user_agent)
    AlertActivity.objects.create(tenant=tenant, alert=alert, kind="opened", to_status=status)
    return alert
