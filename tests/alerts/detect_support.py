"""Builders for the detector's tests: record rows through activity.services, run the detector."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from accounts.models import User
from activity.capture.types import ClientInfo, DeviceType
from activity.models import LoginEvent
from activity.services import login_event_build, login_events_record
from alerts.models import Alert, AlertActivity, AlertEvidence
from tenants.models import Tenant

UTC = dt.UTC
START = dt.datetime(2026, 10, 1, 9, 0, tzinfo=UTC)


def client(*, ip: str = "198.51.100.7", country: str = "DE", browser: str = "Chrome",
           os: str = "Windows", device: str = DeviceType.DESKTOP, user_agent: str = "Mozilla/5.0") -> ClientInfo:
    return ClientInfo(ip=ip, country=country, user_agent=user_agent, browser_family=browser,
                      browser_version="", os_family=os, os_version="", device_type=DeviceType(device))


def event(*, tenant: Tenant, user: User | None, at: dt.datetime, outcome: str = "success",
          reason: str = "", login: str = "", **client_fields: str) -> LoginEvent:
    """One unsaved sign-in row, as the sign-in pipeline builds it."""
    if not reason:
        reason = {"success": "password_ok", "failure": "bad_credentials"}.get(outcome, "")
    return login_event_build(tenant=tenant, user=user,
                             attempted_login=login or (user.email if user else "nobody@x.example"),
                             client=client(**client_fields), outcome=outcome, reason=reason,
                             occurred_at=at)


def record(tenant: Tenant, events: Iterable[LoginEvent]) -> list[LoginEvent]:
    rows = list(events)
    login_events_record(tenant=tenant, events=rows)
    return rows


def habit(tenant: Tenant, user: User, *, days: int = 20, start: dt.datetime = START,
          **client_fields: str) -> list[LoginEvent]:
    """A settled person: one success a day at 09:00 for ``days`` days (past any learning period)."""
    return record(tenant, [event(tenant=tenant, user=user, at=start + dt.timedelta(days=d),
                                 **client_fields) for d in range(days)])


def snapshot(tenant: Tenant) -> list[tuple[object, ...]]:
    """What the alerts of a tenant say, comparable across runs (no ids, no wall-clock times)."""
    alerts = []
    for alert in Alert.objects.for_tenant(tenant).order_by("rule", "dedup_key", "id"):
        evidence = sorted(AlertEvidence.objects.for_tenant(tenant).filter(alert=alert)
                          .values_list("event_id", "event_kind"))
        timeline = list(AlertActivity.objects.for_tenant(tenant).filter(alert=alert)
                        .values_list("kind", flat=True))
        alerts.append((alert.rule, alert.dedup_key, alert.status, alert.mode, alert.severity,
                       alert.user_id, alert.count, alert.first_seen, alert.last_seen,
                       tuple(evidence), len(timeline)))
    return alerts
