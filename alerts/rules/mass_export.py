"""Mass export: one person's exported rows, or exports, in ``window_hours`` (24) far above their
own baseline.

The window ends at the export being judged. The baseline is the median of the person's daily
exported rows over the ``baseline_days`` (30) before the window, each "day" a 24-hour stretch
counted back from the window's start and days without an export counting as 0, so a person who
exports on three days a month has a median of 0. A finding needs both: the window's rows at least
``multiplier`` (10) times that median, and at least ``min_rows`` (10,000) rows, so an occasional
large report by someone who never exports is judged by the tenant threshold alone, and a person
whose job is exporting is judged against their own habit. The number of exports is judged the
same way (``min_exports``, 50, and ``multiplier`` times the median of exports a day), which
catches someone pulling the record out in many small pieces.

This rule looks at exports (``evaluate_export``), not sign-ins; ``evaluate`` returns nothing.
One alert per person and day (the tenant's).
"""

from __future__ import annotations

import datetime as dt
import statistics
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from alerts.rules.base import Event, ExportSample, Finding, History, Severity, TenantContext
from alerts.rules.common import (
    Spec,
    dedup_key,
    integer,
    local_day,
    num,
    param_fields,
    parse_params,
)

CODE = "mass_export"
TITLE = gettext_lazy("Mass export")
DEFAULT_SEVERITY = Severity.HIGH
EVENT_KIND = "export"
NEEDS = frozenset({"exports"})
IDS_KEPT = 200  # export ids a finding carries as evidence (the most recent)


@dataclass(frozen=True, slots=True)
class Params:
    window_hours: int = 24
    baseline_days: int = 30
    multiplier: int = 10
    min_rows: int = 10_000
    min_exports: int = 50
    severity: Severity = DEFAULT_SEVERITY


SPECS = {
    "window_hours": Spec(gettext_lazy("Window (hours)"), "int",
                         gettext_lazy("Exported rows are added up over this many hours."),
                         minimum=1, maximum=168),
    "baseline_days": Spec(gettext_lazy("Baseline (days)"), "int",
                          gettext_lazy("A person's usual daily rows are the median over this many days."),
                          minimum=7, maximum=365),
    "multiplier": Spec(gettext_lazy("Times the usual rows"), "int",
                       gettext_lazy("The window's rows must be at least this many times the person's median."),
                       minimum=2, maximum=1000),
    "min_rows": Spec(gettext_lazy("Minimum rows"), "int",
                     gettext_lazy("Never a finding below this many rows in the window."),
                     minimum=1, maximum=1_000_000_000),
    "min_exports": Spec(gettext_lazy("Minimum exports"), "int",
                        gettext_lazy("Also a finding when a person runs at least this many exports in the "
                                     "window, and that many times their median of exports a day."),
                        minimum=2, maximum=100_000),
}
PARAM_FIELDS = param_fields(SPECS)


def params_from(data: Mapping[str, object]) -> Params:
    return parse_params(Params, SPECS, data)


def lookback(params: Params) -> dt.timedelta:
    """How far before an export this rule reads exports."""
    return dt.timedelta(hours=params.window_hours, days=params.baseline_days)


def evaluate(event: Event, history: History, params: Params,
             tenant: TenantContext) -> list[Finding]:
    """Sign-ins are not this rule's concern (see ``evaluate_export``)."""
    return []


