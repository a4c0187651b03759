"""Who hears about an alert: the detector calls these in the transaction that opened or grew it,
and triage calls ``alert_updated`` in the transaction that changed it.

Design: everything goes through the transactional outbox (``notifications.services``): an
e-mail or webhook row is written with the alert, and a worker delivers it; nothing here talks to
SMTP, HTTP or Redis, so a detector batch or a triage request never waits on them, and a rollback
takes the notification with it. Each row has an idempotency key naming what it is about (the
alert, the person, the status it reached), so running a batch twice sends nothing twice.

- The employee gets "Was this you?" for new_device, new_country and impossible_travel alerts, in
  their language and time zone, with a signed single-use "This wasn't me" link
  (``alerts.report``) and a link to their sign-in history.
- Security admins (owner, admin) get high-severity alerts at once; the rest wait for the daily
  digest (``alerts.tasks_digest``).
- Webhooks: ``alert.opened`` for every alert opened in alert mode, ``alert.updated`` for every
  status or assignee change. Record-only alerts notify nobody.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections import defaultdict
from collections.abc import Mapping, Sequence
from typing import Any

from django.conf import settings
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from accounts.models import User
from alerts.models import Alert, AlertEvidence, ModeChoices, SeverityChoices
from alerts.preferences import DigestOptOut
from alerts.report.links import report_links_issue
from alerts.rules.countries import country_name
from alerts.selectors import alert_explained, rule_title
from notifications.services import (
    EmailDraft,
    WebhookEvent,
    email_enqueue,
    emails_enqueue_many,
    webhook_event_enqueue,
    webhook_events_enqueue_many,
)
from tenants.models import Tenant
from tenants.roles import ADMIN_ROLES

# The findings the employee is asked about: they alone know whether it was them.
WAS_THIS_YOU_RULES = frozenset({"new_device", "new_country", "impossible_travel"})
EMAIL_KIND_WAS_THIS_YOU = "alert_was_this_you"
EMAIL_KIND_ADMIN = "alert_admin"
EMAIL_KIND_DIGEST = "alert_digest"
EMAIL_KIND_ASSIGNED = "alert_assigned"


def absolute(path: str) -> str:
    return settings.PUBLIC_BASE_URL.rstrip("/") + path


def _language(user: User) -> str:
    tenant = user.tenant
    return user.language or (tenant.language if tenant is not None else "") or settings.LANGUAGE_CODE


def _payload(alert: Alert) -> dict[str, Any]:
    return {
        "id": alert.pk,
        "rule": alert.rule,
        "severity": alert.severity,
        "status": alert.status,
        "mode": alert.mode,
        "person": alert.user.email if alert.user_id and alert.user else None,
        "assignee": alert.assignee.email if alert.assignee_id and alert.assignee else None,
        "first_seen": alert.first_seen.isoformat(),
        "last_seen": alert.last_seen.isoformat(),
        "count": alert.count,
        "evidence": alert.evidence or {},
        "url": absolute(reverse("alert_detail", args=[alert.pk])),
    }


def security_admins(*, tenant_id: int) -> list[User]:
    return list(User.objects.filter(tenant_id=tenant_id, role__in=[str(r) for r in ADMIN_ROLES],
                                    status=User.Status.ACTIVE).select_related("tenant").order_by("pk"))


def _admin_email(alert: Alert, admin: User) -> EmailDraft:
    with translation.override(_language(admin)):
        context = {
            "alert": alert,
            "admin": admin,
            "title": rule_title(alert.rule),
            "explained": alert_explained(alert),
            "severity": SeverityChoices(alert.severity).label,
            "person": alert.user,
            "tz": admin.effective_timezone,
            "url": absolute(reverse("alert_detail", args=[alert.pk])),
        }
        subject = _("[%(severity)s] Security alert: %(title)s") % {
            "severity": context["severity"], "title": context["title"]}
        body = render_to_string("alerts/email/admin_alert.txt", context)
        # Written inside the override: the outbox row records the language it was written in.
        return EmailDraft(to=admin.email, subject=subject, body=body,
                          idempotency_key=f"alert:{alert.pk}:opened:admin:{admin.pk}",
                          kind=EMAIL_KIND_ADMIN, language=translation.get_language() or "",
                          user_id=admin.pk)


def _asks_the_person(alert: Alert) -> bool:
    person = alert.user if alert.user_id else None
    return (alert.rule in WAS_THIS_YOU_RULES and person is not None
            and person.status == User.Status.ACTIVE and bool(person.email))


def _was_this_you(alert: Alert, evidence: AlertEvidence, token: str) -> EmailDraft:
    person = alert.user
    assert person is not None  # _asks_the_person
    tz = zoneinfo.ZoneInfo(person.effective_timezone)
    with translation.override(_language(person)):
        when = evidence.occurred_at.astimezone(tz)
        browser = evidence.browser_family or _("an unknown browser")
        os_family = evidence.os_family or _("an unknown system")
        country = country_name(evidence.country) if evidence.country else _("an unknown country")
        summary = _("%(browser)s on %(os)s, %(country)s, %(time)s your time") % {
            "browser": browser, "os": os_family, "country": country,
            "time": when.strftime("%H:%M")}
        context = {
            "person": person,
            "summary": summary,
            "when": when.strftime("%Y-%m-%d %H:%M"),
            "tz": person.effective_timezone,
            "evidence": evidence,
            "report_url": absolute(reverse("alert_report_link", args=[token])),
            "history_url": absolute(reverse("my_signins")),
        }
        subject = _("New sign-in to your account: %(summary)s") % {"summary": summary}
        body = render_to_string("alerts/email/was_this_you.txt", context)
        return EmailDraft(to=person.email, subject=subject, body=body,
                          idempotency_key=f"alert:{alert.pk}:was-this-you:{evidence.event_id}",
                          kind=EMAIL_KIND_WAS_THIS_YOU, language=translation.get_language() or "",
                          user_id=person.pk)


def _latest_signins(tenant_id: int, alerts: Sequence[Alert]) -> dict[int, AlertEvidence]:
    """Each alert's latest sign-in evidence, in one query."""
    latest: dict[int, AlertEvidence] = {}
    for evidence in (AlertEvidence.objects.filter(tenant_id=tenant_id, alert__in=[a.pk for a in alerts],
                                                  event_kind="signin")
                     .order_by("alert_id", "occurred_at", "event_id")):
        latest[evidence.alert_id] = evidence  # ordered: the last one wins
    return latest


