"""Which rows of a tenant are due for deletion, and which of those legal holds keep.

The sweep deletes what ``due_querysets`` returns and the policy page's preview counts the same
querysets, so the preview is what the next sweep removes (for the rules and clock given).

Whole UTC days: a tenant's record is purged for the days strictly before
``purge_day = (now - purge_days)`` (its UTC date). Every such row is older than ``purge_days``;
a row of ``purge_day`` itself waits for the next night. Rolling up works on the same whole
days, so each purged day was counted once, complete.

A hold on a person keeps the rows that are theirs: their sign-in events (also attempts at their
address with no person attached), exports, sessions, invitations, password-reset links (theirs
or sent by them), revoked mail-client passwords, audit entries they made or that are about them,
the lockout attempts at their address, and what the apps above retention register
(``retention.registry``: people imports name the rows of a held person's address). A hold with
no person keeps the whole tenant's record.

Short-lived rows have their own, shorter horizon: a password-reset link is deleted once it
expired ``RESET_LINK_DAYS`` before the purge (used and revoked links expire within the hour they
were sent, so every dead link goes), and the platform-wide reset throttle forgets requests older
than ``RESET_THROTTLE_DAYS`` (its window is one hour). Revoked mail-client passwords and people
imports follow the tenant's ``purge_days`` (from the revocation, from the import's end).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import reduce
from operator import or_

from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.contrib.contenttypes.models import ContentType
from django.contrib.sessions.models import Session
from django.db.models import Model, Q, QuerySet

from accounts.mailclients.models import MailClientPassword
from accounts.models import User
from activity.lifetime import RetentionRules
from activity.models import AuditLogEntry, ExportEvent, LoginEvent
from activity.partitions import day_bounds
from alerts.models import AlertEvidence
from notifications.models import OutboxMessage, Status, WebhookDelivery
from retention import registry
from retention.models import LegalHold
from security.recovery.models import PasswordReset, PasswordResetThrottle
from security.sessions.models import UserSession
from tenants.models import Invitation, MailDomain, Tenant

LOGIN_TABLE = "activity_loginevent"
EXPORT_TABLE = "activity_exportevent"
AUDIT_TABLE = "activity_auditlogentry"
SESSION_TABLE = "security_usersession"
INVITATION_TABLE = "tenants_invitation"
AXES_TABLES = ("axes_accessattempt", "axes_accesslog", "axes_accessfailurelog")
OUTBOX_TABLE = "notifications_outboxmessage"
WEBHOOK_TABLE = "notifications_webhookdelivery"
EVIDENCE_TABLE = "alerts_alertevidence"  # not deleted: its raw IP and User-Agent are blanked
RESET_TABLE = "security_passwordreset"
RESET_THROTTLE_TABLE = "security_passwordresetthrottle"
MAIL_CLIENT_TABLE = "accounts_mailclientpassword"
# The tables a tenant's receipt reports, in the order pages show them (then the registered ones).
TENANT_TABLES = (LOGIN_TABLE, EXPORT_TABLE, SESSION_TABLE, INVITATION_TABLE, RESET_TABLE,
                 MAIL_CLIENT_TABLE, *AXES_TABLES, OUTBOX_TABLE, WEBHOOK_TABLE, AUDIT_TABLE,
                 EVIDENCE_TABLE)
# A reset link lives an hour; kept this long after it expired (helpdesk questions), then deleted.
RESET_LINK_DAYS = 30
# The throttle counts the last hour's requests; a day is plenty.
RESET_THROTTLE_DAYS = 1
# Delivered (or finally failed) messages and deliveries: pending ones are still work to do.
_SETTLED = (Status.SENT, Status.FAILED)
DJANGO_SESSION_TABLE = "django_session"


@dataclass(frozen=True, slots=True)
class Holds:
    """The legal holds in force for one tenant at one instant."""

    whole_tenant: bool = False
    person_ids: frozenset[int] = frozenset()
    emails: frozenset[str] = frozenset()

    @property
    def any(self) -> bool:
        return self.whole_tenant or bool(self.person_ids)


def holds_in_force(*, tenant: Tenant, now: dt.datetime) -> Holds:
    """The tenant's holds that are not lifted and not past their end date at ``now``."""
    today = now.astimezone(dt.UTC).date()
    active = LegalHold.objects.for_tenant(tenant).filter(lifted_at__isnull=True, ends_on__gte=today)
    person_ids = set()
    whole = False
    for person_id in active.values_list("person_id", flat=True):
        if person_id is None:
            whole = True
        else:
            person_ids.add(person_id)
    emails = set(User.objects.filter(tenant=tenant, pk__in=person_ids).values_list("email", flat=True))
    return Holds(whole_tenant=whole, person_ids=frozenset(person_ids), emails=frozenset(emails))


