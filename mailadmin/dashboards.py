"""The dashboards by role: what each figure is, and the filtered page behind it.

Owners and admins get the security overview; auditors the same, read-only, with exports over
time; the helpdesk what it acts on (locked accounts, invitations, two-step resets, people who
reported a sign-in). Every figure is a ``Figure`` with the address of the page that lists what it
counts, so a number on the dashboard is always one click from its rows. Members have no dashboard:
their home is "My security".
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from django.db.models import QuerySet
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.mfa.services import mfa_device_exists, mfa_enrolled_count
from accounts.models import User
from activity.audit_text import EntrySource, entries_group, groups_describe
from activity.models import AuditLogEntry, Outcome
from activity.overview import (
    audit_recent,
    login_breakdown,
    login_outcomes_hourly,
    login_protocols,
    mfa_resets_recent,
)
from alerts.models import Alert, AlertStatus, ModeChoices, SeverityChoices
from alerts.selectors import REPORT_RULE, open_alert_counts
from people import selectors as people_selectors
from retention.models import Metric
from retention.reports import (
    Chart,
    countries_chart,
    exports_chart,
    failure_reasons_chart,
    hourly_signins_chart,
    protocols_chart,
    signins_chart,
)
from retention.selectors import activity_totals
from security.policies.password.selectors import password_expiring_list, password_noncompliant_list
from security.signin.lockout import LockedAccount, locked_accounts_list
from tenants.models import Tenant
from tenants.roles import Cap, Role

PERIODS: tuple[tuple[str, Any], ...] = (
    ("24h", gettext_lazy("Last 24 hours")),
    ("7d", gettext_lazy("Last 7 days")),
    ("30d", gettext_lazy("Last 30 days")),
)
PERIOD_DEFAULT = "24h"
PERIOD_DAYS = {"7d": 7, "30d": 30}
LACKING_SHOWN = 10  # people without two-step sign-in listed by name
HELPDESK_DAYS = 30  # how far back the helpdesk's lists of resets and reports look


@dataclass(frozen=True, slots=True)
class Figure:
    """One number of a dashboard: what it counts, and the page listing those rows."""

    label: str
    value: int | str
    url: str
    testid: str
    tone: str = ""  # "", "ok", "warn", "danger": the badge colour when it calls for action


@dataclass(slots=True)
class Overview:
    period: str
    periods: list[tuple[str, str, bool]]  # (value, label, selected)
    since: datetime
    figures: list[Figure] = field(default_factory=list)
    charts: list[Chart] = field(default_factory=list)
    lacking_mfa: list[User] = field(default_factory=list)
    lacking_mfa_count: int = 0
    lacking_mfa_url: str = ""
    recent_audit: list[RecentChange] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class RecentChange:
    """One admin action of the audit trail, as its page says it (one request: one line)."""

    timestamp: datetime
    sentence: str


@dataclass(slots=True)
class HelpdeskPanel:
    locked: list[LockedAccount]
    pending: QuerySet[Any]
    pending_count: int
    mfa_resets: list[AuditLogEntry]
    reported: list[Alert]


def period_clean(value: object) -> str:
    """The period asked for (``24h``, ``7d``, ``30d``), or the default for anything else."""
    return value if isinstance(value, str) and value in dict(PERIODS) else PERIOD_DEFAULT


def _url(name: str, **params: object) -> str:
    query = urlencode({key: value for key, value in params.items() if value not in (None, "")})
    return reverse(name) + (f"?{query}" if query else "")


def _local_day(moment: datetime, tenant: Tenant) -> date:
    return moment.astimezone(ZoneInfo(tenant.timezone or "UTC")).date()


def _signins_since(tenant: Tenant, since: datetime, **params: object) -> str:
    """The sign-in log from ``since``'s day (the log filters by the viewer's calendar days)."""
    return _url("signin_log", **params, **{"from": _local_day(since, tenant).isoformat()})


def _instant(moment: datetime, tenant: Tenant) -> str:
    """An exact time for the sign-in log's ``since``/``until``, as the tenant's clock reads it."""
    return moment.astimezone(ZoneInfo(tenant.timezone or "UTC")).isoformat(timespec="seconds")


def _signins_between(tenant: Tenant, since: datetime, until: datetime | None = None, /,
                     **params: object) -> str:
    """The sign-in log of exactly [since, until): the 24-hour overview's figures and hours."""
    return _url("signin_log", **params, since=_instant(since, tenant),
                until=_instant(until, tenant) if until is not None else None)


