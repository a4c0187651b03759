"""Reading alerts: the filtered list and its keyset pages, one alert with its evidence and timeline,
open-alert counts for the dashboard and the person page, trusts and rule settings.

Every function takes ``tenant`` and filters on it first; ``alert_get`` is the 404 for another
tenant's id. The list pages by keyset over (last_seen DESC, id DESC), like the log pages
(``activity.keyset``: signed cursors, never OFFSET, no COUNT(*) beyond a cap), answered by the
``(tenant, -last_seen, -id)`` index.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import Count, IntegerField, OuterRef, Q, QuerySet, Subquery
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import User
from activity.keyset import Cursor, CursorInvalid, cursor_decode, cursor_encode
from alerts.models import (
    UNRESOLVED,
    Alert,
    AlertActivity,
    AlertEvidence,
    AlertStatus,
    ModeChoices,
    RuleSetting,
    SeverityChoices,
    Trust,
)
from alerts.preferences import DigestOptOut
from alerts.rules import RULES
from alerts.rules.common import device_label, place_label, text
from tenants.access import get_for_tenant_or_404
from tenants.models import Tenant
from tenants.roles import ADMIN_ROLES

REPORT_RULE = "this_wasnt_me"  # raised by the person (alerts.report), not by a rule
STATUS_UNRESOLVED = "unresolved"  # the list's default: open and acknowledged
COUNT_CAP = 1000


@dataclass(frozen=True, slots=True)
class AlertFilters:
    status: str = STATUS_UNRESOLVED  # an AlertStatus value, "unresolved", or "" for any
    severity: str = ""
    rule: str = ""
    person: int | None = None
    mode: str = ModeChoices.ALERT  # record-only alerts are listed apart
    starts_at: datetime | None = None  # last seen at or after
    ends_before: datetime | None = None  # last seen before


def alerts_filtered(*, tenant: Tenant, filters: AlertFilters,
                    seen_since: datetime | None = None) -> QuerySet[Alert]:
    """This tenant's alerts matching ``filters``, newest activity first; with ``seen_since`` (an
    export's reading window) only alerts last seen at or after it."""
    alerts = Alert.objects.for_tenant(tenant).select_related("user", "assignee")
    if seen_since is not None:
        alerts = alerts.filter(last_seen__gte=seen_since)
    if filters.status == STATUS_UNRESOLVED:
        alerts = alerts.filter(status__in=UNRESOLVED)
    elif filters.status:
        alerts = alerts.filter(status=filters.status)
    if filters.severity:
        alerts = alerts.filter(severity=filters.severity)
    if filters.rule:
        alerts = alerts.filter(rule=filters.rule)
    if filters.person is not None:
        alerts = alerts.filter(user_id=filters.person)
    if filters.mode:
        alerts = alerts.filter(mode=filters.mode)
    if filters.starts_at is not None:
        alerts = alerts.filter(last_seen__gte=filters.starts_at)
    if filters.ends_before is not None:
        alerts = alerts.filter(last_seen__lt=filters.ends_before)
    return alerts.order_by("-last_seen", "-id")


@dataclass(frozen=True, slots=True)
class AlertPage:
    rows: list[Alert]
    next_cursor: str | None
    prev_cursor: str | None
    count: int | None  # exact up to COUNT_CAP on the first page, else None
    more_than: int | None  # "more than N" when the first page's count reached the cap


def _older(cursor: Cursor) -> Q:
    return Q(last_seen__lt=cursor.at) | Q(last_seen=cursor.at, pk__lt=cursor.pk)


def _newer(cursor: Cursor) -> Q:
    return Q(last_seen__gt=cursor.at) | Q(last_seen=cursor.at, pk__gt=cursor.pk)


def _encode(alert: Alert, direction: str) -> str:
    return cursor_encode(Alert, at=alert.last_seen, pk=alert.pk, direction=direction)  # type: ignore[arg-type]


def alerts_page(queryset: QuerySet[Alert], *, cursor: str | None, size: int) -> AlertPage:
    """One keyset page of ``queryset`` (from ``alerts_filtered``). Raises CursorInvalid for a
    cursor not issued for alerts; the caller then shows the first page and says so."""
    decoded = cursor_decode(Alert, cursor) if cursor else None
    if decoded is not None and decoded.direction == "newer":
        rows = list(queryset.filter(_newer(decoded)).order_by("last_seen", "id")[: size + 1])
        if len(rows) > size:
            rows = rows[:size]
            rows.reverse()
            return AlertPage(rows=rows, next_cursor=_encode(rows[-1], "older"),
                             prev_cursor=_encode(rows[0], "newer"), count=None, more_than=None)
        decoded = None  # back at the top: a full first page
    if decoded is None:
        rows = list(queryset[: size + 1])
        prev = None
    else:
        rows = list(queryset.filter(_older(decoded))[: size + 1])
        prev = _encode(rows[0], "newer") if rows else None
    more = len(rows) > size
    rows = rows[:size]
    count: int | None = None
    more_than: int | None = None
    if decoded is None:
        if not more:
            count = len(rows)
        else:
            counted = queryset.order_by().values("pk")[: COUNT_CAP + 1].count()
            count, more_than = (counted, None) if counted <= COUNT_CAP else (None, COUNT_CAP)
    return AlertPage(rows=rows, next_cursor=_encode(rows[-1], "older") if more else None,
                     prev_cursor=prev, count=count, more_than=more_than)