def purge_day(rules: RetentionRules, now: dt.datetime) -> dt.date:
    """The first UTC day the sweep keeps; every earlier day is purged (``audit`` likewise)."""
    return rules.purge_before(now).astimezone(dt.UTC).date()


def purge_cutoff(rules: RetentionRules, now: dt.datetime) -> dt.datetime:
    return day_bounds(purge_day(rules, now))[0]


def reset_link_cutoff(now: dt.datetime) -> dt.datetime:
    """Reset links that expired before this are deleted (whole UTC days, like the record)."""
    return day_bounds((now - dt.timedelta(days=RESET_LINK_DAYS)).astimezone(dt.UTC).date())[0]


def audit_cutoff(rules: RetentionRules, now: dt.datetime) -> dt.datetime:
    return day_bounds(rules.audit_purge_before(now).astimezone(dt.UTC).date())[0]


def domain_filter(domains: list[str], field: str = "username") -> Q:
    """Addresses on one of ``domains`` (axes stores the normalised, lower-case address)."""
    if not domains:
        return Q(pk__in=[])
    return reduce(or_, (Q(**{f"{field}__endswith": f"@{domain}"}) for domain in domains))


def tenant_domains(tenant: Tenant) -> list[str]:
    return list(MailDomain.objects.for_tenant(tenant).values_list("domain", flat=True))


def _split[M: Model](due: QuerySet[M], keep: Q | None, whole: bool) -> tuple[QuerySet[M], QuerySet[M]]:
    if whole:
        return due.none(), due
    if keep is None:
        return due, due.none()
    return due.exclude(keep), due.filter(keep)


def due_querysets(*, tenant: Tenant, rules: RetentionRules, now: dt.datetime, holds: Holds,
                  record_before: dt.datetime | None = None,
                  ) -> dict[str, tuple[QuerySet[Model], QuerySet[Model]]]:
    """Table -> (rows to delete, rows past their date that holds keep), for one tenant.

    ``record_before`` narrows the sign-in and export rows to days before it: the sweep passes
    the first day it has not rolled up yet, so no row leaves uncounted.
    """
    cutoff = purge_cutoff(rules, now)
    record_cutoff = min(cutoff, record_before) if record_before is not None else cutoff
    ids = sorted(holds.person_ids)
    emails = sorted(holds.emails)
    held = bool(ids)
    whole = holds.whole_tenant

    def person_q(field: str = "user_id") -> Q | None:
        return Q(**{f"{field}__in": ids}) if held else None

    login_keep = (Q(user_id__in=ids) | Q(attempted_login__in=emails)) if held else None
    axes_keep = Q(username__in=emails) if held else None
    audit_keep = None
    if held:
        user_type = ContentType.objects.get_for_model(User)
        audit_keep = Q(actor_id__in=ids) | Q(content_type=user_type, object_pk__in=[str(i) for i in ids])
    on_domains = domain_filter(tenant_domains(tenant))
    login = LoginEvent.objects.for_tenant(tenant).filter(occurred_at__lt=record_cutoff).order_by()
    export = ExportEvent.objects.for_tenant(tenant).filter(occurred_at__lt=record_cutoff).order_by()
    sessions = UserSession.objects.for_tenant(tenant).filter(last_seen_at__lt=cutoff).order_by()
    invitations = Invitation.objects.for_tenant(tenant).filter(expires_at__lt=cutoff).order_by()
    # A message's time is its delivery, or its creation when it never got through.
    settled_before = (Q(status__in=_SETTLED) & (Q(sent_at__lt=cutoff)
                                                | Q(sent_at__isnull=True, created_at__lt=cutoff)))
    outbox = OutboxMessage.objects.for_tenant(tenant).filter(settled_before).order_by()
    outbox_keep = (Q(user_id__in=ids) | Q(to__in=emails)) if held else None
    webhooks = WebhookDelivery.objects.for_tenant(tenant).filter(settled_before).order_by()
    audit = AuditLogEntry.objects.for_tenant(tenant).filter(
        timestamp__lt=audit_cutoff(rules, now)).order_by()
    resets = PasswordReset.objects.for_tenant(tenant).filter(
        expires_at__lt=reset_link_cutoff(now)).order_by()
    reset_keep = (Q(user_id__in=ids) | Q(requested_by_id__in=ids)) if held else None
    mail_clients = MailClientPassword.objects.for_tenant(tenant).filter(
        revoked_at__isnull=False, revoked_at__lt=cutoff).order_by()
    result: dict[str, tuple[QuerySet[Model], QuerySet[Model]]] = {
        LOGIN_TABLE: _split(login, login_keep, whole),
        EXPORT_TABLE: _split(export, person_q(), whole),
        SESSION_TABLE: _split(sessions, person_q(), whole),
        INVITATION_TABLE: _split(invitations, person_q(), whole),
        RESET_TABLE: _split(resets, reset_keep, whole),
        MAIL_CLIENT_TABLE: _split(mail_clients, person_q(), whole),
        OUTBOX_TABLE: _split(outbox, outbox_keep, whole),
        WEBHOOK_TABLE: _split(webhooks, None, whole),
        AUDIT_TABLE: _split(audit, audit_keep, whole),
    }
    for table, model in zip(AXES_TABLES, (AccessAttempt, AccessLog, AccessFailureLog), strict=True):
        rows = model.objects.filter(on_domains, attempt_time__lt=cutoff).order_by()
        result[table] = _split(rows, axes_keep, whole)
    scope = registry.PurgeScope(tenant=tenant, now=now, cutoff=cutoff, holds=holds)
    for entry in registry.purged_tables():
        rows, keep = entry.due(scope)
        result[entry.table] = _split(rows.order_by(), keep if held else None, whole)
    return result


