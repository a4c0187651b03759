"""The people list's own write: reminding people to set up two-step sign-in.

The other bulk actions are the per-person services of ``people.services`` and
``people.offboarding.services``; ``people.directory.bulk`` calls them one person at a time.
"""

from __future__ import annotations

import zoneinfo
from datetime import date

from django.conf import settings
from django.core.exceptions import ValidationError
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from accounts.mfa.selectors import METHOD_PASSKEY, METHOD_TOTP, mfa_methods_by_user
from accounts.models import User
from notifications.models import OutboxMessage
from notifications.services import email_enqueue
from tenants.models import Tenant
from tenants.roles import Cap, can_manage, role_has

REMINDER_KIND = "mfa_enrol_reminder"


def reminder_key(*, person: User, day: date) -> str:
    """One reminder per person per day, however often the list's button is pressed."""
    return f"mfa-enrol-reminder:{person.pk}:{day.isoformat()}"


def person_mfa_enrol_remind(*, tenant: Tenant, actor: User, person: User) -> OutboxMessage:
    """E-mail an active person without a second factor to set one up (once a day at most).

    Returns the outbox message: a second reminder the same day (in the tenant's time zone)
    returns the first one's row and sends nothing.
    """
    if person.tenant_id != tenant.pk:
        raise ValidationError(_("Unknown person."), code="tenant")
    if actor.tenant_id != tenant.pk or not role_has(actor.role, Cap.PEOPLE_RESET_MFA):
        raise ValidationError(_("You are not allowed to remind people to set up two-step sign-in."),
                              code="capability")
    if person.pk == actor.pk:
        raise ValidationError(_("You cannot do this to your own account."), code="self")
    if not can_manage(actor.role, person.role):
        raise ValidationError(_("You cannot manage a person with this role."), code="rank")
    if person.status != User.Status.ACTIVE:
        raise ValidationError(_("Only an active person can set up two-step sign-in."), code="status")
    methods = mfa_methods_by_user(tenant=tenant, user_ids=[person.pk]).get(person.pk, [])
    if METHOD_TOTP in methods or METHOD_PASSKEY in methods:
        raise ValidationError(_("%(name)s already uses two-step sign-in."), code="enrolled",
                              params={"name": person})
    day = timezone.localdate(timezone=zoneinfo.ZoneInfo(tenant.timezone))
    with translation.override(person.language or tenant.language):
        context = {"tenant": tenant, "user": person,
                   "url": settings.PUBLIC_BASE_URL + reverse("mfa_manage")}
        subject = _("Set up two-step sign-in for %(tenant)s") % {"tenant": tenant.name}
        body = render_to_string("people/directory/email/mfa_enrol_reminder.txt", context)
    return email_enqueue(tenant=tenant, to=person.email, subject=subject, body=body, user=person,
                         kind=REMINDER_KIND, idempotency_key=reminder_key(person=person, day=day))