def alert_get(*, tenant: Tenant, pk: object) -> Alert:
    """One alert of ``tenant``; another tenant's id is a 404, exactly like a missing one."""
    return get_for_tenant_or_404(Alert.objects.select_related("user", "assignee"),
                                 tenant=tenant, pk=pk)


EVIDENCE_MAX = 200


def alert_evidence_list(*, alert: Alert, since: datetime | None = None) -> list[AlertEvidence]:
    """The alert's evidence rows, newest first; with ``since`` (the reader's window, see
    ``activity.selectors.window_get``) only the rows that occurred at or after it."""
    rows = AlertEvidence.objects.filter(tenant_id=alert.tenant_id, alert=alert)
    if since is not None:
        rows = rows.filter(occurred_at__gte=since)
    return list(rows.order_by("-occurred_at", "-event_id")[:EVIDENCE_MAX])


def alert_evidence_hidden_count(*, alert: Alert, before: datetime) -> int:
    """How many of the alert's evidence rows occurred before ``before`` (the grey zone)."""
    return (AlertEvidence.objects.filter(tenant_id=alert.tenant_id, alert=alert,
                                         occurred_at__lt=before).count())


def alert_timeline(*, alert: Alert) -> list[AlertActivity]:
    return list(AlertActivity.objects.filter(tenant_id=alert.tenant_id, alert=alert)
                .select_related("actor").order_by("at", "id"))


def alerts_by_ids(*, tenant: Tenant, ids: list[int]) -> list[Alert]:
    """The alerts of ``tenant`` among ``ids`` (ids of other tenants simply are not found)."""
    return list(Alert.objects.for_tenant(tenant).filter(pk__in=ids).select_related("user")
                .order_by("-last_seen", "-id"))


def assignee_choices(*, tenant: Tenant) -> QuerySet[User]:
    """Who an alert can be assigned to: the tenant's active security admins (owner, admin)."""
    return (User.objects.for_tenant(tenant)
            .filter(role__in=[str(role) for role in ADMIN_ROLES], status=User.Status.ACTIVE)
            .order_by("display_name", "email"))


def open_alert_counts(*, tenant: Tenant, user: User | None = None) -> dict[str, int]:
    """Unresolved alerts (mode alert) by severity, for the dashboard or one person's page."""
    alerts = Alert.objects.for_tenant(tenant).filter(status__in=UNRESOLVED, mode=ModeChoices.ALERT)
    if user is not None:
        alerts = alerts.filter(user=user)
    rows = alerts.values("severity").annotate(n=Count("id")).order_by()
    counts = {value: 0 for value in SeverityChoices.values}
    for row in rows:
        counts[row["severity"]] = row["n"]
    counts["total"] = sum(counts[value] for value in SeverityChoices.values)
    return counts


def _open_alerts(tenant: Tenant) -> QuerySet[Alert]:
    return Alert.objects.for_tenant(tenant).filter(status__in=UNRESOLVED, mode=ModeChoices.ALERT)


def open_alert_totals_by_user(*, tenant: Tenant, user_ids: Iterable[int]) -> dict[int, int]:
    """Unresolved alerts (mode alert) per person for a page of people; one grouped query.
    People without any are absent."""
    ids = list(user_ids)
    if not ids:
        return {}
    rows = (_open_alerts(tenant).filter(user_id__in=ids).values("user_id")
            .annotate(n=Count("id")).order_by())
    return {row["user_id"]: row["n"] for row in rows}


def open_alert_total_subquery(*, tenant: Tenant) -> Subquery:
    """For User querysets (sorting by it): the person's unresolved alerts, counted."""
    return Subquery(
        _open_alerts(tenant).filter(user=OuterRef("pk")).order_by().values("user")
        .annotate(n=Count("id")).values("n")[:1],
        output_field=IntegerField(),
    )


def trusts_list(*, tenant: Tenant, active_only: bool = True) -> QuerySet[Trust]:
    trusts = Trust.objects.for_tenant(tenant).select_related("user", "created_by", "revoked_by")
    if active_only:
        trusts = trusts.filter(revoked_at__isnull=True)
    return trusts.order_by("-created_at", "-id")


