"""Triage: the writes people make to alerts (acknowledge, assign, resolve, mark false positive,
notes, trusts, bulk actions), rule settings and the digest opt-out.

Design: each service checks the capability it needs itself (``Cap.ALERTS_TRIAGE``) and that the
alert is of the actor's tenant, locks the alert row, re-checks its status under the lock (two
admins resolving at once give one timeline entry, not two), and writes in one transaction: the
change, an ``AlertActivity`` entry, an audit entry (``activity.services.audit_entry_record``) and
the ``alert.updated`` webhook (``alerts.notify``, through the transactional outbox).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from activity.services import audit_entry_record
from alerts import notify
from alerts.models import (
    UNRESOLVED,
    Alert,
    AlertActivity,
    AlertStatus,
    ModeChoices,
    RuleSetting,
    SeverityChoices,
    Trust,
    TrustKind,
)
from alerts.preferences import DigestOptOut
from alerts.rules import RULES
from alerts.rules.common import params_data
from security.signin.compromise import account_secure_after_compromise
from tenants.models import Tenant
from tenants.roles import ADMIN_ROLES, Cap

NOTE_MAX_LENGTH = 4000
BULK_MAX = 200

# Where each action may start from. Resolved and false positive are final: a repeat of the
# finding opens a new alert (the unique key covers unresolved alerts only).
_TRANSITIONS: dict[str, tuple[str, ...]] = {
    AlertStatus.ACKNOWLEDGED: (AlertStatus.OPEN,),
    AlertStatus.RESOLVED: (AlertStatus.OPEN, AlertStatus.ACKNOWLEDGED),
    AlertStatus.FALSE_POSITIVE: (AlertStatus.OPEN, AlertStatus.ACKNOWLEDGED),
}


def _check(actor: User, tenant_id: int, cap: Cap = Cap.ALERTS_TRIAGE) -> None:
    if not actor.can(cap) or actor.tenant_id != tenant_id:
        raise PermissionDenied


def _note(note: str) -> str:
    note = (note or "").strip()
    if len(note) > NOTE_MAX_LENGTH:
        raise ValidationError(_("A note can be at most %(n)d characters.") % {"n": NOTE_MAX_LENGTH},
                              code="note_length")
    return note


def _locked(alert: Alert) -> Alert:
    return Alert.objects.select_for_update().get(tenant_id=alert.tenant_id, pk=alert.pk)


@dataclass(frozen=True, slots=True)
class TrustRequest:
    """"Trust this network / device / country for this person" asked with a resolution."""

    kind: str  # a TrustKind value
    value: str
    rule: str = ""  # blank: every rule


def alert_status_change(*, alert: Alert, actor: User, to_status: str, note: str = "",
                        trusts: Sequence[TrustRequest] = ()) -> Alert:
    """Acknowledge, resolve or mark ``alert`` false positive (with a note, and trusts)."""
    _check(actor, alert.tenant_id)
    if to_status not in _TRANSITIONS:
        raise ValidationError(_("That is not a status an alert can be moved to."), code="status")
    note = _note(note)
    with transaction.atomic():
        locked = _locked(alert)
        before = locked.status
        if before not in _TRANSITIONS[to_status]:
            raise ValidationError(
                _("This alert is %(status)s already; it cannot be marked %(to)s.")
                % {"status": AlertStatus(before).label, "to": AlertStatus(to_status).label},
                code="transition")
        now = timezone.now()
        locked.status = to_status
        locked.updated_at = now
        if to_status in (AlertStatus.RESOLVED, AlertStatus.FALSE_POSITIVE):
            locked.resolved_at = now
        locked.save(update_fields=["status", "updated_at", "resolved_at"])
        AlertActivity.objects.create(tenant_id=locked.tenant_id, alert=locked, actor=actor, at=now,
                                     kind=AlertActivity.Kind.STATUS, from_status=before,
                                     to_status=to_status, note=note)
        audit_entry_record(obj=locked, actor=actor, changes={"status": [before, to_status],
                                                              **({"note": ["", note]} if note else {})})
        for request in trusts:
            _trust_create(alert=locked, actor=actor, request=request, now=now)
        notify.alert_updated(alert=locked, change="status", actor=actor)
    return locked


def alert_acknowledge(*, alert: Alert, actor: User, note: str = "") -> Alert:
    """Someone is looking at it: open → acknowledged."""
    return alert_status_change(alert=alert, actor=actor, to_status=AlertStatus.ACKNOWLEDGED,
                               note=note)


def alert_resolve(*, alert: Alert, actor: User, note: str = "",
                  trusts: Sequence[TrustRequest] = ()) -> Alert:
    """It was real and has been dealt with."""
    return alert_status_change(alert=alert, actor=actor, to_status=AlertStatus.RESOLVED,
                               note=note, trusts=trusts)


def alert_mark_false_positive(*, alert: Alert, actor: User, note: str = "",
                              trusts: Sequence[TrustRequest] = ()) -> Alert:
    """It was not an attack (the person's new laptop, a trip)."""
    return alert_status_change(alert=alert, actor=actor, to_status=AlertStatus.FALSE_POSITIVE,
                               note=note, trusts=trusts)


def alert_assign(*, alert: Alert, actor: User, assignee: User | None, note: str = "") -> Alert:
    """Give ``alert`` to one of the tenant's security admins (or to nobody)."""
    _check(actor, alert.tenant_id)
    note = _note(note)
    if assignee is not None and (assignee.tenant_id != alert.tenant_id
                                 or assignee.role not in ADMIN_ROLES
                                 or assignee.status != User.Status.ACTIVE):
        raise ValidationError(_("Alerts can be assigned only to an active owner or administrator "
                                "of your organisation."), code="assignee")
    with transaction.atomic():
        locked = _locked(alert)
        if locked.assignee_id == (assignee.pk if assignee else None):
            return locked
        before = locked.assignee.email if locked.assignee_id and locked.assignee else ""
        now = timezone.now()
        locked.assignee = assignee
        locked.updated_at = now
        locked.save(update_fields=["assignee", "updated_at"])
        after = assignee.email if assignee else ""
        AlertActivity.objects.create(tenant_id=locked.tenant_id, alert=locked, actor=actor, at=now,
                                     kind=AlertActivity.Kind.ASSIGNED, note=note or after)
        audit_entry_record(obj=locked, actor=actor, changes={"assignee": [before, after]})
        notify.alert_updated(alert=locked, change="assignee", actor=actor)
        if assignee is not None:
            notify.alert_assigned(alert=locked, assignee=assignee, actor=actor)
    return locked


def alert_note_add(*, alert: Alert, actor: User, note: str) -> AlertActivity:
    """A note on the timeline (what was checked, who was called)."""
    _check(actor, alert.tenant_id)
    note = _note(note)
    if not note:
        raise ValidationError(_("Write the note first."), code="note_empty")
    with transaction.atomic():
        locked = _locked(alert)
        now = timezone.now()
        entry = AlertActivity.objects.create(tenant_id=locked.tenant_id, alert=locked, actor=actor,
                                             at=now, kind=AlertActivity.Kind.NOTE, note=note)
        Alert.objects.filter(tenant_id=locked.tenant_id, pk=locked.pk).update(updated_at=now)
        audit_entry_record(obj=locked, actor=actor, changes={"note": ["", note]})
    return entry


def alert_person_secure(*, alert: Alert, actor: User, note: str = "") -> AlertActivity:
    """The alert was real: end every session of its person and require a new password (and the
    second factor) at their next sign-in, noted on the timeline."""
    _check(actor, alert.tenant_id)
    note = _note(note)
    person = alert.user
    if person is None:
        raise ValidationError(_("This alert concerns no person."), code="no_person")
    with transaction.atomic():
        locked = _locked(alert)
        # Checks that the actor may act on this person (rank), and writes its own audit entry.
        account_secure_after_compromise(user=person, actor=actor,
                                        reason=f"alert {locked.pk} ({locked.rule})")
        now = timezone.now()
        entry = AlertActivity.objects.create(
            tenant_id=locked.tenant_id, alert=locked, actor=actor, at=now,
            kind=AlertActivity.Kind.NOTE,
            note=(_("Account secured: every session ended; a new password is required at the "
                    "next sign-in.") + (f"\n{note}" if note else "")))
        Alert.objects.filter(tenant_id=locked.tenant_id, pk=locked.pk).update(updated_at=now)
    return entry


BULK_ACTIONS = {
    "acknowledge": AlertStatus.ACKNOWLEDGED,
    "resolve": AlertStatus.RESOLVED,
    "false_positive": AlertStatus.FALSE_POSITIVE,
}


@dataclass(frozen=True, slots=True)
class BulkResult:
    changed: int
    skipped: int  # already in a status the action cannot start from


def alerts_bulk_apply(*, tenant: Tenant, actor: User, alerts: Sequence[Alert], action: str,
                      note: str = "") -> BulkResult:
    """One action on many alerts (from the list, after its confirmation page), all or nothing."""
    _check(actor, tenant.pk)
    if action not in BULK_ACTIONS:
        raise ValidationError(_("Choose what to do with the selected alerts."), code="action")
    if not alerts:
        raise ValidationError(_("Select at least one alert."), code="empty")
    if len(alerts) > BULK_MAX:
        raise ValidationError(_("At most %(n)d alerts can be changed at once.") % {"n": BULK_MAX},
                              code="too_many")
    to_status = BULK_ACTIONS[action]
    changed = skipped = 0
    with transaction.atomic():
        for alert in alerts:
            if alert.tenant_id != tenant.pk:
                raise PermissionDenied
            try:
                alert_status_change(alert=alert, actor=actor, to_status=to_status, note=note)
            except ValidationError as exc:
                if getattr(exc, "code", None) != "transition":
                    raise
                skipped += 1
            else:
                changed += 1
    return BulkResult(changed=changed, skipped=skipped)


# --- Trusts -------------------------------------------------------------------------------------


def trust_value_clean(kind: str, value: str) -> str:
    """The stored form of a trusted network / device / country, or a translated ValidationError."""
    value = (value or "").strip()
    if kind == TrustKind.NETWORK:
        try:
            network = ipaddress.ip_network(value, strict=False)
        except ValueError:
            raise ValidationError(_("“%(value)s” is not an IP address or network.")
                                  % {"value": value[:60]}, code="network") from None
        if network.prefixlen < (16 if network.version == 4 else 32):
            raise ValidationError(_("That network is too wide to trust (at most /16 for IPv4, "
                                    "/32 for IPv6)."), code="network_wide")
        return str(network)
    if kind == TrustKind.DEVICE:
        parts = value.split("|")
        if len(parts) != 3 or not all(part.strip() for part in parts) or len(value) > 200:
            raise ValidationError(_("A device is browser|operating system|device type."),
                                  code="device")
        return "|".join(part.strip() for part in parts)
    if kind == TrustKind.COUNTRY:
        if len(value) != 2 or not value.isalpha() or not value.isascii():
            raise ValidationError(_("A country is a two-letter code, such as DE."), code="country")
        return value.upper()
    raise ValidationError(_("Choose a network, a device or a country to trust."), code="kind")


def _trust_create(*, alert: Alert, actor: User, request: TrustRequest, now: datetime) -> Trust:
    if alert.user_id is None:
        raise ValidationError(_("This alert concerns no person, so there is nobody to trust it "
                              "for."), code="no_person")
    value = trust_value_clean(request.kind, request.value)
    if request.rule and request.rule not in RULES:
        raise ValidationError(_("Unknown rule."), code="rule")
    existing = Trust.objects.filter(tenant_id=alert.tenant_id, user_id=alert.user_id,
                                    kind=request.kind, value=value, rule=request.rule,
                                    revoked_at__isnull=True).first()
    if existing is not None:
        return existing
    trust = Trust.objects.create(tenant_id=alert.tenant_id, user_id=alert.user_id,
                                 kind=request.kind, value=value, rule=request.rule,
                                 created_by=actor, created_at=now)
    AlertActivity.objects.create(tenant_id=alert.tenant_id, alert=alert, actor=actor, at=now,
                                 kind=AlertActivity.Kind.TRUSTED,
                                 note=f"{TrustKind(request.kind).label}: {value}")
    audit_entry_record(obj=trust, actor=actor, changes={"trust": ["", f"{request.kind}:{value}"]},
                       action=0)  # auditlog's CREATE
    return trust


def trust_revoke(*, trust: Trust, actor: User) -> Trust:
    """Stop trusting it: the rules fire for it again from the next sign-in."""
    _check(actor, trust.tenant_id)
    with transaction.atomic():
        locked = Trust.objects.select_for_update().get(tenant_id=trust.tenant_id, pk=trust.pk)
        if locked.revoked_at is not None:
            return locked
        locked.revoked_at = timezone.now()
        locked.revoked_by = actor
        locked.save(update_fields=["revoked_at", "revoked_by"])
        audit_entry_record(obj=locked, actor=actor,
                           changes={"revoked": ["", locked.revoked_at.isoformat()]})
    return locked


# --- Rule settings ------------------------------------------------------------------------------


def rule_setting_save(*, tenant: Tenant, actor: User, rule: str, enabled: bool, mode: str,
                      severity: str, params: Mapping[str, object]) -> RuleSetting:
    """Save one rule's settings; thresholds are validated by the rule's own ``params_from``."""
    _check(actor, tenant.pk)
    module = RULES.get(rule)
    if module is None:
        raise ValidationError(_("Unknown rule."), code="rule")
    if mode not in ModeChoices.values:
        raise ValidationError({"mode": [_("Choose alert or record only.")]})
    if severity not in SeverityChoices.values:
        raise ValidationError({"severity": [_("Choose low, medium or high.")]})
    parsed = module.params_from(params)  # raises ValidationError({field: [message]})
    stored = {k: v for k, v in params_data(parsed).items() if k != "severity"}
    with transaction.atomic():
        setting = RuleSetting.objects.select_for_update().filter(tenant=tenant, rule=rule).first()
        before = ({"enabled": setting.enabled, "mode": setting.mode, "severity": setting.severity,
                   "params": setting.params} if setting is not None else {})
        if setting is None:
            setting = RuleSetting(tenant=tenant, rule=rule)
        setting.enabled, setting.mode, setting.severity = enabled, mode, severity
        setting.params = stored
        setting.updated_at, setting.updated_by = timezone.now(), actor
        setting.save()
        after = {"enabled": enabled, "mode": mode, "severity": severity, "params": stored}
        changes = {key: [str(before.get(key, "")), str(value)] for key, value in after.items()
                   if before.get(key) != value}
        if changes:
            audit_entry_record(obj=setting, actor=actor, changes=changes)
    return setting


# --- The digest opt-out -------------------------------------------------------------------------


def digest_opt_out_set(*, user: User, opted_out: bool) -> None:
    """``user`` stops (or resumes) receiving the daily alerts digest; high severity still comes."""
    tenant_id = user.tenant_id
    if tenant_id is None:
        raise PermissionDenied
    _check(user, tenant_id, Cap.SELF_SERVICE)
    with transaction.atomic():
        row = DigestOptOut.objects.filter(tenant_id=tenant_id, user=user).first()
        if opted_out and row is None:
            DigestOptOut.objects.create(tenant_id=tenant_id, user=user)
        elif not opted_out and row is not None:
            row.delete()
        else:
            return
        audit_entry_record(obj=user, actor=user,
                           changes={"alerts_digest": ["on" if opted_out else "off",
                                                      "off" if opted_out else "on"]})


__all__ = ["UNRESOLVED"]