def _hour_link(tenant: Tenant) -> Callable[[datetime], str]:
    def link(start: datetime) -> str:
        # In UTC: an hour is 60 minutes even on a day the clocks change.
        begins = start.astimezone(UTC)
        return _signins_between(tenant, begins, begins + timedelta(hours=1))

    return link


def _lacking_mfa(tenant: Tenant) -> QuerySet[User]:
    return (User.objects.for_tenant(tenant).filter(status=User.Status.ACTIVE)
            .annotate(has_mfa=mfa_device_exists()).filter(has_mfa=False)
            .only("id", "email", "display_name", "role").order_by("email"))


def overview_build(*, tenant: Tenant, user: User, period: str, now: datetime) -> Overview:
    """The security overview (owner, admin, auditor) for the last 24 hours, 7 or 30 days."""
    period = period_clean(period)
    days = PERIOD_DAYS.get(period)
    since = now - (timedelta(hours=24) if days is None else timedelta(days=days))
    overview = Overview(period=period, since=since,
                        periods=[(value, str(label), value == period) for value, label in PERIODS])

    if days is None:
        trend = login_outcomes_hourly(tenant=tenant, now=now)
        outcomes = {outcome: trend.total(outcome) for outcome in Outcome.values}
        overview.charts.append(hourly_signins_chart(trend, link=_hour_link(tenant)))
        reasons = login_breakdown(tenant=tenant, since=since, field="reason")
        countries = login_breakdown(tenant=tenant, since=since, field="country")
    else:
        today = now.astimezone(UTC).date()
        first = today - timedelta(days=days - 1)
        totals = activity_totals(tenant=tenant, since=first, until=today)
        by_outcome = totals.total(Metric.SIGNINS_BY_OUTCOME)
        outcomes = {outcome: by_outcome.get(outcome, 0) for outcome in Outcome.values}
        overview.charts.append(signins_chart(totals))
        reasons = totals.total(Metric.SIGNINS_BY_REASON)
        countries = totals.total(Metric.SIGNINS_BY_COUNTRY)
        since = datetime.combine(first, datetime.min.time(), tzinfo=UTC)
        overview.since = since

    def signins(**params: object) -> str:
        # 24 hours: exactly the window counted; days: the whole days the rollups count.
        if days is None:
            return _signins_between(tenant, since, **params)
        return _signins_since(tenant, since, **params)

    overview.charts.append(failure_reasons_chart(reasons, link=lambda key: signins(reason=key)))
    overview.charts.append(countries_chart(countries, link=lambda key: signins(country=key)))
    # Web, IMAP, POP3, submission: counted from the live record (the rollups have no protocol).
    overview.charts.append(protocols_chart(login_protocols(tenant=tenant, since=since),
                                           link=lambda key: signins(protocol=key)))
    if user.role == Role.AUDITOR and days is not None:
        overview.charts.append(exports_chart(totals))
    # Each figure links to the log of what it counted.
    exports = _url("export_log", **{"from": _local_day(since, tenant).isoformat()})
    overview.charts = [
        replace(chart, more_url=exports, more_label=_("Open these exports in the export log"))
        if chart.slug == "exports" else
        replace(chart, more_url=signins(), more_label=_("Open these sign-ins in the sign-in log"))
        for chart in overview.charts]

    figures = overview.figures
    for outcome, label, tone in (
        (Outcome.SUCCESS, _("Successful sign-ins"), ""),
        (Outcome.FAILURE, _("Failed sign-ins"), "warn"),
        (Outcome.DENIED, _("Denied by policy"), "warn"),
    ):
        count = outcomes.get(outcome, 0)
        figures.append(Figure(label=label, value=count, testid=f"signins-{outcome}",
                              url=signins(outcome=outcome),
                              tone=tone if count else ""))

    locked = locked_accounts_list(tenant=tenant, now=now)
    locked_people = len({account.person.pk for account in locked})
    figures.append(Figure(label=_("Accounts locked now"), value=locked_people, testid="locked-now",
                          url=reverse("locked_accounts"), tone="danger" if locked_people else ""))

    if user.can(Cap.ALERTS_VIEW):
        alerts = open_alert_counts(tenant=tenant)
        for severity, severity_label in SeverityChoices.choices:
            count = alerts.get(severity, 0)
            figures.append(Figure(
                label=_("Open alerts: %(severity)s") % {"severity": severity_label}, value=count,
                testid=f"alerts-{severity}", url=_url("alerts_list", severity=severity),
                tone=("danger" if severity in ("high", "critical") else "warn") if count else ""))

    pending = people_selectors.invitations_pending(tenant=tenant).count()
    figures.append(Figure(label=_("Pending invitations"), value=pending, testid="pending-invitations",
                          url=_url("people_list", status=User.Status.INVITED)))

    counts = people_selectors.people_counts(tenant=tenant)
    active = counts["by_status"].get(User.Status.ACTIVE, 0)
    enrolled = mfa_enrolled_count(tenant=tenant)
    lacking = _lacking_mfa(tenant)
    overview.lacking_mfa = list(lacking[:LACKING_SHOWN])
    overview.lacking_mfa_count = lacking.count()
    overview.lacking_mfa_url = _url("people_list", status=User.Status.ACTIVE, mfa="none")
    share = f"{round(100 * enrolled / active)} %" if active else "—"
    figures.append(Figure(label=_("Active people with two-step sign-in"),
                          value=f"{enrolled}/{active} ({share})", testid="mfa-enrolled",
                          url=overview.lacking_mfa_url,
                          tone="warn" if overview.lacking_mfa_count else "ok"))

    noncompliant = password_noncompliant_list(tenant=tenant).count()
    figures.append(Figure(label=_("Passwords not meeting the policy"), value=noncompliant,
                          testid="passwords-noncompliant", url=reverse("password_compliance"),
                          tone="warn" if noncompliant else ""))
    expired = sum(1 for _state, expires in password_expiring_list(tenant=tenant, now=now,
                                                                   within_days=0)
                  if expires is not None and expires <= now)
    figures.append(Figure(label=_("Expired passwords"), value=expired, testid="passwords-expired",
                          url=reverse("password_compliance"), tone="warn" if expired else ""))

    if user.can(Cap.AUDIT_VIEW):
        overview.recent_audit = _recent_changes(tenant, since=now - timedelta(days=30))
    return overview


