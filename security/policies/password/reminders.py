"""Password expiry reminders: the hourly loop over tenants with expiry, and the e-mail.

Idempotent: a reminder row, unique per person, threshold and expiry date, is written with its
e-mail's outbox row in one transaction, so running this every hour (or twice at once) sends each
reminder once. The
Celery entry point is ``security.tasks.password_expiry_reminders_task``.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation

from accounts.models import User
from notifications.services import email_enqueue
from security.policies.password.models import PasswordExpiryReminder, PasswordPolicy, PasswordState
from security.policies.reminders import local_day_bounds, milestones_due
from tenants.models import Tenant

REMINDER_THRESHOLDS = (14, 7, 1)


def password_expiry_reminders_send(*, now: datetime | None = None) -> int:
    """E-mail people whose password expires in exactly 14, 7 or 1 days (their tenant's calendar)."""
    now = now or timezone.now()
    sent = 0
    for policy in PasswordPolicy.objects.filter(expiry_days__gt=0).select_related("tenant"):
        tenant = policy.tenant
        if not tenant.is_active:
            continue
        zone = ZoneInfo(tenant.timezone)
        for threshold, expires_on in milestones_due(now=now, tenant=tenant,
                                                    thresholds=REMINDER_THRESHOLDS):
            day_start, day_end = local_day_bounds(day=expires_on, zone=zone)
            expiry = timedelta(days=policy.expiry_days)
            states = (PasswordState.objects.for_tenant(tenant)
                      .filter(changed_at__gte=day_start - expiry, changed_at__lt=day_end - expiry,
                              user__status=User.Status.ACTIVE)
                      .select_related("user"))
            for state in states:
                if _reminder_claim(tenant=tenant, user=state.user, threshold=threshold,
                                   expires_on=expires_on):
                    sent += 1
    return sent


def _reminder_claim(*, tenant: Tenant, user: User, threshold: int, expires_on: date) -> bool:
    try:
        with transaction.atomic():
            reminder = PasswordExpiryReminder.objects.create(
                tenant=tenant, user=user, threshold_days=threshold, expires_on=expires_on)
            _reminder_email(tenant=tenant, user=user, days=threshold, reminder=reminder)
    except IntegrityError:
        return False  # already sent (or being sent by a concurrent run)
    return True


def _reminder_email(*, tenant: Tenant, user: User, days: int,
                    reminder: PasswordExpiryReminder) -> None:
    # Through the outbox, in the reminder row's transaction: one e-mail per reminder row.
    with translation.override(user.language or tenant.language):
        context = {"tenant": tenant, "user": user, "days": days,
                   "url": settings.PUBLIC_BASE_URL + reverse("password_change")}
        subject = translation.ngettext(
            "Your %(tenant)s password expires in %(days)d day",
            "Your %(tenant)s password expires in %(days)d days", days) % {"tenant": tenant.name, "days": days}
        body = render_to_string("security/policies/email/password_expiry.txt", context)
        email_enqueue(tenant=tenant, to=user.email, subject=subject, body=body, user=user,
                      kind="password_expiry", idempotency_key=f"password-expiry:{reminder.pk}")