def trust_get(*, tenant: Tenant, pk: object) -> Trust:
    return get_for_tenant_or_404(Trust.objects.select_related("user"), tenant=tenant, pk=pk)


def rule_settings_map(*, tenant: Tenant) -> dict[str, RuleSetting]:
    return {row.rule: row for row in RuleSetting.objects.for_tenant(tenant)}


def digest_opted_out(*, user: User) -> bool:
    if user.tenant is None:
        return False
    return DigestOptOut.objects.for_tenant(user.tenant).filter(user=user).exists()


def rule_title(code: str) -> str:
    if code == REPORT_RULE:
        return _("Reported by the person: “This wasn't me”")
    module = RULES.get(code)
    return str(module.TITLE) if module is not None else code


def _report_sentence(evidence: Mapping[str, Any]) -> str:
    values = {
        "at": str(evidence.get("event_at") or "?")[:16].replace("T", " "),
        "device": device_label(evidence.get("browser_family"), evidence.get("os_family"),
                               evidence.get("device_type")),
        "ip": text(evidence.get("ip")),
        "place": place_label(evidence.get("country")),
    }
    if evidence.get("via") == "email":
        return _("The person answered the “Was this you?” e-mail: the sign-in at %(at)s UTC with "
                 "%(device)s from %(ip)s (%(place)s) was not them.") % values
    return _("The person reported from their sign-in history that the sign-in at %(at)s UTC "
             "with %(device)s from %(ip)s (%(place)s) was not them.") % values


def alert_explained(alert: Alert) -> str:
    """The alert's evidence in one translated sentence (its rule's ``describe``)."""
    evidence = alert.evidence if isinstance(alert.evidence, Mapping) else {}
    try:
        if alert.rule == REPORT_RULE:
            return _report_sentence(evidence)
        module = RULES.get(alert.rule)
        if module is not None:
            return str(module.describe(evidence))
    except (KeyError, TypeError, ValueError):  # evidence of an older version of the rule
        pass
    return _("No explanation is available for this alert.")


def status_label(value: str) -> str:
    return str(AlertStatus(value).label) if value in AlertStatus.values else value


def describe_status_filter(value: str) -> str:
    return _("Open or acknowledged") if value == STATUS_UNRESOLVED else status_label(value)


# The keys ``alerts.report.services`` writes in a "This wasn't me" alert's evidence (that module
# imports this one, so the labels live here, beside ``_report_sentence`` that reads them).
REPORT_EVIDENCE_LABELS: dict[str, Promise] = {
    "via": gettext_lazy("Reported from"),
    "reported_at": gettext_lazy("Reported at (UTC)"),
    "event_at": gettext_lazy("Time of the sign-in (UTC)"),
    "event_id": gettext_lazy("Sign-in record number"),
    "ip": gettext_lazy("IP address"),
    "country": gettext_lazy("Country"),
    "browser_family": gettext_lazy("Browser"),
    "os_family": gettext_lazy("Operating system"),
    "device_type": gettext_lazy("Device"),
}
_REPORT_VIA = {"email": gettext_lazy("the “Was this you?” e-mail"),
               "history": gettext_lazy("their sign-in history")}


def evidence_labels(rule: str) -> Mapping[str, Promise]:
    """The translated names of ``rule``'s evidence keys (each rule module's EVIDENCE_LABELS)."""
    if rule == REPORT_RULE:
        return REPORT_EVIDENCE_LABELS
    module = RULES.get(rule)
    return getattr(module, "EVIDENCE_LABELS", {}) if module is not None else {}


def _figure(value: Any) -> str | None:
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if value is None or value == "":
        return "—"
    if isinstance(value, (int, float, str)):
        return str(value)
    if isinstance(value, list):
        shown = [_figure(item) for item in value if not isinstance(item, (dict, list))]
        return ", ".join(item for item in shown if item) or "—"
    if isinstance(value, dict):
        return ", ".join(f"{key}: {_figure(item)}" for key, item in value.items()
                         if not isinstance(item, (dict, list))) or "—"
    return None


def evidence_figures(evidence: Mapping[str, Any], rule: str = "") -> list[tuple[str, str]]:
    """The evidence's figures as (translated name, value) rows, for the detail page beside the
    sentence. A key its rule has no label for (evidence of an older version) is left out: the
    page never shows a raw key."""
    labels = evidence_labels(rule)
    rows: list[tuple[str, str]] = []
    for key, value in evidence.items():
        label = labels.get(str(key))
        if label is None:
            continue
        if rule == REPORT_RULE and key == "via" and value in _REPORT_VIA:
            value = str(_REPORT_VIA[value])
        shown = _figure(value)
        if shown is not None:
            rows.append((str(label), shown))
    return rows


__all__ = ["CursorInvalid"]
