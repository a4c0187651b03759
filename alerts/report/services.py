""""This wasn't me": an employee reports a sign-in to their account that they did not make.

Two ways in, one service: a POST on a row of their own sign-in history (signed in), or the
signed single-use link of a "Was this you?" e-mail (not signed in: ``alerts.report.links``). Either
opens (or grows) a high-severity ``this_wasnt_me`` alert with the sign-in as evidence, notes it
on the alert the e-mail was about, and secures the account
(``security.signin.compromise.account_secure_after_compromise``: every session ends, device
cookies are revoked, a new password and MFA re-verification are required at the next sign-in),
all in one transaction with the webhook and the admins' e-mail (the outbox is transactional).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from activity.models import LoginEvent, Outcome
from activity.selectors import login_event_get
from activity.services import audit_entry_record
from alerts import notify
from alerts.models import (
    UNRESOLVED,
    Alert,
    AlertActivity,
    AlertEvidence,
    ModeChoices,
    SeverityChoices,
)
from alerts.preferences import ReportLink
from alerts.report.links import LinkProblem, report_link_check
from alerts.selectors import REPORT_RULE
from security.signin.compromise import account_secure_after_compromise
from tenants.roles import Cap

REPORTABLE_OUTCOMES = (Outcome.SUCCESS, Outcome.CHALLENGE)  # the password was right in both
VIA_HISTORY: Literal["history"] = "history"
VIA_EMAIL: Literal["email"] = "email"


@dataclass(frozen=True, slots=True)
class ReportResult:
    alert: Alert
    event: LoginEvent
    created: bool  # False: added to the person's open report


def _evidence(event: LoginEvent, via: str, reported_at: datetime) -> dict[str, object]:
    return {
        "via": via, "reported_at": reported_at.isoformat(),
        "event_at": event.occurred_at.astimezone(UTC).isoformat(), "event_id": event.pk,
        "ip": event.ip, "country": event.country, "browser_family": event.browser_family,
        "os_family": event.os_family, "device_type": event.device_type,
    }


def _open_or_grow(*, user: User, event: LoginEvent, via: str) -> tuple[Alert, bool]:
    now = timezone.now()
    tenant_id = event.tenant_id
    dedup_key = f"person:{user.pk}"  # one unresolved report per person; more add evidence
    alert = (Alert.objects.select_for_update()
             .filter(tenant_id=tenant_id, rule=REPORT_RULE, dedup_key=dedup_key,
                     status__in=UNRESOLVED).first())
    created = alert is None
    if alert is None:
        try:
            with transaction.atomic():
                alert = Alert.objects.create(
                    tenant_id=tenant_id, rule=REPORT_RULE, severity=SeverityChoices.HIGH,
                    mode=ModeChoices.ALERT, user=user, dedup_key=dedup_key,
                    evidence=_evidence(event, via, now), first_seen=now,
                    last_seen=now, count=0, created_at=now, updated_at=now)
        except IntegrityError:  # a report from another device won the race: grow that one
            alert = Alert.objects.select_for_update().get(
                tenant_id=tenant_id, rule=REPORT_RULE, dedup_key=dedup_key,
                status__in=UNRESOLVED)
            created = False
    _row, new_evidence = AlertEvidence.objects.get_or_create(
        tenant_id=tenant_id, alert=alert, event_id=event.pk, event_kind="signin",
        defaults={"occurred_at": event.occurred_at, "ip": event.ip, "country": event.country,
                  "browser_family": event.browser_family, "os_family": event.os_family,
                  "device_type": event.device_type, "user_agent": event.user_agent[:512]})
    if new_evidence:
        alert.count += 1
        alert.last_seen = max(alert.last_seen, now)
        alert.evidence = _evidence(event, via, now)
        alert.updated_at = now
        alert.save(update_fields=["count", "last_seen", "evidence", "updated_at"])
    note = (_("Reported by the person from their sign-in history.") if via == VIA_HISTORY
            else _("Reported by the person from the “Was this you?” e-mail."))
    AlertActivity.objects.create(
        tenant_id=tenant_id, alert=alert, actor=user, at=now,
        kind=AlertActivity.Kind.OPENED if created else AlertActivity.Kind.SEEN_AGAIN,
        to_status=alert.status if created else "", note=note)
    return alert, created


def _report(*, user: User, event: LoginEvent, via: str, link: ReportLink | None) -> ReportResult:
    if event.user_id != user.pk or event.tenant_id != user.tenant_id:
        raise ValidationError(_("That sign-in is not one of yours."), code="not_yours")
    if event.outcome not in REPORTABLE_OUTCOMES:
        raise ValidationError(_("Nobody got into your account with that attempt, so there is "
                                "nothing to report."), code="not_reportable")
    alert, created = _open_or_grow(user=user, event=event, via=via)
    audit_entry_record(obj=alert, actor=user, changes={
        "reported": ["", f"sign-in {event.pk} ({via})"]}, action=0 if created else 1)
    if link is not None:
        link.used_at = timezone.now()
        link.save(update_fields=["used_at"])
        if link.alert_id and link.alert_id != alert.pk:
            AlertActivity.objects.create(
                tenant_id=user.tenant_id, alert_id=link.alert_id, actor=user,
                kind=AlertActivity.Kind.NOTE,
                note=_("The person said this sign-in was not them (see alert #%(id)d).")
                % {"id": alert.pk})
    account_secure_after_compromise(user=user, actor=user,
                                    reason=f"{REPORT_RULE}: sign-in {event.pk}")
    if created:
        notify.alert_opened(alert=alert)
    return ReportResult(alert=alert, event=event, created=created)


def signin_report(*, user: User, event_id: object) -> ReportResult:
    """``user`` reports one of their own sign-ins from their history (signed in)."""
    if user.tenant is None or not user.can(Cap.SELF_SERVICE):
        raise ValidationError(_("Only an employee of an organisation can report a sign-in."),
                              code="no_tenant")
    event = login_event_get(tenant=user.tenant, pk=event_id)  # 404 for another tenant's id
    if event.user_id != user.pk:
        raise ValidationError(_("That sign-in is not one of yours."), code="not_yours")
    with transaction.atomic():
        return _report(user=user, event=event, via=VIA_HISTORY, link=None)


def signin_report_by_link(*, token: str) -> ReportResult | LinkProblem:
    """The POST of a "This wasn't me" link: acts once, or says why the link cannot be used."""
    with transaction.atomic():
        check = report_link_check(token, for_update=True)
        if check.problem is not None or check.link is None:
            return check.problem or LinkProblem.INVALID
        link = check.link
        user = link.user
        if user.tenant is None or user.status != User.Status.ACTIVE:
            return LinkProblem.INVALID
        event = (LoginEvent.objects.for_tenant(user.tenant).filter(pk=link.event_id, user=user)
                 .first())
        if event is None:  # purged or never theirs: nothing to report against
            return LinkProblem.INVALID
        return _report(user=user, event=event, via=VIA_EMAIL, link=link)


def report_link_preview(*, token: str) -> tuple[ReportLink | None, LoginEvent | None, LinkProblem | None]:
    """What the link's confirmation page shows (GET: changes nothing)."""
    check = report_link_check(token)
    if check.problem is not None or check.link is None:
        return check.link, None, check.problem or LinkProblem.INVALID
    user = check.link.user
    if user.tenant is None:
        return None, None, LinkProblem.INVALID
    event = (LoginEvent.objects.for_tenant(user.tenant).filter(pk=check.link.event_id, user=user)
             .first())
    if event is None:
        return None, None, LinkProblem.INVALID
    return check.link, event, None
