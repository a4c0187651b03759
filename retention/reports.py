"""The reports: which period, what each chart shows, its SVG and the table beside it, the CSV.

Every number comes from ``retention.selectors.activity_totals``: ``DailyActivity`` for days the
sweep rolled up, the live record for the others, counted the same way, so a report reads the same
before and after its days are purged. Days are UTC days, as the rollup counts them.

Charts are drawn on the server by pygal as inline SVG, with no JavaScript: pygal's own
``<style>`` and ``<script>`` elements are removed (the console's Content-Security-Policy allows stylesheets from
its own origin only) and ``static/css/reports.css`` styles every chart the same way, with one
small palette of strong colours on white. Each chart has a table with the same numbers, which is
also what a screen reader reads (the SVG is one labelled image).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pygal
from django.utils.functional import Promise
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from activity.capture.types import DeviceType
from activity.exports.formats import neutralise_cell
from activity.models import MfaMethod, Outcome, Protocol, Reason
from activity.overview import HourlyOutcomes
from alerts.models import SeverityChoices
from alerts.selectors import rule_title
from retention.models import Metric
from retention.selectors import Totals

PERIOD_DAYS = (7, 30, 90)
PERIOD_DEFAULT = 30
MONTH_MIN = dt.date(2000, 1, 1)
TOP = 10  # rows of the "top" charts; the rest are summed as "Other"
SHARE_SLICES = 6  # slices of a share chart; the rest are summed as "Other"
_MONTH_RE = re.compile(r"^(\d{4})-(\d{2})$")

# Sign-in reasons that are not a refusal: what the failure-reasons chart leaves out.
NOT_FAILURES = frozenset({
    "", Reason.PASSWORD_OK, Reason.MFA_VERIFIED, Reason.MFA_CHALLENGE, Reason.NETWORK_MONITOR,
    Reason.HOURS_MONITOR,
})
OUTCOME_SERIES = (Outcome.SUCCESS, Outcome.FAILURE, Outcome.DENIED)


# --- The period -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Period:
    since: dt.date
    until: dt.date
    days: int | None  # 7, 30 or 90, or None for a month
    month: dt.date | None  # first day of the month shown, or None


def month_parse(value: str, *, today: dt.date) -> dt.date | None:
    """The first day of a "YYYY-MM" month between 2000 and this month, else None."""
    match = _MONTH_RE.match(value.strip()) if isinstance(value, str) else None
    if match is None:
        return None
    year, month = int(match.group(1)), int(match.group(2))
    if not 1 <= month <= 12:
        return None
    first = dt.date(year, month, 1)
    if first < MONTH_MIN or first > today.replace(day=1):
        return None
    return first


def month_end(first: dt.date) -> dt.date:
    following = (first.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    return following - dt.timedelta(days=1)


def period_from_query(params: Mapping[str, Any], *, today: dt.date) -> tuple[Period, list[str]]:
    """The period asked for (``days`` = 7/30/90 or ``month`` = YYYY-MM), and messages for what was
    refused (the default, the last 30 days, is shown instead)."""
    errors: list[str] = []
    month_value = str(params.get("month", "") or "")[:16]
    if month_value:
        first = month_parse(month_value, today=today)
        if first is not None:
            return Period(since=first, until=min(month_end(first), today), days=None,
                          month=first), errors
        errors.append(_("“%(value)s” is not a month from 2000 to this month (such as %(example)s); "
                        "showing the last %(days)d days.")
                      % {"value": month_value[:16], "example": today.strftime("%Y-%m"),
                         "days": PERIOD_DEFAULT})
    days_value = str(params.get("days", "") or "")[:8]
    days = PERIOD_DEFAULT
    if days_value:
        if days_value.isdigit() and int(days_value) in PERIOD_DAYS:
            days = int(days_value)
        else:
            errors.append(_("Choose a period of 7, 30 or 90 days; showing the last %(days)d days.")
                          % {"days": PERIOD_DEFAULT})
    return Period(since=today - dt.timedelta(days=days - 1), until=today, days=days,
                  month=None), errors


def months_choices(*, today: dt.date, count: int = 36) -> list[str]:
    """The last ``count`` months, newest first, as "YYYY-MM" (the month picker's options)."""
    months, first = [], today.replace(day=1)
    for _n in range(count):
        months.append(first.strftime("%Y-%m"))
        first = (first - dt.timedelta(days=1)).replace(day=1)
    return months


# --- Charts ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Chart:
    """One chart of the report: its SVG, and the same numbers as a table."""

    slug: str  # the section's test id and CSS hook
    title: str
    svg: SafeString | None  # None: nothing to draw (the empty state says so)
    columns: list[str]
    rows: list[list[Any]]
    empty_text: str = ""
    summary: str = ""
    kind: str = "bar"  # bar, share: which palette and size the stylesheet gives it
    # One address per row (or ""): the table's first cell links to the page behind the figure.
    links: list[str] = field(default_factory=list)
    # The page behind the whole figure (the log of the counted window), linked under it.
    more_url: str = ""
    more_label: str = ""

    @property
    def empty(self) -> bool:
        return self.svg is None

    @property
    def linked_rows(self) -> list[tuple[str, list[Any]]]:
        """(address or "", cells) for each table row."""
        return [(self.links[n] if n < len(self.links) else "", row) for n, row in enumerate(self.rows)]


_STYLE_RE = re.compile(r"<style[^>]*>.*?</style>", re.DOTALL)
# pygal writes its configuration as a <script> even with ``js=[]``: nothing runs it here.
_SCRIPT_RE = re.compile(r"<script[^>]*>.*?</script>", re.DOTALL)
_COMMENT_RE = re.compile(r"<!--.*?-->", re.DOTALL)
_ROOT_RE = re.compile(r'^<svg xmlns="http://www.w3.org/2000/svg" id="" class="pygal-chart"')


def _config(**overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "js": [],  # no JavaScript, and above all none from a CDN
        "disable_xml_declaration": True,
        "no_prefix": True,  # the stylesheet styles every chart, not one chart's id
        "explicit_size": False,  # a viewBox only: the SVG scales to its card
        "width": 760,
        "height": 300,
        "show_legend": True,
        "legend_at_bottom": True,
        "legend_at_bottom_columns": 3,
        "margin": 12,
        "spacing": 8,
        "print_values": False,
        "show_y_guides": True,
        "show_x_guides": False,
        "truncate_legend": 40,
        "truncate_label": 24,
        "no_data_text": _("No data"),
        # Only sizes matter here (pygal lays text out with them); static/css/retention.css
        # draws with the same sizes.
        "style": pygal.style.Style(font_family="system-ui, sans-serif", background="transparent",
                                   plot_background="transparent", label_font_size=11,
                                   major_label_font_size=11, legend_font_size=12,
                                   title_font_size=14, no_data_font_size=20),
        "show_minor_y_labels": False,
    }
    base.update(overrides)
    return base


def _svg(chart: Any, *, label: str) -> SafeString:
    """pygal's SVG without its <style> and <script> (see the module docstring), labelled as one
    image."""
    svg = chart.render(is_unicode=True)
    svg = _COMMENT_RE.sub("", _SCRIPT_RE.sub("", _STYLE_RE.sub("", svg)))
    root = (f'<svg xmlns="http://www.w3.org/2000/svg" class="pygal-chart" role="img" '
            f'aria-label="{_attr(label)}"')
    svg, replaced = _ROOT_RE.subn(root, svg, count=1)
    if not replaced:  # another pygal release spelt its root differently: keep it, unlabelled
        svg = svg.replace("<svg ", f'<svg role="img" aria-label="{_attr(label)}" ', 1)
    # pygal escapes every label and value it writes; the root attribute is ours, escaped above.
    return SafeString(svg)  # nosec B703  # pygal's escaped SVG output, see above


def _attr(text: str) -> str:
    return (str(text).replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;")
            .replace(">", "&gt;"))


def _day_labels(days: Sequence[dt.date]) -> tuple[list[str], list[str]]:
    """x labels (MM-DD) and the major ones, so 90 labels do not overlap."""
    labels = [day.strftime("%m-%d") for day in days]
    step = 1 if len(days) <= 14 else 7 if len(days) <= 62 else 14
    return labels, labels[::step]


def _daily_bars(title: str, days: Sequence[dt.date], series: Sequence[tuple[str, list[int]]],
                *, stacked: bool = True) -> SafeString | None:
    if not any(any(values) for _name, values in series):
        return None
    labels, major = _day_labels(days)
    kind = pygal.StackedBar if stacked else pygal.Bar
    chart = kind(**_config(show_minor_x_labels=len(days) <= 14, x_labels_major=major))
    chart.x_labels = labels
    for name, values in series:
        chart.add(name, values)
    return _svg(chart, label=title)


def _ranked(title: str, pairs: Sequence[tuple[str, int]]) -> SafeString | None:
    """A horizontal bar per item, largest on top."""
    if not pairs:
        return None
    # Its x labels are drawn on the y axis: every one of them is shown.
    chart = pygal.HorizontalBar(**_config(height=max(180, 34 * len(pairs) + 60),
                                          show_legend=False, show_minor_y_labels=True))
    chart.x_labels = [label for label, _count in reversed(pairs)]
    chart.add(title, [count for _label, count in reversed(pairs)])
    return _svg(chart, label=title)


def _share(title: str, pairs: Sequence[tuple[str, int]]) -> SafeString | None:
    if not pairs:
        return None
    # The legend on the right: at the bottom pygal lays it out past a pie's own height.
    chart = pygal.Pie(**_config(inner_radius=0.55, width=460, height=260, legend_at_bottom=False,
                                legend_box_size=12))
    for label, count in pairs:
        chart.add(label, count)
    return _svg(chart, label=title)


def _label_with(choices: Mapping[str, Any], unknown: str | Promise) -> Callable[[str], str]:
    return lambda key: str(choices.get(key, key) if key else unknown)


def _top(totals: Mapping[str, int], label: Callable[[str], str], limit: int) -> list[tuple[str, int]]:
    items = [(label(key), count) for key, count in totals.items() if count]
    if len(items) <= limit:
        return items
    head, rest = items[: limit - 1], items[limit - 1:]
    return [*head, (pgettext("chart slice", "Other"), sum(c for _l, c in rest))]


def _percent(count: int, whole: int) -> str:
    return f"{100 * count / whole:.1f} %" if whole else "—"


def _share_rows(pairs: Sequence[tuple[str, int]]) -> list[list[Any]]:
    whole = sum(count for _label, count in pairs)
    return [[label, count, _percent(count, whole)] for label, count in pairs]


@dataclass(frozen=True, slots=True)
class Report:
    period: Period
    charts: list[Chart]
    tiles: list[tuple[str, int]] = field(default_factory=list)  # (label, number) above the charts
    rolled_up_days: int = 0


def report_build(totals: Totals, period: Period) -> Report:
    """Every chart and table of the Reports page for ``period``."""
    days = totals.days
    outcome_label = _label_with(dict(Outcome.choices), _("Unknown"))
    outcome_rows, outcome_series = [], []
    for outcome in OUTCOME_SERIES:
        outcome_series.append((outcome_label(outcome),
                               [totals.count(day, Metric.SIGNINS_BY_OUTCOME, outcome) for day in days]))
    for index, day in enumerate(days):
        outcome_rows.append([day.isoformat(), *[values[index] for _n, values in outcome_series]])
    signins_title = _("Sign-ins per day")
    charts = [Chart(
        slug="signins", title=signins_title,
        svg=_daily_bars(signins_title, days, outcome_series),
        columns=[_("Day (UTC)"), *[name for name, _v in outcome_series]],
        rows=outcome_rows, empty_text=_("No sign-ins in this period."),
        summary=_("Success, failure and denied-by-policy sign-in events per UTC day."),
    )]

    reasons = {key: count for key, count in totals.total(Metric.SIGNINS_BY_REASON).items()
               if key not in NOT_FAILURES}
    pairs = _top(reasons, _label_with(dict(Reason.choices), _("No reason")), TOP)
    title = _("Why sign-ins failed")
    charts.append(Chart(slug="reasons", title=title, svg=_ranked(title, pairs),
                        columns=[_("Reason"), _("Attempts"), _("Share")], rows=_share_rows(pairs),
                        empty_text=_("No failed or refused sign-ins in this period.")))

    pairs = _top(totals.total(Metric.SIGNINS_BY_COUNTRY), lambda key: key or _("Unknown"), TOP)
    title = _("Top countries")
    charts.append(Chart(slug="countries", title=title, svg=_ranked(title, pairs),
                        columns=[_("Country"), _("Attempts"), _("Share")], rows=_share_rows(pairs),
                        empty_text=_("No sign-in attempts in this period."),
                        summary=_("Where sign-in attempts came from (two-letter country codes; "
                                  "“Unknown” for private and unlisted addresses).")))

    for slug, metric, title, column, label in (
        ("browsers", Metric.SIGNINS_BY_BROWSER, _("Browsers"), _("Browser"),
         lambda key: key or _("Unknown")),
        ("os", Metric.SIGNINS_BY_OS, _("Operating systems"), _("Operating system"),
         lambda key: key or _("Unknown")),
        ("devices", Metric.SIGNINS_BY_DEVICE, _("Devices"), _("Device"),
         _label_with(dict(DeviceType.choices), _("Unknown"))),
        ("mfa", Metric.SIGNINS_BY_MFA, _("Second factor at sign-in"), _("Second factor"),
         _label_with({**dict(MfaMethod.choices)}, _("No second factor"))),
    ):
        pairs = _top(totals.total(metric), label, SHARE_SLICES)
        charts.append(Chart(
            slug=slug, title=title, svg=_share(title, pairs), kind="share",
            columns=[column, _("Sign-ins") if slug == "mfa" else _("Attempts"), _("Share")],
            rows=_share_rows(pairs),
            empty_text=(_("No successful sign-ins in this period.") if slug == "mfa"
                        else _("No sign-in attempts in this period.")),
            summary=(_("Successful sign-ins by the second factor used.") if slug == "mfa" else ""),
        ))

    charts.append(exports_chart(totals))

    alerts = totals.total(Metric.ALERTS_BY_RULE)
    if any(alerts.values()):  # only once the detector has opened alerts: no empty chart before
        pairs = _top(alerts, lambda key: rule_title(key) if key else _("Unknown"), TOP)
        title = _("Alerts per rule")
        severities = totals.total(Metric.ALERTS_BY_SEVERITY)
        charts.append(Chart(
            slug="alerts", title=title, svg=_ranked(title, pairs),
            columns=[_("Rule"), _("Alerts"), _("Share")], rows=_share_rows(pairs),
            summary=", ".join(f"{_label_with(dict(SeverityChoices.choices), _('Unknown'))(key)}: "
                              f"{count}" for key, count in severities.items())))

    outcomes = totals.total(Metric.SIGNINS_BY_OUTCOME)
    tiles = [
        (_("Successful sign-ins"), outcomes.get(Outcome.SUCCESS, 0)),
        (_("Failed sign-ins"), outcomes.get(Outcome.FAILURE, 0)),
        (_("Denied by policy"), outcomes.get(Outcome.DENIED, 0)),
        (_("Person-days signed in"), totals.grand_total(Metric.SIGNIN_PEOPLE)),
        (_("Exports"), totals.grand_total(Metric.EXPORTS_BY_DATASET)),
    ]
    return Report(period=period, charts=charts, tiles=tiles,
                  rolled_up_days=len(totals.rolled_up_days))


def hourly_signins_chart(trend: HourlyOutcomes, *,
                         link: Callable[[dt.datetime], str] | None = None) -> Chart:
    """The dashboard's last 24 hours: success / failure / denied per hour (the tenant's hours).

    ``link``: the address of one hour's sign-ins, given the hour's start; each table row links
    there.
    """
    outcome_label = _label_with(dict(Outcome.choices), _("Unknown"))
    series = [(outcome_label(o), list(trend.counts.get(o, [0] * len(trend.hours))))
              for o in OUTCOME_SERIES]
    title = _("Sign-ins per hour, the last %(hours)d hours") % {"hours": len(trend.hours)}
    labels = [start.strftime("%H:00") for start in trend.hours]
    svg = None
    if any(any(values) for _name, values in series):
        chart = pygal.StackedBar(**_config(show_minor_x_labels=False, x_labels_major=labels[::3]))
        chart.x_labels = labels
        for name, values in series:
            chart.add(name, values)
        svg = _svg(chart, label=title)
    return Chart(
        slug="signins", title=title, svg=svg,
        columns=[_("Hour"), *[name for name, _v in series]],
        rows=[[start.strftime("%m-%d %H:00"), *[values[i] for _n, values in series]]
              for i, start in enumerate(trend.hours)],
        empty_text=_("No sign-ins in the last %(hours)d hours.") % {"hours": len(trend.hours)},
        links=[link(start) for start in trend.hours] if link is not None else [],
    )


def failure_reasons_chart(counts: Mapping[str, int], *, link: Callable[[str], str]) -> Chart:
    """Why sign-ins failed or were refused, largest first; each row links to its sign-ins."""
    reasons = dict(sorted(((key, n) for key, n in counts.items() if key not in NOT_FAILURES and n),
                          key=lambda item: (-item[1], item[0])))
    keys = list(reasons)[:TOP]
    label = _label_with(dict(Reason.choices), _("No reason"))
    pairs = [(label(key), reasons[key]) for key in keys]
    title = _("Why sign-ins failed")
    return Chart(slug="reasons", title=title, svg=_ranked(title, pairs),
                 columns=[_("Reason"), _("Attempts"), _("Share")], rows=_share_rows(pairs),
                 links=[link(key) for key in keys],
                 empty_text=_("No failed or refused sign-ins in this period."))


def countries_chart(counts: Mapping[str, int], *, link: Callable[[str], str]) -> Chart:
    """Where sign-in attempts came from, largest first; each row links to its sign-ins."""
    ordered = sorted(((key, n) for key, n in counts.items() if n), key=lambda item: (-item[1], item[0]))
    keys = [key for key, _n in ordered][:TOP]
    pairs = [(key or _("Unknown"), n) for key, n in ordered[:TOP]]
    title = _("Top countries")
    return Chart(slug="countries", title=title, svg=_ranked(title, pairs),
                 columns=[_("Country"), _("Attempts"), _("Share")], rows=_share_rows(pairs),
                 links=[link(key) if key else "" for key in keys],
                 empty_text=_("No sign-in attempts in this period."))


def protocols_chart(counts: Mapping[str, int], *, link: Callable[[str], str]) -> Chart:
    """Sign-in attempts by protocol (the web console, IMAP, POP3, SMTP submission), each protocol a
    row in a fixed order, zeros included, so a mail protocol that is quiet says so."""
    keys = [key for key, _label in Protocol.choices]
    pairs = [(str(label), counts.get(key, 0)) for key, label in Protocol.choices]
    title = _("Sign-ins by protocol")
    return Chart(slug="protocols", title=title,
                 svg=_ranked(title, pairs) if any(n for _label, n in pairs) else None,
                 columns=[_("Protocol"), _("Attempts"), _("Share")], rows=_share_rows(pairs),
                 links=[link(key) for key in keys],
                 empty_text=_("No sign-in attempts in this period."))


def exports_chart(totals: Totals) -> Chart:
    """Exports and exported rows per day (the auditor's dashboard)."""
    days = totals.days
    exports = [totals.day_total(day, Metric.EXPORTS_BY_DATASET) for day in days]
    exported_rows = [totals.day_total(day, Metric.EXPORT_ROWS_BY_DATASET) for day in days]
    title = _("Exports per day")
    return Chart(
        slug="exports", title=title,
        svg=_daily_bars(title, days, [(_("Exports"), exports)], stacked=False),
        columns=[_("Day (UTC)"), _("Exports"), _("Rows exported")],
        rows=[[day.isoformat(), n, rows] for day, n, rows in zip(days, exports, exported_rows,
                                                                  strict=True)],
        empty_text=_("No exports in this period."),
    )


def signins_chart(totals: Totals) -> Chart:
    """The dashboard's chart: success / failure / denied per day over ``totals``' days."""
    days = totals.days
    outcome_label = _label_with(dict(Outcome.choices), _("Unknown"))
    series = [(outcome_label(o), [totals.count(day, Metric.SIGNINS_BY_OUTCOME, o) for day in days])
              for o in OUTCOME_SERIES]
    title = _("Sign-ins per day, the last %(days)d days") % {"days": len(days)}
    return Chart(
        slug="signins", title=title, svg=_daily_bars(title, days, series),
        columns=[_("Day (UTC)"), *[name for name, _v in series]],
        rows=[[day.isoformat(), *[values[i] for _n, values in series]]
              for i, day in enumerate(days)],
        empty_text=_("No sign-ins in the last %(days)d days.") % {"days": len(days)},
    )


# --- The monthly CSV ------------------------------------------------------------------------------

# Stable English identifiers, as every export of the console (activity.exports.datasets).
CSV_COLUMNS = ("day_utc", "metric", "key", "count")
DATASET = "report_month"


def month_csv(totals: Totals) -> tuple[str, int]:
    """The month's counts as CSV text (every day, metric and key with a count) and its rows."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    rows = 0
    for day in totals.days:
        metrics = totals.by_day.get(day, {})
        for metric in sorted(metrics):
            for key, count in sorted(metrics[metric].items()):
                writer.writerow([day.isoformat(), metric, neutralise_cell(key), int(count)])
                rows += 1
    return buffer.getvalue(), rows