def alerts_opened(*, alerts: Sequence[Alert],
                  latest: Mapping[int, AlertEvidence] | None = None) -> None:
    """New alerts were created: per alert the ``alert.opened`` webhook, the employee's "Was this
    you?" and, when high, an e-mail to each security admin, as ``alert_opened`` does for one.

    A detector batch calls it once: whatever the number of alerts, a constant number of
    statements (endpoints, admins, report links, and one INSERT each for the webhook deliveries,
    the links and the e-mails). ``latest``: each alert's latest sign-in evidence by alert id,
    when the caller has it in hand (otherwise it is read in one query).
    """
    by_tenant: dict[int, list[Alert]] = defaultdict(list)
    for alert in alerts:
        if alert.mode == ModeChoices.ALERT:
            by_tenant[alert.tenant_id].append(alert)
    cutoff = timezone.now() - dt.timedelta(hours=settings.ALERTS_NOTIFY_MAX_AGE_HOURS)
    for tenant_id, group in by_tenant.items():
        tenant = group[0].tenant
        webhook_events_enqueue_many(tenant=tenant, events=[
            WebhookEvent(event_type="alert.opened", payload=_payload(alert),
                         idempotency_key=f"alert:{alert.pk}:opened") for alert in group])
        # Old news (a catch-up): the alerts page and the digest, no e-mail at once.
        recent = [alert for alert in group if alert.last_seen >= cutoff]
        drafts: list[EmailDraft] = []
        asking = [alert for alert in recent if _asks_the_person(alert)]
        if asking:
            evidence = dict(latest) if latest is not None else _latest_signins(tenant_id, asking)
            asking = [alert for alert in asking if alert.pk in evidence]
            tokens = report_links_issue(tenant_id=tenant_id, wanted=[
                (alert, alert.user, evidence[alert.pk].event_id) for alert in asking
                if alert.user is not None])
            drafts += [_was_this_you(alert, evidence[alert.pk], tokens[alert.pk]) for alert in asking]
        high = [alert for alert in recent if alert.severity == SeverityChoices.HIGH]
        if high:
            admins = security_admins(tenant_id=tenant_id)
            drafts += [_admin_email(alert, admin) for alert in high for admin in admins]
        emails_enqueue_many(tenant=tenant, drafts=drafts)


