"""Writes of retention: the tenant's policy and legal holds (the sweep is ``retention.sweep``).

Each service checks its actor (same tenant, ``Cap.RETENTION_MANAGE``; PermissionDenied
otherwise), validates everything before writing (ValidationError keyed by field, nothing saved)
and writes an explicit audit entry through ``activity.services``.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from activity.lifetime import default_rules
from activity.models import AuditLogEntry, RetentionPolicy
from activity.services import audit_entry_record
from retention.models import LegalHold
from tenants.models import Tenant
from tenants.roles import Cap

REASON_MAX_LENGTH = 1000
HOLD_MAX_YEARS = 10
HOLD_MAX_DAYS = HOLD_MAX_YEARS * 366


def _actor_check(*, tenant: Tenant, actor: User) -> None:
    if actor.tenant_id != tenant.pk or not actor.can(Cap.RETENTION_MANAGE):
        raise PermissionDenied(_("You are not allowed to change retention."))


def _whole_number(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    try:
        return int(str(value).strip())
    except (TypeError, ValueError):
        return None


def retention_policy_update(*, tenant: Tenant, actor: User, visible_days: Any, purge_days: Any,
                            audit_days: Any) -> RetentionPolicy:
    """Set how long the record stays visible, when it is deleted and how long audit entries last.

    A change applies to the rows already stored: the next sweep uses it.
    """
    _actor_check(tenant=tenant, actor=actor)
    floor, ceiling = settings.RETENTION_MIN_PURGE_DAYS, settings.RETENTION_MAX_PURGE_DAYS
    audit_floor = settings.RETENTION_MIN_AUDIT_DAYS
    values = {"visible_days": _whole_number(visible_days), "purge_days": _whole_number(purge_days),
              "audit_days": _whole_number(audit_days)}
    errors: dict[str, list[str]] = {}
    for name, number in values.items():
        if number is None:
            errors[name] = [_("Enter a whole number of days.")]
        elif number < 1:
            errors[name] = [_("Enter a positive number of days.")]
    visible, purge, audit = values["visible_days"], values["purge_days"], values["audit_days"]
    if "purge_days" not in errors and purge is not None and not floor <= purge <= ceiling:
        errors["purge_days"] = [_("Records must be deleted after %(low)d to %(high)d days.")
                                % {"low": floor, "high": ceiling}]
    if "audit_days" not in errors and audit is not None and audit < audit_floor:
        errors["audit_days"] = [_("The audit trail must be kept at least %(low)d days.")
                                % {"low": audit_floor}]
    if ("visible_days" not in errors and "purge_days" not in errors and visible is not None
            and purge is not None and visible > purge):
        errors["visible_days"] = [_("Records cannot stay visible longer than they are kept "
                                    "(%(days)d days).") % {"days": purge}]
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        policy, created = RetentionPolicy.objects.select_for_update().get_or_create(
            tenant=tenant, defaults={**values, "updated_by": actor})
        before = {name: getattr(policy, name) for name in values}
        if created:
            # The unsaved defaults were in force until now: the entry shows them as "before".
            defaults = default_rules()
            before = {"visible_days": defaults.visible_days, "purge_days": defaults.purge_days,
                      "audit_days": defaults.audit_days}
        changes = {name: [str(before[name]), str(value)] for name, value in values.items()
                   if before[name] != value}
        if not created:
            if not changes:
                return policy
            for name, value in values.items():
                setattr(policy, name, value)
            policy.updated_by = actor
            policy.save()
        if changes:
            audit_entry_record(obj=policy, actor=actor, changes=changes)
    return policy


def _hold_end_check(ends_on: Any, today: dt.date) -> dt.date:
    if isinstance(ends_on, str):
        try:
            ends_on = dt.date.fromisoformat(ends_on.strip())
        except ValueError:
            raise ValidationError({"ends_on": [_("Enter a valid date.")]}) from None
    if isinstance(ends_on, dt.datetime) or not isinstance(ends_on, dt.date):
        raise ValidationError({"ends_on": [_("Enter a valid date.")]})
    if ends_on < today:
        raise ValidationError({"ends_on": [_("A hold cannot end in the past.")]})
    if ends_on > today + dt.timedelta(days=HOLD_MAX_DAYS):
        raise ValidationError({"ends_on": [_("A hold can last at most %(years)d years.")
                                           % {"years": HOLD_MAX_YEARS}]})
    return ends_on


def _hold_changes(hold: LegalHold) -> dict[str, list[str]]:
    return {"person": ["", hold.person.email if hold.person else _("whole company")],
            "reason": ["", hold.reason], "ends_on": ["", hold.ends_on.isoformat()]}


def legal_hold_place(*, tenant: Tenant, actor: User, person: User | None, reason: str,
                     ends_on: dt.date) -> LegalHold:
    """Keep a person's (or with ``person=None`` the whole company's) record until ``ends_on``."""
    _actor_check(tenant=tenant, actor=actor)
    today = timezone.now().astimezone(dt.UTC).date()
    errors: dict[str, list[str]] = {}
    text = (reason or "").strip() if isinstance(reason, str) else ""
    if not text:
        errors["reason"] = [_("Give the reason for the hold.")]
    elif len(text) > REASON_MAX_LENGTH:
        errors["reason"] = [_("Keep the reason under %(max)d characters.") % {"max": REASON_MAX_LENGTH}]
    if person is not None and person.tenant_id != tenant.pk:
        errors["person"] = [_("Unknown person.")]
    try:
        end = _hold_end_check(ends_on, today)
    except ValidationError as error:
        errors.update(error.message_dict)
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        hold = LegalHold.objects.create(tenant=tenant, person=person, reason=text, ends_on=end,
                                        placed_by=actor)
        audit_entry_record(obj=hold, actor=actor, changes=_hold_changes(hold),
                           action=AuditLogEntry.Action.CREATE)
    return hold


def _hold_for_change(tenant: Tenant, hold: LegalHold) -> LegalHold:
    if hold.tenant_id != tenant.pk:
        raise ValidationError({"hold": [_("Unknown legal hold.")]})
    locked = LegalHold.objects.for_tenant(tenant).select_for_update().get(pk=hold.pk)
    if locked.lifted_at is not None:
        raise ValidationError({"hold": [_("This hold has already been lifted.")]})
    return locked


def legal_hold_extend(*, tenant: Tenant, actor: User, hold: LegalHold, ends_on: dt.date) -> LegalHold:
    """Move a hold's end date (later or earlier, never into the past)."""
    _actor_check(tenant=tenant, actor=actor)
    today = timezone.now().astimezone(dt.UTC).date()
    end = _hold_end_check(ends_on, today)
    with transaction.atomic():
        locked = _hold_for_change(tenant, hold)
        if locked.ends_on == end:
            return locked
        before = locked.ends_on
        locked.ends_on = end
        locked.save(update_fields=["ends_on"])
        audit_entry_record(obj=locked, actor=actor,
                           changes={"ends_on": [before.isoformat(), end.isoformat()]})
    hold.ends_on = end
    return locked


