"""Reminders by milestone (N days before something ends), shared by every reminder e-mail.

A milestone is a day on the tenant's calendar: "the password expires in 7 days" is due on the
tenant's local day seven days before the expiry day, whatever hour beat runs. Each reminder is
sent once per person and milestone by construction: its outbox row's idempotency key names the
person, the thing that ends and the milestone, and ``(tenant, idempotency_key)`` is unique in the
outbox, so running a reminder task hourly, twice or concurrently sends one e-mail.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation

from accounts.models import User
from notifications.models import OutboxMessage
from notifications.services import email_enqueue
from tenants.models import Tenant


def local_day_bounds(*, day: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """The aware start and end (exclusive) of one day on the tenant's calendar."""
    start = datetime.combine(day, datetime.min.time(), tzinfo=zone)
    return start, datetime.combine(day + timedelta(days=1), datetime.min.time(), tzinfo=zone)


def milestones_due(*, now: datetime, tenant: Tenant,
                   thresholds: tuple[int, ...]) -> Iterator[tuple[int, date]]:
    """(N, the local day N days from today) for each threshold: what ends that day is N days away."""
    today = timezone.localtime(now, ZoneInfo(tenant.timezone)).date()
    for threshold in thresholds:
        yield threshold, today + timedelta(days=threshold)


def reminder_email_once(*, tenant: Tenant, user: User, key: str, kind: str,
                        subject: Callable[[], str], template: str,
                        context: Mapping[str, object]) -> bool:
    """E-mail ``user`` in their language unless this ``key`` was sent; True when it is sent now.

    ``subject`` is called inside the person's language. Two concurrent runs may both count the
    e-mail, but the outbox keeps one row for the key, so the person gets one.
    """
    if OutboxMessage.objects.for_tenant(tenant).filter(idempotency_key=key).exists():
        return False
    with translation.override(user.language or tenant.language), transaction.atomic():
        body = render_to_string(template, {"tenant": tenant, "user": user, **context})
        email_enqueue(tenant=tenant, to=user.email, subject=subject(), body=body, user=user,
                      kind=kind, idempotency_key=key)
    return True