RECENT_CHANGES = 6


def _recent_changes(tenant: Tenant, *, since: datetime) -> list[RecentChange]:
    """The newest actions, grouped and worded as the audit trail shows them."""
    # An action is a few entries (a person and their invitation, a policy and its allowlist):
    # read enough for six of them in the common case, one query either way.
    entries = audit_recent(tenant=tenant, since=since, limit=RECENT_CHANGES * 3)
    groups = entries_group(entries)[:RECENT_CHANGES]
    texts = groups_describe([[EntrySource.of(entry) for entry in group] for group in groups],
                            tenant=tenant, tz=tenant.timezone or "UTC")
    return [RecentChange(timestamp=group[-1].timestamp, sentence=text.sentence)
            for group, text in zip(groups, texts, strict=True)]


def helpdesk_build(*, tenant: Tenant, now: datetime) -> HelpdeskPanel:
    """What the helpdesk acts on: locked accounts, invitations, recent resets and reports."""
    pending = people_selectors.invitations_pending(tenant=tenant)
    since = now - timedelta(days=HELPDESK_DAYS)
    reported = list(Alert.objects.for_tenant(tenant)
                    .filter(rule=REPORT_RULE, mode=ModeChoices.ALERT, last_seen__gte=since)
                    .exclude(status__in=[AlertStatus.RESOLVED, AlertStatus.FALSE_POSITIVE])
                    .select_related("user").order_by("-last_seen", "-id")[:20])
    return HelpdeskPanel(
        locked=locked_accounts_list(tenant=tenant, now=now),
        pending=pending.select_related("user").order_by("expires_at")[:10],
        pending_count=pending.count(),
        mfa_resets=mfa_resets_recent(tenant=tenant, since=since),
        reported=reported,
    )


def people_figures(*, tenant: Tenant) -> Mapping[str, Any]:
    """People by status and role, for every dashboard."""
    counts = people_selectors.people_counts(tenant=tenant)
    return {
        "counts": counts,
        "total": sum(counts["by_status"].values()),
        "roles": [(value, label, counts["by_role"][value]) for value, label in Role.choices],
    }
