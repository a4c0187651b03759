"""Building a tenant's record at chosen times, for the retention tests."""

from __future__ import annotations

import datetime as dt

from accounts.models import User
from activity.capture import ClientInfo, DeviceType
from activity.models import ExportEvent, LoginEvent, Outcome, Reason
from activity.services import login_event_build, login_events_record
from tenants.models import Tenant

NOW = dt.datetime(2026, 12, 1, 3, 0, tzinfo=dt.UTC)


def client(country: str = "US", browser: str = "Firefox", os: str = "Linux",
           device: str = DeviceType.DESKTOP) -> ClientInfo:
    return ClientInfo(ip="203.0.113.9", country=country, user_agent="Mozilla/5.0",
                      browser_family=browser, browser_version="130", os_family=os, os_version="",
                      device_type=device)


def sign_ins(tenant: Tenant, person: User | None, times: list[dt.datetime], *,
             outcome: str = Outcome.SUCCESS, reason: str = Reason.PASSWORD_OK,
             country: str = "US", mfa: str = "", login: str | None = None) -> int:
    events = [login_event_build(tenant=tenant, user=person,
                                attempted_login=login or (person.email if person else "x@nowhere.example"),
                                client=client(country=country), outcome=outcome, reason=reason,
                                mfa_method=mfa, occurred_at=at) for at in times]
    return login_events_record(tenant=tenant, events=events)


def exports(tenant: Tenant, person: User, times: list[dt.datetime], *, dataset: str = "signins",
            rows: int = 10) -> int:
    fields = client().as_fields()
    ExportEvent.objects.bulk_create([
        ExportEvent(tenant=tenant, user=person, occurred_at=at, dataset=dataset, format="csv",
                    row_count=rows, **fields) for at in times])
    return len(times)


def days_ago(days: float, now: dt.datetime = NOW) -> dt.datetime:
    return now - dt.timedelta(days=days)


def login_count(tenant: Tenant) -> int:
    return LoginEvent.objects.for_tenant(tenant).count()
