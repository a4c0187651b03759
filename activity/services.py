"""Writing the record. Every sign-in, second-factor step, sign-out, export and explicit audit
entry goes through here: this module is the record's only writer (auditlog writes the entries of
registered models' saves into ``activity.AuditLogEntry`` itself).

Design: called inside the request, in the same transaction as the decision it records (never
from Celery), so an attempt and its row commit or roll back together. Rows are append-only (see
activity.models). Nothing secret is accepted: no password, no OTP, and the session key is
reduced to ``session_reference`` before it is stored.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from django.db.models import Model
from django.utils import timezone

from accounts.models import User, normalize_email
from activity.capture import ClientInfo, text_neutralise
from activity.inserts import rows_insert
from activity.models import (
    AuditLogEntry,
    ExportEvent,
    ExportStatus,
    LoginEvent,
    MfaMethod,
    Outcome,
    Protocol,
    Reason,
)
from activity.signals import record_committed_send
from tenants.models import Tenant

ATTEMPTED_LOGIN_MAX_LENGTH = 254
FILTERS_MAX_BYTES = 4096


def session_reference(session_key: str | None) -> str:
    """A short, non-secret handle for a session: the first 8 hex digits of its key's SHA-256.

    Enough to group one session's events in a tenant's log; useless for taking the session
    over. The sessions page computes the same value to link a session to its events.
    """
    if not session_key:
        return ""
    return hashlib.sha256(session_key.encode("utf-8", "replace")).hexdigest()[:8]


def _aware(value: datetime | None) -> datetime:
    if value is None:
        return timezone.now()
    if timezone.is_naive(value):
        raise ValueError("occurred_at must be an aware datetime")
    return value


def _check_person(tenant: Tenant, user: User | None) -> None:
    # A row filed under the wrong tenant would show one company another's sign-ins.
    if user is not None and user.tenant_id != tenant.pk:
        raise ValueError("the person does not belong to this tenant")


def login_event_record(*, together_with: tuple[Model | None, ...] = (), **kwargs: Any) -> LoginEvent:
    """Record one sign-in attempt, second-factor step or sign-out (see ``login_event_build``).

    ``together_with``: new rows of other tables to insert in the same statement (the sign-in's
    session index row), so a successful sign-in costs one round trip; ``None`` entries are skipped.
    """
    event = login_event_build(**kwargs)
    rows_insert(*(row for row in together_with if row is not None), event)
    record_committed_send(tenant_id=event.tenant_id, kind="signin")
    return event


def login_events_record(*, tenant: Tenant, events: Sequence[LoginEvent], batch_size: int = 500) -> int:
    """Record many past events of ``tenant`` at once (the demo's history), each built with
    ``login_event_build``; returns how many rows were written."""
    if any(event.pk is not None or event.tenant_id != tenant.pk for event in events):
        raise ValueError("only new rows of this tenant are recorded")
    LoginEvent.objects.for_tenant(tenant).bulk_create(events, batch_size=batch_size)
    return len(events)


def audit_entry_record(*, obj: Model, actor: User | None, changes: dict[str, list[str]],
                       action: int = AuditLogEntry.Action.UPDATE,
                       additional_data: dict[str, Any] | None = None) -> AuditLogEntry:
    """An explicit audit entry for a change no audited model save shows (unlock, MFA reset…).

    ``changes`` maps a field name to ``[before, after]``, as auditlog's own entries do;
    ``additional_data``: JSON context kept beside them (the client of a grey-zone access).
    """
    extra = {"additional_data": additional_data} if additional_data is not None else {}
    return AuditLogEntry.objects.log_create(
        obj, force_log=True, action=action, changes=changes, actor=actor,
        actor_email=actor.email if actor is not None else None, **extra,
    )


GREY_ZONE_CHANGE = "grey_zone"


def grey_zone_access_record(*, tenant: Tenant, actor: User, client: ClientInfo, view: str,
                            filters: dict[str, Any]) -> AuditLogEntry:
    """Record that ``actor`` opened records pending deletion (the grey zone) on ``view``.

    An explicit audit entry on the tenant (action "access"): who and when as every entry, the
    client IP from the audit context (and in ``additional_data``, with the browser, operating
    system, device and filters). Exports of the grey zone are recorded as their ExportEvent instead.
    """
    _check_person(tenant, actor)
    encoded = json.dumps(filters, default=str, sort_keys=True)
    if len(encoded.encode()) > FILTERS_MAX_BYTES:
        raise ValueError("filters are too large to record")
    return audit_entry_record(
        obj=tenant, actor=actor, action=AuditLogEntry.Action.ACCESS,
        changes={GREY_ZONE_CHANGE: ["", view[:64]]},
        additional_data={"view": view[:64], "filters": json.loads(encoded), "ip": client.ip,
                         "browser": f"{client.browser_family} {client.browser_version}".strip(),
                         "os": f"{client.os_family} {client.os_version}".strip(),
                         "device": str(client.device_type), "country": client.country},
    )


def login_event_build(
    *,
    tenant: Tenant,
    user: User | None,
    attempted_login: str,
    client: ClientInfo,
    outcome: Outcome | str,
    reason: Reason | str,
    mfa_method: MfaMethod | str = "",
    session_key: str | None = None,
    occurred_at: datetime | None = None,
    protocol: Protocol | str = Protocol.WEB,
) -> LoginEvent:
    """The unsaved row of one sign-in attempt, second-factor step or sign-out of ``tenant``.

    ``login_event_record`` saves it at once; the sign-in saves it with the session's row in one
    statement (``activity.inserts.rows_insert``).

    ``attempted_login`` is what was typed as the login (normalised, bounded, neutralised);
    ``session_key`` is the session's key after any rotation and is stored only as its
    ``session_reference``. ``protocol``: ``web`` for the console, ``imap``/``pop3``/``submission``
    for a mail client (security.mailauth). Unknown codes raise ValueError.
    """
    _check_person(tenant, user)
    protocol = Protocol(protocol)
    outcome = Outcome(outcome)
    reason = Reason(reason) if reason else ""
    mfa_method = MfaMethod(mfa_method)
    login = text_neutralise(normalize_email(attempted_login or ""), limit=ATTEMPTED_LOGIN_MAX_LENGTH)
    return LoginEvent(
        tenant=tenant,
        user=user,
        attempted_login=login,
        occurred_at=_aware(occurred_at),
        outcome=outcome,
        reason=reason,
        mfa_method=mfa_method,
        session_ref=session_reference(session_key),
        protocol=protocol,
        **client.as_fields(),
    )


def export_event_start(
    *,
    tenant: Tenant,
    user: User,
    client: ClientInfo,
    dataset: str,
    format: str,
    filters: dict[str, Any],
    occurred_at: datetime | None = None,
) -> ExportEvent:
    """Record that ``user`` started exporting ``dataset`` (as ``format``, narrowed by ``filters``)."""
    _check_person(tenant, user)
    encoded = json.dumps(filters, default=str, sort_keys=True)
    if len(encoded.encode()) > FILTERS_MAX_BYTES:
        raise ValueError("export filters are too large to record")
    return ExportEvent.objects.create(
        tenant=tenant,
        user=user,
        occurred_at=_aware(occurred_at),
        dataset=dataset[:64],
        format=format[:16],
        filters=json.loads(encoded),
        **client.as_fields(),
    )


def export_event_complete(
    *,
    event: ExportEvent,
    row_count: int,
    byte_count: int,
    complete: bool = True,
    completed_at: datetime | None = None,
) -> ExportEvent:
    """Close an export: ``complete=False`` when the stream broke off (client gone, error).

    Only a started export changes, in one conditional UPDATE; calling it again is harmless and
    returns the row as first completed.
    """
    if row_count < 0 or byte_count < 0:
        raise ValueError("counts cannot be negative")
    ExportEvent.objects.filter(pk=event.pk, status=ExportStatus.STARTED)._internal_update(
        status=ExportStatus.COMPLETED if complete else ExportStatus.INCOMPLETE,
        row_count=row_count,
        byte_count=byte_count,
        completed_at=_aware(completed_at),
    )
    record_committed_send(tenant_id=event.tenant_id, kind="export")
    return ExportEvent.objects.get(pk=event.pk)
