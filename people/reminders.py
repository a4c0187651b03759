"""Invitations about to expire: e-mail each invited person the day before their invitation's
link stops working (``security.policies.reminders``: once per invitation, in their language).
Only a hash of the link is stored, so the e-mail points to the invitation e-mail they have and
to their administrator for a new one. Beat runs it hourly (``people.invitation_expiry_reminders``)
so each tenant's people hear on their company's local day."""

from __future__ import annotations

from datetime import datetime
from functools import partial
from zoneinfo import ZoneInfo

from celery import shared_task
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from security.policies.reminders import local_day_bounds, milestones_due, reminder_email_once
from tenants.models import Invitation, Tenant

INVITATION_THRESHOLDS = (1,)


def invitation_expiry_reminders_send(*, now: datetime | None = None) -> int:
    """E-mail invited people whose pending invitation expires tomorrow (their company's calendar)."""
    now = now or timezone.now()
    sent = 0
    for tenant in Tenant.objects.filter(status=Tenant.Status.ACTIVE).order_by("pk"):
        zone = ZoneInfo(tenant.timezone)
        for threshold, day in milestones_due(now=now, tenant=tenant, thresholds=INVITATION_THRESHOLDS):
            start, end = local_day_bounds(day=day, zone=zone)
            pending = (Invitation.objects.for_tenant(tenant)
                       .filter(accepted_at__isnull=True, revoked_at__isnull=True,
                               expires_at__gte=max(start, now), expires_at__lt=end,
                               user__status=User.Status.INVITED)
                       .select_related("user").order_by("pk"))
            for invitation in pending:
                if reminder_email_once(
                        tenant=tenant, user=invitation.user,
                        key=f"invitation-expiry:{invitation.pk}:{threshold}",
                        kind="invitation_expiry",
                        subject=partial(_subject, tenant.name),
                        template="people/email/invitation_expiry.txt",
                        context={"expires": timezone.localtime(invitation.expires_at, zone)}):
                    sent += 1
    return sent


def _subject(tenant_name: str) -> str:
    return _("Your invitation to %(tenant)s expires soon") % {"tenant": tenant_name}


@shared_task(name="people.invitation_expiry_reminders", time_limit=600, soft_time_limit=540)
def invitation_expiry_reminders_task() -> int:
    """Idempotent (one outbox row per invitation and milestone): safe to run hourly or twice."""
    return invitation_expiry_reminders_send()