def alert_opened(*, alert: Alert) -> None:
    """A new alert was created: webhook, the employee's "Was this you?", admins if high."""
    alerts_opened(alerts=[alert])


def alerts_seen_again(*, alerts: Sequence[Alert]) -> None:
    """Open alerts whose finding repeated (their count and last-seen grew).

    Nobody is told again: the alert is already in front of the admins (at once or in the digest)
    and the person was asked once per alert; the new evidence is on the alert page.
    """


def alert_seen_again(*, alert: Alert) -> None:
    """One open alert's finding repeated: see ``alerts_seen_again``."""
    alerts_seen_again(alerts=[alert])


def alert_assigned(*, alert: Alert, assignee: User, actor: User) -> None:
    """Tell ``assignee`` that ``actor`` gave them the alert (nothing when they took it themselves)."""
    if assignee.pk == actor.pk or not assignee.email:
        return
    with translation.override(_language(assignee)):
        title = rule_title(alert.rule)
        subject = _("Alert assigned to you: %(title)s") % {"title": title}
        body = render_to_string("alerts/email/assigned.txt", {
            "alert": alert, "title": title, "actor": actor, "explained": alert_explained(alert),
            "severity": SeverityChoices(alert.severity).label,
            "url": absolute(reverse("alert_detail", args=[alert.pk]))})
        email_enqueue(tenant=alert.tenant, to=assignee.email, subject=subject, body=body,
                      idempotency_key=f"alert:{alert.pk}:assigned:{assignee.pk}:"
                                      f"{alert.updated_at.isoformat()}",
                      kind=EMAIL_KIND_ASSIGNED, user=assignee)


def alert_updated(*, alert: Alert, change: str, actor: User | None) -> None:
    """A person changed the alert's status or assignee: the ``alert.updated`` webhook."""
    if alert.mode != ModeChoices.ALERT:
        return
    payload = {**_payload(alert), "change": change,
               "by": actor.email if actor is not None else None}
    webhook_event_enqueue(
        tenant=alert.tenant, event_type="alert.updated", payload=payload,
        idempotency_key=f"alert:{alert.pk}:{change}:{alert.status}:{alert.assignee_id}:"
                        f"{alert.updated_at.isoformat()}")


# --- The daily digest ----------------------------------------------------------------------------

DIGEST_DAYS_BACK = 2


def _digest_for(*, tenant: Tenant, day: dt.date) -> int:
    start = dt.datetime.combine(day, dt.time.min, tzinfo=dt.UTC)
    alerts = list(Alert.objects.for_tenant(tenant)
                  .filter(mode=ModeChoices.ALERT, created_at__gte=start,
                          created_at__lt=start + dt.timedelta(days=1))
                  .exclude(severity=SeverityChoices.HIGH)
                  .select_related("user").order_by("created_at", "id")[:500])
    if not alerts:
        return 0
    opted_out = set(DigestOptOut.objects.for_tenant(tenant).values_list("user_id", flat=True))
    sent = 0
    for admin in security_admins(tenant_id=tenant.pk):
        if admin.pk in opted_out:
            continue
        key = f"alerts-digest:{day.isoformat()}:{admin.pk}"
        with translation.override(_language(admin)):
            rows = [(alert, rule_title(alert.rule),
                     absolute(reverse("alert_detail", args=[alert.pk]))) for alert in alerts]
            context = {"rows": rows, "day": day.isoformat(), "tz": admin.effective_timezone,
                       "list_url": absolute(reverse("alerts_list")),
                       "preferences_url": absolute(reverse("alert_digest"))}
            subject = _("Security alerts of %(day)s: %(n)d") % {"day": day.isoformat(),
                                                               "n": len(alerts)}
            body = render_to_string("alerts/email/digest.txt", context)
            email_enqueue(tenant=tenant, to=admin.email, subject=subject, body=body,
                          idempotency_key=key, kind=EMAIL_KIND_DIGEST, user=admin)
        sent += 1
    return sent


def alerts_digest_send(*, today: dt.date | None = None) -> int:
    """Each active tenant's digest of the last days' non-high alerts, to every admin not opted out."""
    today = today or timezone.now().date()
    sent = 0
    for tenant in Tenant.objects.filter(status=Tenant.Status.ACTIVE).order_by("pk"):
        for back in range(DIGEST_DAYS_BACK, 0, -1):
            sent += _digest_for(tenant=tenant, day=today - dt.timedelta(days=back))
    return sent
