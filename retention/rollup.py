"""The one aggregation of the record into daily counts.

The sweep writes its result into ``DailyActivity`` before it purges a day; reports compute the
same thing live for days not yet rolled up. Because both go through ``activity_counts``, a
report shows the same numbers before and after the days it covers are purged.

What is counted (UTC days):

- ``signins.outcome``: every sign-in event by outcome, so its keys add up to the day's rows;
- reason, country, browser, OS and device: attempts (every event but sign-outs);
- ``signins.mfa``: successful sign-ins by second factor ("" = none);
- ``signins.people``: distinct people with a successful sign-in that day (key "");
- ``exports.dataset`` and ``exports.rows``: exports and their rows, by dataset;
- ``alerts.rule`` and ``alerts.severity``: alerts opened that day (alerts are never purged, only
  their evidence's raw IP and User-Agent are blanked, so these are live on every day).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Mapping
from typing import Any

from django.db import connection
from django.db.models import Count, Q, QuerySet, Sum
from django.db.models.functions import TruncDate

from activity.models import ExportEvent, LoginEvent, Outcome
from activity.partitions import day_bounds
from alerts.models import Alert
from retention.models import Metric

# (tenant_id, day) -> metric -> key -> count
Counts = dict[tuple[int, dt.date], dict[str, dict[str, int]]]

_ATTEMPTS = ~Q(outcome=Outcome.SIGNOUT)
_SUCCESS = Q(outcome=Outcome.SUCCESS)

LOGIN_BREAKDOWNS: tuple[tuple[Metric, str, Q], ...] = (
    (Metric.SIGNINS_BY_OUTCOME, "outcome", Q()),
    (Metric.SIGNINS_BY_REASON, "reason", _ATTEMPTS),
    (Metric.SIGNINS_BY_COUNTRY, "country", _ATTEMPTS),
    (Metric.SIGNINS_BY_BROWSER, "browser_family", _ATTEMPTS),
    (Metric.SIGNINS_BY_OS, "os_family", _ATTEMPTS),
    (Metric.SIGNINS_BY_DEVICE, "device_type", _ATTEMPTS),
    (Metric.SIGNINS_BY_MFA, "mfa_method", _SUCCESS),
)


def _window[Q_: QuerySet](queryset: Q_, tenant_ids: Iterable[int], since: dt.date, until: dt.date) -> Q_:
    start = day_bounds(since)[0]
    end = day_bounds(until)[1]
    return queryset.filter(tenant_id__in=list(tenant_ids), occurred_at__gte=start,
                           occurred_at__lt=end).order_by()


def _add(counts: Counts, rows: Iterable[Mapping[str, Any]], metric: str, field: str | None,
         value: str) -> None:
    for row in rows:
        number = int(row[value] or 0)
        if not number:
            continue
        key = "" if field is None else str(row[field] or "")
        slot = counts.setdefault((int(row["tenant_id"]), row["day"]), {})
        slot.setdefault(metric, {})
        slot[metric][key] = slot[metric].get(key, 0) + number


def _breakdown_sql() -> str:
    """LOGIN_BREAKDOWNS as one GROUPING SETS query: one scan of the days instead of seven."""
    keys = []
    for n, (_metric, field, condition) in enumerate(LOGIN_BREAKDOWNS):
        when = {_ATTEMPTS: f"outcome <> '{Outcome.SIGNOUT.value}'",
                _SUCCESS: f"outcome = '{Outcome.SUCCESS.value}'"}.get(condition)
        keys.append(f'CASE WHEN {when} THEN "{field}" END AS k{n}' if when else f'"{field}" AS k{n}')
    names = [f"k{n}" for n in range(len(LOGIN_BREAKDOWNS))]
    sets = ", ".join(f"(tenant_id, day, {name})" for name in names)
    # Built from this module's constants only (column names, outcome codes); values are parameters.
    return (f"SELECT tenant_id, day, GROUPING({', '.join(names)}), {', '.join(names)}, count(*)"  # noqa: S608  # nosec B608
            f" FROM (SELECT tenant_id, (occurred_at AT TIME ZONE 'UTC')::date AS day, {', '.join(keys)}"
            " FROM activity_loginevent WHERE tenant_id = ANY(%s) AND occurred_at >= %s"
            f" AND occurred_at < %s) AS r GROUP BY GROUPING SETS ({sets})")


def _login_breakdowns_one_scan(counts: Counts, ids: list[int], since: dt.date, until: dt.date) -> None:
    width = len(LOGIN_BREAKDOWNS)
    with connection.cursor() as cursor:
        cursor.execute(_breakdown_sql(), [ids, day_bounds(since)[0], day_bounds(until)[1]])
        for tenant_id, day, grouping, *values_and_count in cursor.fetchall():
            values, number = values_and_count[:width], values_and_count[width]
            # GROUPING()'s bit is 0 for the one key this row is grouped by (leftmost = highest).
            index = next(n for n in range(width) if not grouping & (1 << (width - 1 - n)))
            if values[index] is None:  # the rows the breakdown leaves out (sign-outs, failures)
                continue
            slot = counts.setdefault((int(tenant_id), day), {}).setdefault(LOGIN_BREAKDOWNS[index][0], {})
            key = str(values[index])
            slot[key] = slot.get(key, 0) + int(number)


def activity_counts(*, tenant_ids: Iterable[int], since: dt.date, until: dt.date) -> Counts:
    """Every metric of the given tenants' record for each UTC day in [since, until]."""
    ids = list(tenant_ids)
    counts: Counts = defaultdict(dict)
    if not ids or since > until:
        return {}
    day = TruncDate("occurred_at", tzinfo=dt.UTC)
    logins = _window(LoginEvent.objects.all(), ids, since, until).annotate(day=day)
    if connection.vendor == "postgresql":
        _login_breakdowns_one_scan(counts, ids, since, until)
    else:
        for metric, field, condition in LOGIN_BREAKDOWNS:
            rows = logins.filter(condition).values("tenant_id", "day", field).annotate(n=Count("id"))
            _add(counts, rows, metric, field, "n")
    people = (logins.filter(_SUCCESS, user_id__isnull=False).values("tenant_id", "day")
              .annotate(n=Count("user_id", distinct=True)))
    _add(counts, people, Metric.SIGNIN_PEOPLE, None, "n")
    exports = (_window(ExportEvent.objects.all(), ids, since, until).annotate(day=day)
               .values("tenant_id", "day", "dataset").annotate(n=Count("id"), rows=Sum("row_count")))
    exports_list = list(exports)
    _add(counts, exports_list, Metric.EXPORTS_BY_DATASET, "dataset", "n")
    _add(counts, exports_list, Metric.EXPORT_ROWS_BY_DATASET, "dataset", "rows")
    alerts = (Alert.objects.filter(tenant_id__in=ids, created_at__gte=day_bounds(since)[0],
                                   created_at__lt=day_bounds(until)[1]).order_by()
              .annotate(day=TruncDate("created_at", tzinfo=dt.UTC)))
    for metric, field in ((Metric.ALERTS_BY_RULE, "rule"), (Metric.ALERTS_BY_SEVERITY, "severity")):
        _add(counts, alerts.values("tenant_id", "day", field).annotate(n=Count("id")), metric, field, "n")
    return dict(counts)


def event_totals(counts: Counts, tenant_id: int, day: dt.date) -> tuple[int, int]:
    """(sign-in events, export events) of one tenant's day, from its counts."""
    slot = counts.get((tenant_id, day), {})
    return (sum(slot.get(Metric.SIGNINS_BY_OUTCOME, {}).values()),
            sum(slot.get(Metric.EXPORTS_BY_DATASET, {}).values()))
