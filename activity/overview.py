"""Short-range trends of the live record for the dashboard: the last hours, counted per hour.

The reports (``retention``) count whole UTC days, rolled up or live; the dashboard's "last 24
hours" needs hours instead, and only ever reads the live record (a day older than the visible
window is never in it). Each function is one grouped query that starts with the tenant, so it
runs on the ``(tenant, occurred_at)`` index of each partition it touches.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.db.models import Count
from django.db.models.functions import TruncHour

from activity.models import AuditLogEntry, LoginEvent, Outcome
from tenants.models import Tenant


@dataclass(frozen=True, slots=True)
class HourlyOutcomes:
    """Sign-in events per outcome for each hour of a range, oldest hour first."""

    hours: list[datetime]  # the start of each hour, in the tenant's time zone
    counts: dict[str, list[int]]  # outcome -> one count per hour

    def total(self, outcome: str) -> int:
        return sum(self.counts.get(outcome, []))


def login_outcomes_hourly(*, tenant: Tenant, now: datetime, hours: int = 24) -> HourlyOutcomes:
    """Success, failure and denied sign-ins for each of the last ``hours`` hours (this one last)."""
    zone = ZoneInfo(tenant.timezone or "UTC")
    current = now.astimezone(zone).replace(minute=0, second=0, microsecond=0)
    starts = [current - timedelta(hours=n) for n in range(hours - 1, -1, -1)]
    rows = (LoginEvent.objects.for_tenant(tenant).filter(occurred_at__gte=starts[0])
            .annotate(hour=TruncHour("occurred_at", tzinfo=zone))
            .values("hour", "outcome").annotate(n=Count("id")).order_by())
    index = {start: position for position, start in enumerate(starts)}
    counts = {outcome: [0] * hours for outcome in Outcome.values}
    for row in rows:
        position = index.get(row["hour"].astimezone(zone))
        if position is not None and row["outcome"] in counts:
            counts[row["outcome"]][position] += row["n"]
    return HourlyOutcomes(hours=starts, counts=counts)


def login_breakdown(*, tenant: Tenant, since: datetime, field: str) -> dict[str, int]:
    """Sign-in events since a moment by one captured field (``reason`` or ``country``)."""
    if field not in {"reason", "country"}:
        raise ValueError(field)
    rows = (LoginEvent.objects.for_tenant(tenant).filter(occurred_at__gte=since)
            .values(field).annotate(n=Count("id")).order_by())
    return {row[field] or "": row["n"] for row in rows}


def login_protocols(*, tenant: Tenant, since: datetime) -> dict[str, int]:
    """Sign-in attempts since a moment by protocol (web, imap, pop3, submission), sign-outs aside."""
    rows = (LoginEvent.objects.for_tenant(tenant).filter(occurred_at__gte=since)
            .exclude(outcome=Outcome.SIGNOUT).values("protocol").annotate(n=Count("id")).order_by())
    return {row["protocol"]: row["n"] for row in rows}


def audit_recent(*, tenant: Tenant, since: datetime, limit: int = 6) -> list[AuditLogEntry]:
    """The newest audit entries of the tenant (the dashboard's "recent changes")."""
    return list(AuditLogEntry.objects.for_tenant(tenant).filter(timestamp__gte=since)
                .select_related("actor", "content_type").defer("serialized_data", "actor__password")
                .order_by("-timestamp", "-id")[:limit])


def mfa_resets_recent(*, tenant: Tenant, since: datetime, limit: int = 10) -> list[AuditLogEntry]:
    """Admin resets of a person's two-step sign-in (the helpdesk dashboard), newest first.

    ``people.services.person_mfa_reset`` records them as ``{"mfa": [before, "reset"]}``.
    """
    return list(AuditLogEntry.objects.for_tenant(tenant)
                .filter(timestamp__gte=since, changes__mfa__1="reset")
                .select_related("actor").defer("serialized_data", "actor__password")
                .order_by("-timestamp", "-id")[:limit])
