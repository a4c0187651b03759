"""MFA enrolment grace ending: e-mail each person who must still set up two-step sign-in 3 days
and 1 day before their company's grace period ends (``security.policies.reminders``: once per
person and milestone, in their language). Beat runs it hourly (``security.mfa_grace_reminders``)
so each tenant's people hear on their company's local day."""

from __future__ import annotations

from datetime import datetime
from functools import partial
from zoneinfo import ZoneInfo

from celery import shared_task
from django.conf import settings
from django.urls import reverse
from django.utils import timezone, translation

from accounts.mfa.services import mfa_user_has_device
from accounts.models import User
from security.policies.mfa.rules import mfa_required_for
from security.policies.mfa.selectors import mfa_rules_for
from security.policies.reminders import milestones_due, reminder_email_once
from tenants.models import Tenant

GRACE_THRESHOLDS = (3, 1)


def mfa_grace_reminders_send(*, now: datetime | None = None) -> int:
    """E-mail the active people without a second factor whose grace ends in 3 or 1 days."""
    now = now or timezone.now()
    sent = 0
    for tenant in Tenant.objects.filter(status=Tenant.Status.ACTIVE).order_by("pk"):
        rules = mfa_rules_for(tenant=tenant)
        ends = rules.grace_ends_at
        if ends is None or ends <= now:
            continue
        ends_on = timezone.localtime(ends, ZoneInfo(tenant.timezone)).date()
        for threshold, day in milestones_due(now=now, tenant=tenant, thresholds=GRACE_THRESHOLDS):
            if day != ends_on:
                continue
            people = User.objects.filter(tenant=tenant, status=User.Status.ACTIVE).order_by("pk")
            for person in people:
                if not mfa_required_for(person.role, rules) or mfa_user_has_device(user=person):
                    continue
                key = f"mfa-grace:{person.pk}:{ends.isoformat()}:{threshold}"
                if reminder_email_once(
                        tenant=tenant, user=person, key=key, kind="mfa_grace_ending",
                        subject=partial(_subject, tenant.name, threshold),
                        template="security/policies/email/mfa_grace_ending.txt",
                        context={"days": threshold,
                                 "ends": timezone.localtime(ends, ZoneInfo(tenant.timezone)),
                                 "url": settings.PUBLIC_BASE_URL + reverse("mfa_manage")}):
                    sent += 1
    return sent


def _subject(tenant_name: str, days: int) -> str:
    return translation.ngettext("Set up two-step sign-in for %(tenant)s: %(days)d day left",
                                "Set up two-step sign-in for %(tenant)s: %(days)d days left",
                                days) % {"tenant": tenant_name, "days": days}


@shared_task(name="security.mfa_grace_reminders", time_limit=600, soft_time_limit=540)
def mfa_grace_reminders_task() -> int:
    """Idempotent (one outbox row per person, grace end and milestone): safe to run hourly or twice."""
    return mfa_grace_reminders_send()
