"""Helpers for the log page, filter and keyset tests (no tests here)."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

from django.utils import timezone

from accounts.models import User
from activity.capture import ClientInfo, DeviceType
from activity.models import ExportEvent, LoginEvent, MfaMethod, Outcome, Reason
from activity.services import export_event_complete, export_event_start, login_event_record
from tenants.models import Tenant

CHROME_WINDOWS = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like "
                  "Gecko) Chrome/126.0.0.0 Safari/537.36")
SAFARI_IPHONE = ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
                 "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1")
DESKTOP = ClientInfo(
    ip="8.8.8.8", country="US", user_agent=CHROME_WINDOWS, browser_family="Chrome",
    browser_version="126.0.0", os_family="Windows", os_version="10", device_type=DeviceType.DESKTOP,
)
PHONE = ClientInfo(
    ip="223.5.5.5", country="CN", user_agent=SAFARI_IPHONE, browser_family="Mobile Safari",
    browser_version="17.5", os_family="iOS", os_version="17.5", device_type=DeviceType.MOBILE,
)


def recent(**delta: float) -> datetime:
    """An instant inside the visible window: now minus ``delta`` (default one hour)."""
    return timezone.now() - timedelta(**(delta or {"hours": 1}))


def login(
    tenant: Tenant,
    *,
    user: User | None = None,
    address: str | None = None,
    at: datetime | None = None,
    client: ClientInfo = DESKTOP,
    outcome: str = Outcome.SUCCESS,
    reason: str = Reason.PASSWORD_OK,
    mfa: str = MfaMethod.NONE,
    **client_fields: str,
) -> LoginEvent:
    return login_event_record(
        tenant=tenant, user=user,
        attempted_login=address if address is not None else (user.email if user else "nobody@x.example"),
        client=dataclasses.replace(client, **client_fields) if client_fields else client,
        outcome=outcome, reason=reason, mfa_method=mfa, occurred_at=at or recent(),
        session_key="s" * 32,
    )


def logins_bulk(tenant: Tenant, n: int, *, user: User | None = None, newest: datetime | None = None,
                step: timedelta = timedelta(minutes=1)) -> list[LoginEvent]:
    """``n`` events one ``step`` apart ending at ``newest`` (bulk insert, for volume)."""
    newest = newest or recent()
    return LoginEvent.objects.bulk_create([
        LoginEvent(tenant=tenant, user=user, attempted_login=user.email if user else "bulk@x.example",
                   occurred_at=newest - i * step, outcome=Outcome.FAILURE,
                   reason=Reason.BAD_CREDENTIALS, **DESKTOP.as_fields())
        for i in range(n)
    ])


def export(tenant: Tenant, user: User, *, at: datetime | None = None, dataset: str = "signins",
           fmt: str = "csv", filters: dict | None = None, complete: bool | None = True,
           rows: int = 12) -> ExportEvent:
    event = export_event_start(tenant=tenant, user=user, client=DESKTOP, dataset=dataset,
                               format=fmt, filters=filters or {}, occurred_at=at or recent())
    if complete is not None:
        event = export_event_complete(event=event, row_count=rows, byte_count=rows * 100,
                                      complete=complete)
    return event


UTC_NOON = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