def evaluate_export(sample: ExportSample, history: History, params: Params,
                    tenant: TenantContext) -> list[Finding]:
    """An export that takes the person's rows (or exports) in the window far above their habit."""
    if sample.user_id is None:
        return []
    window_from = sample.occurred_at - dt.timedelta(hours=params.window_hours)
    rows = history.exports(user_id=sample.user_id, since=sample.occurred_at - lookback(params),
                           until=sample.occurred_at)
    by_id = {s.id: s for s in rows if s.occurred_at <= sample.occurred_at}
    by_id[sample.id] = sample
    current = sorted((s for s in by_id.values() if s.occurred_at > window_from),
                     key=lambda s: (s.occurred_at, s.id))
    total = sum(max(s.row_count, 0) for s in current)
    if total < params.min_rows and len(current) < params.min_exports:
        return []
    daily_rows = [0] * params.baseline_days
    daily_exports = [0] * params.baseline_days
    for s in by_id.values():
        if s.occurred_at <= window_from:
            day = int((window_from - s.occurred_at) / dt.timedelta(days=1))
            if day < params.baseline_days:
                daily_rows[day] += max(s.row_count, 0)
                daily_exports[day] += 1
    median_rows = statistics.median(daily_rows)
    median_exports = statistics.median(daily_exports)
    by_rows = total >= params.min_rows and total >= params.multiplier * median_rows
    by_exports = (len(current) >= params.min_exports
                  and len(current) >= params.multiplier * median_exports)
    if not by_rows and not by_exports:
        return []
    return [Finding(
        rule=CODE, severity=params.severity, tenant_id=sample.tenant_id, user_id=sample.user_id,
        dedup_key=dedup_key(CODE, sample.user_id, local_day(sample.occurred_at, tenant.timezone)),
        occurred_at=sample.occurred_at,
        event_ids=tuple(s.id for s in current[-IDS_KEPT:]),
        evidence={
            "rows": total, "exports": len(current), "window_hours": params.window_hours,
            "by_rows": by_rows, "by_exports": by_exports,
            "median_daily_rows": median_rows, "median_daily_exports": median_exports,
            "baseline_days": params.baseline_days, "multiplier": params.multiplier,
            "min_rows": params.min_rows, "min_exports": params.min_exports,
            "datasets": sorted({s.dataset for s in current}),
            "ratio": round(total / median_rows, 1) if median_rows else None,
            "exports_ratio": round(len(current) / median_exports, 1) if median_exports else None,
        },
    )]


# The evidence's keys as the detail page names them ("The rule's figures"), beside the
# code that writes them: a key added to the evidence gets its label here.
EVIDENCE_LABELS: dict[str, Promise] = {
    "rows": gettext_lazy("Rows exported"),
    "exports": gettext_lazy("Exports"),
    "window_hours": gettext_lazy("Window (hours)"),
    "by_rows": gettext_lazy("Over the rows limit"),
    "by_exports": gettext_lazy("Over the exports limit"),
    "median_daily_rows": gettext_lazy("Usual rows a day (median)"),
    "median_daily_exports": gettext_lazy("Usual exports a day (median)"),
    "baseline_days": gettext_lazy("Days the usual is learned from"),
    "multiplier": gettext_lazy("Times the usual that makes an alert"),
    "min_rows": gettext_lazy("Rows that make an alert at least"),
    "min_exports": gettext_lazy("Exports that make an alert at least"),
    "datasets": gettext_lazy("Datasets"),
    "ratio": gettext_lazy("Rows against the usual (times)"),
    "exports_ratio": gettext_lazy("Exports against the usual (times)"),
}


def describe(evidence: Mapping[str, Any]) -> str:
    """The finding's evidence in one sentence of the current language."""
    exports = integer(evidence.get("exports"))
    values = {
        "rows": num(evidence.get("rows")), "exports": num(exports),
        "hours": num(evidence.get("window_hours")), "median": num(evidence.get("median_daily_rows")),
        "days": num(evidence.get("baseline_days")), "ratio": num(evidence.get("ratio"), 1),
    }
    if evidence.get("by_exports") and not evidence.get("by_rows"):
        values["median"] = num(evidence.get("median_daily_exports"))
        if evidence.get("exports_ratio") is None:
            return _("Ran %(exports)s exports (%(rows)s rows) within %(hours)s hours; this person "
                     "exported nothing on most of the previous %(days)s days.") % values
        values["ratio"] = num(evidence.get("exports_ratio"), 1)
        return _("Ran %(exports)s exports (%(rows)s rows) within %(hours)s hours, %(ratio)s times "
                 "their median of %(median)s exports a day over the previous %(days)s days.") % values
    if evidence.get("ratio") is None:
        return ngettext(
            "Exported %(rows)s rows in one export within %(hours)s hours; this person exported "
            "nothing on most of the previous %(days)s days.",
            "Exported %(rows)s rows in %(exports)s exports within %(hours)s hours; this person "
            "exported nothing on most of the previous %(days)s days.", exports) % values
    return ngettext(
        "Exported %(rows)s rows in one export within %(hours)s hours, %(ratio)s times their "
        "median of %(median)s rows a day over the previous %(days)s days.",
        "Exported %(rows)s rows in %(exports)s exports within %(hours)s hours, %(ratio)s times "
        "their median of %(median)s rows a day over the previous %(days)s days.", exports) % values