def platform_querysets(*, rules: RetentionRules, now: dt.datetime,
                       session_cutoff: dt.datetime) -> dict[str, QuerySet[Model]]:
    """Rows that belong to no tenant: lockout attempts at addresses on no tenant's domain,
    platform audit entries, Django sessions that expired before every tenant's purge date, and
    the password-reset throttle's requests older than ``RESET_THROTTLE_DAYS``."""
    cutoff = purge_cutoff(rules, now)
    domains = list(MailDomain.objects.values_list("domain", flat=True))
    result: dict[str, QuerySet[Model]] = {}
    for table, model in zip(AXES_TABLES, (AccessAttempt, AccessLog, AccessFailureLog), strict=True):
        rows = model.objects.filter(attempt_time__lt=cutoff).order_by()
        if domains:
            rows = rows.exclude(domain_filter(domains))
        result[table] = rows
    result[AUDIT_TABLE] = AuditLogEntry.objects.filter(
        tenant__isnull=True, timestamp__lt=audit_cutoff(rules, now)).order_by()
    result[DJANGO_SESSION_TABLE] = Session.objects.filter(expire_date__lt=session_cutoff).order_by()
    result[RESET_THROTTLE_TABLE] = PasswordResetThrottle.objects.filter(
        at__lt=now - dt.timedelta(days=RESET_THROTTLE_DAYS)).order_by()
    return result


def evidence_to_blank(*, tenant: Tenant, rules: RetentionRules, now: dt.datetime,
                      holds: Holds) -> tuple[QuerySet[AlertEvidence], QuerySet[AlertEvidence]]:
    """(alert evidence whose raw IP and User-Agent are due to be blanked, evidence holds keep).

    Alerts keep their rule, counts and the coarse columns (country, browser and OS family)."""
    raw = Q(ip__isnull=False) | ~Q(user_agent="")
    due = (AlertEvidence.objects.for_tenant(tenant)
           .filter(raw, occurred_at__lt=purge_cutoff(rules, now)).order_by())
    if holds.whole_tenant:
        return due.none(), due
    if holds.person_ids:
        keep = Q(alert__user_id__in=sorted(holds.person_ids))
        return due.exclude(keep), due.filter(keep)
    return due, due.none()