def legal_hold_lift(*, tenant: Tenant, actor: User, hold: LegalHold) -> LegalHold:
    """End a hold now: the next sweep purges what it kept, if it is past its date."""
    _actor_check(tenant=tenant, actor=actor)
    with transaction.atomic():
        locked = _hold_for_change(tenant, hold)
        locked.lifted_at = timezone.now()
        locked.lifted_by = actor
        locked.save(update_fields=["lifted_at", "lifted_by"])
        audit_entry_record(obj=locked, actor=actor,
                           changes={"lifted_at": ["", locked.lifted_at.isoformat()]})
    hold.lifted_at, hold.lifted_by = locked.lifted_at, actor
    return locked


def legal_holds_expire(*, now: dt.datetime | None = None, tenant: Tenant | None = None) -> int:
    """Lift every hold past its end date (no actor: it ended by itself); returns how many."""
    now = now or timezone.now()
    today = now.astimezone(dt.UTC).date()
    expired = LegalHold.objects.filter(lifted_at__isnull=True, ends_on__lt=today)
    if tenant is not None:
        expired = expired.filter(tenant=tenant)
    lifted = 0
    for pk in list(expired.values_list("pk", flat=True)):
        with transaction.atomic():
            hold = LegalHold.objects.select_for_update().filter(pk=pk, lifted_at__isnull=True).first()
            if hold is None:
                continue
            hold.lifted_at = now
            hold.save(update_fields=["lifted_at"])
            audit_entry_record(obj=hold, actor=None, changes={
                "lifted_at": ["", now.isoformat()],
                "ends_on": [hold.ends_on.isoformat(), _("ended by itself")]})
            lifted += 1
    return lifted
