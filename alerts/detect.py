"""The detector: new record rows → rules → alerts, in batches, driven from the database.

Design (README, "Alerts"):

- **What is new.** A ``DetectionCursor`` per tenant and kind of row holds the (time, id) of the
  newest row processed; each run reads the rows after it in (time, id) order through the
  record's ``(tenant, -occurred_at, -id)`` index. Time, not id, because an id cursor on the
  partitioned table walks every tenant's rows. Rows do not commit in order, though: a sign-in
  stamped 10:00:00.1 can commit after one stamped 10:00:00.2 was processed (so can a lower id
  after a higher one). So every run also reads the rows of a trailing window before the cursor
  (``ALERTS_DETECT_LOOKBACK_SECONDS``, 120) that it has not processed yet: the cursor keeps the
  ids it processed inside that window (``recent``), so each row is evaluated once and a row that
  committed late is still seen, as long as it commits within the window of its own timestamp
  (a sign-in's transaction lasts milliseconds; a web server's clock running more than two minutes
  behind is the one case it misses). Everything is idempotent anyway (one unresolved alert per
  key, evidence unique per alert and event, ``count`` = distinct evidence), so a batch replayed
  after a crash changes nothing.
- **Batches.** One transaction per batch: lock the cursor row, read the batch, fetch the history
  every enabled rule needs for every person, login and network of the batch at once
  (``alerts.history``; a catch-up of many batches reads each person once and then only what
  each batch adds), evaluate, write every finding in bulk (the alerts in one ``INSERT … ON
  CONFLICT`` on the open-alert key, evidence and timeline one INSERT each), notify
  (``alerts.notify.alerts_opened``: webhook deliveries, report links and e-mails one INSERT each,
  in this same transaction), advance the cursor, commit. The statement count is constant per
  batch, and nothing is saved row by row (no per-row signal receivers). Killed mid-batch, nothing
  of the batch is kept and the next run does it again.
- **Never a crashed batch.** A rule that raises on one event is logged and skipped for that
  event; a finding about a person deleted since keeps no person; an unknown country has no
  coordinates; an invalid saved setting falls back to the rule's defaults (and is logged).
"""

from __future__ import annotations

import datetime as dt
import functools
import gc
import logging
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connections, router, transaction
from django.utils import timezone

from activity.models import ExportEvent, ExportStatus, LoginEvent
from alerts import notify, rules
from alerts.geo import place_of
from alerts.history import (
    EVENT_COLUMNS,
    BatchHistory,
    EventCache,
    HistoryNeeds,
    Row,
    SuccessCache,
    export_sample_from_row,
    history_fetch,
    users_existing,
)
from alerts.models import (
    UNRESOLVED,
    ActivityKind,
    Alert,
    AlertActivity,
    AlertEvidence,
    DetectionCursor,
    EventKind,
    ModeChoices,
    RuleSetting,
)
from alerts.rules.base import Event, ExportSample, Finding, RuleMode, Severity, TenantContext
from tenants import bulk
from tenants.models import Tenant

logger = logging.getLogger(__name__)

SUCCESS_METHODS = frozenset({"successes", "first_success", "success_count"})
LEARNING_METHODS = frozenset({"first_success", "success_count"})
FAILURE_METHODS = frozenset({"account_failures", "network_failures"})
ALL_METHODS = SUCCESS_METHODS | FAILURE_METHODS | {"exports", "is_trusted"}
EXPORT_COLUMNS = ("id", "user_id", "occurred_at", "dataset", "row_count")
# Where a rule does not say how far back it reads.
DEFAULT_SUCCESS_LOOKBACK = dt.timedelta(days=90)
DEFAULT_FAILURE_LOOKBACK = dt.timedelta(minutes=60)
DEFAULT_EXPORT_LOOKBACK = dt.timedelta(days=30)
# An export's row count is known when it completes; one started earlier than this is not looked
# for (partition pruning of the completed-exports query).
EXPORT_MAX_DURATION = dt.timedelta(days=1)


def rule_registry() -> Mapping[str, ModuleType]:
    """The rule modules (``alerts.rules.RULES``), in their fixed order."""
    registry: Mapping[str, ModuleType] = getattr(rules, "RULES", {})
    return registry


# Test hook: called inside each batch's transaction after everything is written and before the
# commit (the SIGKILL test stops the process there). Never set in production code.
BEFORE_COMMIT: Callable[[int], None] | None = None


@dataclass(frozen=True)
class ActiveRule:
    code: str
    module: ModuleType
    params: Any
    mode: str
    needs: frozenset[str]
    lookback: dt.timedelta | None
    exports: bool  # evaluates export samples (mass export) rather than sign-ins


@dataclass
class DetectResult:
    """What one run did, for the task's log line and the benchmark."""

    events: int = 0
    exports: int = 0
    batches: int = 0
    alerts_opened: int = 0
    alerts_grown: int = 0
    rule_errors: int = 0
    findings: int = 0
    by_rule: dict[str, int] = field(default_factory=lambda: defaultdict(int))

    def add(self, other: DetectResult) -> None:
        self.events += other.events
        self.exports += other.exports
        self.batches += other.batches
        self.alerts_opened += other.alerts_opened
        self.alerts_grown += other.alerts_grown
        self.rule_errors += other.rule_errors
        self.findings += other.findings
        for code, n in other.by_rule.items():
            self.by_rule[code] += n


def _params_for(module: ModuleType, setting: RuleSetting | None) -> Any:
    data: dict[str, object] = dict(setting.params) if setting and isinstance(setting.params, dict) else {}
    if setting is not None and setting.severity:
        data["severity"] = setting.severity
    try:
        return module.params_from(data)
    except ValidationError:
        logger.warning("Saved settings of rule %s for tenant %s are invalid; using its defaults",
                       module.CODE, setting.tenant_id if setting else "?")
        return module.params_from({})


def rules_active(*, tenant_id: int, registry: Mapping[str, ModuleType] | None = None) -> list[ActiveRule]:
    """The tenant's enabled rules with their parameters and mode (no row: the rule's defaults)."""
    registry = rule_registry() if registry is None else registry
    saved = {s.rule: s for s in RuleSetting.objects.filter(tenant_id=tenant_id)}
    active: list[ActiveRule] = []
    for code, module in registry.items():
        setting = saved.get(code)
        if setting is not None and not setting.enabled:
            continue
        params = _params_for(module, setting)
        lookback_of = getattr(module, "lookback", None)
        lookback = lookback_of(params) if callable(lookback_of) else None
        exports = getattr(module, "EVENT_KIND", "signin") == "export" or hasattr(module, "evaluate_export")
        active.append(ActiveRule(
            code=code, module=module, params=params,
            mode=setting.mode if setting is not None else RuleMode.ALERT.value,
            needs=frozenset(getattr(module, "NEEDS", ALL_METHODS)), lookback=lookback,
            exports=exports,
        ))
    return active


def history_needs(active: Iterable[ActiveRule], *, batch_start: dt.datetime) -> HistoryNeeds:
    """One HistoryNeeds covering every rule: the union of methods, the longest windows."""
    success: dt.timedelta | None = None
    failure: dt.timedelta | None = None
    export: dt.timedelta | None = None
    learning = trusts = False
    for rule in active:
        if rule.needs & SUCCESS_METHODS:
            success = max(success or dt.timedelta(0), rule.lookback or DEFAULT_SUCCESS_LOOKBACK)
        learning = learning or bool(rule.needs & LEARNING_METHODS)
        if rule.needs & FAILURE_METHODS:
            failure = max(failure or dt.timedelta(0), rule.lookback or DEFAULT_FAILURE_LOOKBACK)
        if "exports" in rule.needs:
            export = max(export or dt.timedelta(0), rule.lookback or DEFAULT_EXPORT_LOOKBACK)
        trusts = trusts or "is_trusted" in rule.needs
    return HistoryNeeds(
        successes_since=batch_start - success if success is not None else None,
        learning=learning, failures_window=failure,
        exports_since=batch_start - export if export is not None else None, trusts=trusts,
    )


# --- reading what is new ----------------------------------------------------------------------

def _window_start(cursor: DetectionCursor, now: dt.datetime) -> dt.datetime | None:
    if cursor.last_at is None:
        return None
    # A clock running ahead must not drag the window past rows still to come.
    anchor = min(cursor.last_at, now)
    return anchor - dt.timedelta(seconds=settings.ALERTS_DETECT_LOOKBACK_SECONDS)


def _recent(cursor: DetectionCursor) -> dict[int, float]:
    data = cursor.recent if isinstance(cursor.recent, dict) else {}
    ids, ats = data.get("ids") or [], data.get("at") or []
    return {int(i): float(a) for i, a in zip(ids, ats, strict=False)}


def _advance(cursor: DetectionCursor, processed: Iterable[tuple[int, dt.datetime]], *,
             now: dt.datetime, keyset: bool = True) -> None:
    recent = _recent(cursor)
    for event_id, at in processed:
        recent[event_id] = at.timestamp()
        if keyset and (cursor.last_at is None or (at, event_id) > (cursor.last_at, cursor.last_id)):
            cursor.last_at, cursor.last_id = at, event_id
        elif not keyset and (cursor.last_at is None or at > cursor.last_at):
            cursor.last_at = at
    start = _window_start(cursor, now)
    floor = start.timestamp() if start is not None else float("-inf")
    kept = sorted((i, a) for i, a in recent.items() if a >= floor)
    cursor.recent = {"ids": [i for i, _ in kept], "at": [a for _, a in kept]}
    cursor.updated_at = now


def _signin_rows(cursor: DetectionCursor, *, tenant_id: int, limit: int, now: dt.datetime) -> list[Row]:
    """The next rows after the cursor in (time, id) order, and the window's late commits.

    Both read the record's (tenant, -occurred_at, -id) index, so a batch costs its own rows, not
    a walk over other tenants' ids or over this tenant's whole history.
    """
    record = LoginEvent.objects.filter(tenant_id=tenant_id).order_by("occurred_at", "id")
    fresh = record
    if cursor.last_at is not None:
        fresh = (record.filter(occurred_at__gte=cursor.last_at)
                 .exclude(occurred_at=cursor.last_at, id__lte=cursor.last_id))
    rows = {int(r[0]): r for r in fresh.values_list(*EVENT_COLUMNS)[:limit]}
    start = _window_start(cursor, now)
    if start is not None and cursor.last_at is not None:
        for row in (record.filter(occurred_at__gte=start, occurred_at__lte=cursor.last_at)
                    .exclude(id__in=list(_recent(cursor)))
                    .values_list(*EVENT_COLUMNS)[:limit]):
            rows.setdefault(int(row[0]), row)
    return list(rows.values())


def _export_rows(cursor: DetectionCursor, *, tenant_id: int, limit: int, now: dt.datetime) -> list[Row]:
    # Exports are judged when they end (their row count is final then), so the watermark is on
    # completed_at: the rows completed since the window start that were not processed yet.
    start = _window_start(cursor, now)
    done = ExportEvent.objects.filter(
        tenant_id=tenant_id, status__in=(ExportStatus.COMPLETED, ExportStatus.INCOMPLETE),
        completed_at__isnull=False,
    )
    if start is not None:
        done = done.filter(completed_at__gte=start, occurred_at__gte=start - EXPORT_MAX_DURATION)
    return list(done.exclude(id__in=list(_recent(cursor))).order_by("completed_at", "id")
                .values_list(*EXPORT_COLUMNS, "completed_at")[:limit])


def _cursor_locked(*, tenant_id: int, kind: str) -> DetectionCursor | None:
    """The tenant's cursor, locked for this transaction; None while another worker holds it."""
    DetectionCursor.objects.bulk_create([DetectionCursor(tenant_id=tenant_id, kind=kind)],
                                        ignore_conflicts=True)
    return (DetectionCursor.objects.select_for_update(skip_locked=True)
            .filter(tenant_id=tenant_id, kind=kind).first())


# --- evaluating -------------------------------------------------------------------------------

@dataclass
class _Found:
    finding: Finding
    kind: str
    mode: str


def _evaluate(rules: Sequence[ActiveRule], events: Sequence[Event], samples: Sequence[ExportSample],
              history: BatchHistory, context: TenantContext, result: DetectResult) -> list[_Found]:
    found: list[_Found] = []
    for rule in rules:
        view = history.for_rule(rule.code)
        if rule.exports:
            evaluate = getattr(rule.module, "evaluate_export", None) or rule.module.evaluate
            items: Sequence[Event | ExportSample] = samples
            kind = EventKind.EXPORT
        else:
            evaluate = rule.module.evaluate
            items = events
            kind = EventKind.SIGNIN
        for item in items:
            try:
                findings = evaluate(item, view, rule.params, context)
            except Exception:
                # One event a rule cannot judge must not stop the batch (nor the other rules).
                result.rule_errors += 1
                logger.exception("Rule %s failed on %s %s", rule.code, kind, item.id)
                continue
            for finding in findings or ():
                found.append(_Found(finding=finding, kind=kind, mode=rule.mode))
    return found


# --- writing ----------------------------------------------------------------------------------

@dataclass
class _Group:
    rule: str
    dedup_key: str
    kind: str
    mode: str
    findings: list[Finding] = field(default_factory=list)

    @property
    def latest(self) -> Finding:
        return max(self.findings, key=lambda f: (f.occurred_at, max(f.event_ids, default=0)))

    @property
    def event_ids(self) -> set[int]:
        return {i for f in self.findings for i in f.event_ids}


# An evidence row as ``bulk.rows_insert`` writes it, in this order.
EVIDENCE_FIELDS = ("tenant_id", "alert_id", "event_id", "event_kind", "occurred_at", "ip", "country",
                   "browser_family", "os_family", "device_type", "user_agent")
TIMELINE_FIELDS = ("tenant_id", "alert_id", "at", "kind", "from_status", "to_status", "note")
_EVIDENCE_IP = AlertEvidence._meta.get_field("ip")


def _evidence_ip(ip: object) -> str | None:
    # What the field saves: None for no address, an IPv4-mapped IPv6 address as its IPv4 one.
    if not ip:
        return None
    return str(_EVIDENCE_IP.get_prep_value(ip)) if ":" in str(ip) else str(ip)


def _evidence_row(*, tenant_id: int, alert_id: int, kind: str, event_id: int,
                  signin: Mapping[int, Row], exports: Mapping[int, Row]) -> tuple[Any, ...] | None:
    """The evidence row (``EVIDENCE_FIELDS``) of one event of an alert, from the record's row."""
    if kind == EventKind.EXPORT:
        row = exports.get(event_id)
        if row is None:
            return None
        return (tenant_id, alert_id, event_id, kind, row[2], _evidence_ip(row[6]), row[7] or "",
                row[8] or "", row[9] or "", row[10] or "", row[11] or "")
    row = signin.get(event_id)
    if row is None:
        return None
    return (tenant_id, alert_id, event_id, kind, row[3], _evidence_ip(row[6]), row[7] or "",
            row[8] or "", row[9] or "", row[10] or "", row[12] or "")


def _event_time(kind: str, event_id: int, signin: Mapping[int, Row],
                exports: Mapping[int, Row]) -> dt.datetime | None:
    row = (exports if kind == EventKind.EXPORT else signin).get(event_id)
    if row is None:
        return None
    return row[2] if kind == EventKind.EXPORT else row[3]


def _missing_rows(tenant_id: int, groups: Iterable[_Group], signin: dict[int, Row],
                  exports: dict[int, Row]) -> None:
    """Evidence of a finding can be a row outside the batch and its history: fetch those."""
    want_signin = {i for g in groups if g.kind == EventKind.SIGNIN for i in g.event_ids} - signin.keys()
    want_export = {i for g in groups if g.kind == EventKind.EXPORT for i in g.event_ids} - exports.keys()
    if want_signin:
        for row in (LoginEvent.objects.filter(tenant_id=tenant_id, id__in=sorted(want_signin))
                    .order_by().values_list(*EVENT_COLUMNS)):
            signin[int(row[0])] = row
    if want_export:
        for row in (ExportEvent.objects.filter(tenant_id=tenant_id, id__in=sorted(want_export))
                    .order_by().values_list(*_EXPORT_EVIDENCE_COLUMNS)):
            exports[int(row[0])] = row


_EXPORT_EVIDENCE_COLUMNS = ("id", "user_id", "occurred_at", "dataset", "row_count", "format", "ip",
                            "country", "browser_family", "os_family", "device_type", "user_agent")


def findings_write(*, tenant_id: int, found: Sequence[_Found], signin: dict[int, Row],
                   exports: dict[int, Row], now: dt.datetime, result: DetectResult,
                   tenant: Tenant | None = None) -> None:
    """Open or grow the alerts of these findings, with evidence and timeline, in bulk."""
    groups: dict[tuple[str, str], _Group] = {}
    for item in found:
        f = item.finding
        if f.tenant_id != tenant_id or not f.dedup_key or not f.event_ids:
            logger.warning("Rule %s returned a finding without tenant, key or events", f.rule)
            continue
        group = groups.setdefault((f.rule, f.dedup_key),
                                  _Group(rule=f.rule, dedup_key=f.dedup_key, kind=item.kind, mode=item.mode))
        group.findings.append(f)
        result.by_rule[f.rule] += 1
        result.findings += 1
    if not groups:
        return
    keys = sorted({k for _, k in groups})
    rule_codes = sorted({r for r, _ in groups})
    # The open alerts of these keys (by id: the upsert below grows them, and tells them apart
    # from the ones it opens by their ids).
    open_ids = set(Alert.objects.filter(tenant_id=tenant_id, status__in=UNRESOLVED,
                                        dedup_key__in=keys, rule__in=rule_codes)
                   .values_list("pk", flat=True))
    all_ids = sorted({i for g in groups.values() for i in g.event_ids})
    # Which of these events already prove an alert of the same rule and key (open or closed).
    proven: dict[tuple[str, str], set[tuple[int, str]]] = defaultdict(set)
    for rule, key, event_id, kind in AlertEvidence.objects.filter(
            tenant_id=tenant_id, event_id__in=all_ids, alert__rule__in=rule_codes,
    ).values_list("alert__rule", "alert__dedup_key", "event_id", "event_kind"):
        proven[(rule, key)].add((event_id, kind))
    _missing_rows(tenant_id, groups.values(), signin, exports)
    people = users_existing(tenant_id=tenant_id, user_ids={f.user_id for g in groups.values() for f in g.findings
                             if f.user_id is not None})
    tenant = Tenant.objects.get(pk=tenant_id) if tenant is None else tenant

    # One row per (rule, key) with fresh evidence: opened, or grown by the upsert.
    wanted: list[tuple[Alert, _Group, list[int]]] = []
    for (rule, key), group in groups.items():
        fresh = sorted(i for i in group.event_ids if (i, group.kind) not in proven[(rule, key)])
        if not fresh:
            continue  # replayed: every event already proves this alert (or a closed one)
        latest = group.latest
        # Seen from the first evidence event to the last (a brute force began with its first
        # failure, not with the tenth that crossed the threshold).
        times = [f.occurred_at for f in group.findings]
        times += [t for t in (_event_time(group.kind, i, signin, exports) for i in group.event_ids)
                  if t is not None]
        user_id = latest.user_id if latest.user_id in people else None
        alert = Alert(
            tenant_id=tenant_id, rule=rule, severity=_severity(latest.severity),
            status=Alert.Status.OPEN, mode=group.mode, user_id=user_id, dedup_key=key,
            evidence=dict(latest.evidence), first_seen=min(times), last_seen=max(times),
            count=len(fresh), created_at=now, updated_at=now,
        )
        # The objects in hand, so notification does not fetch them again per alert.
        alert.tenant = tenant
        if user_id is not None:
            alert.user = people[user_id]
        wanted.append((alert, group, fresh))
    if not wanted:
        return
    returned = alerts_upsert([alert for alert, _, _ in wanted])
    new_alerts: list[tuple[Alert, _Group, list[int]]] = []
    grown: list[tuple[Alert, _Group, list[int]]] = []
    for alert, group, fresh in wanted:
        alert.pk, alert.status = returned[(alert.rule, alert.dedup_key)]
        alert._state.adding = False
        (grown if alert.pk in open_ids else new_alerts).append((alert, group, fresh))

    evidence: list[tuple[Any, ...]] = []
    latest_signin: dict[int, tuple[Any, ...]] = {}
    for alert, group, fresh in wanted:
        for event_id in fresh:
            row = _evidence_row(tenant_id=tenant_id, alert_id=alert.pk, kind=group.kind,
                                event_id=event_id, signin=signin, exports=exports)
            if row is None:
                continue
            evidence.append(row)
            if row[3] == EventKind.SIGNIN:
                seen = latest_signin.get(alert.pk)
                if seen is None or (row[4], row[2]) > (seen[4], seen[2]):
                    latest_signin[alert.pk] = row
    timeline: list[tuple[Any, ...]] = [
        (tenant_id, alert.pk, now, ActivityKind.OPENED, "", Alert.Status.OPEN, "")
        for alert, _group, _fresh in new_alerts]
    timeline += [(tenant_id, alert.pk, now, ActivityKind.SEEN_AGAIN, "", alert.status, "")
                 for alert, _group, _fresh in grown]
    # Plain rows, one statement each (``tenants.bulk``): no model object per row.
    bulk.rows_insert(AlertEvidence, EVIDENCE_FIELDS, evidence, tenant=tenant, ignore_conflicts=True)
    bulk.rows_insert(AlertActivity, TIMELINE_FIELDS, timeline, tenant=tenant)
    result.alerts_opened += len(new_alerts)
    result.alerts_grown += len(grown)
    # Record-only alerts notify nobody (notify checks the mode too).
    opened = [a for a, _, _ in new_alerts if a.mode == ModeChoices.ALERT]
    # Model objects for the evidence rows notification reads (the latest sign-in of each alert).
    notify.alerts_opened(alerts=opened, latest={
        alert.pk: AlertEvidence(**dict(zip(EVIDENCE_FIELDS, latest_signin[alert.pk], strict=True)))
        for alert in opened if alert.pk in latest_signin})
    notify.alerts_seen_again(alerts=[a for a, _, _ in grown if a.mode == ModeChoices.ALERT])


# The columns an upsert of an open alert changes, and how (``excluded`` is the row offered).
_GROW = {
    # A finding can escalate (more failures, a higher speed); never lowered here. Evidence and
    # severity follow the latest finding only when it is the newest the alert has seen.
    "severity": "CASE WHEN excluded.{last_seen} >= {t}.{last_seen} AND {rank_new} > {rank_old} "
                "THEN excluded.{severity} ELSE {t}.{severity} END",
    "evidence": "CASE WHEN excluded.{last_seen} >= {t}.{last_seen} THEN excluded.{evidence} "
                "ELSE {t}.{evidence} END",
    "first_seen": "{least}({t}.{first_seen}, excluded.{first_seen})",
    "last_seen": "{greatest}({t}.{last_seen}, excluded.{last_seen})",
    "count": "{t}.{count} + excluded.{count}",
    "updated_at": "excluded.{updated_at}",
    "user": "COALESCE({t}.{user}, excluded.{user})",
}


def _q(name: str | None) -> str:
    if name is None:  # a concrete field always has a column; the stubs allow None
        raise TypeError("a field without a column")
    return '"' + name.replace('"', '""') + '"'


@functools.cache
def _upsert_sql(vendor: str) -> tuple[str, str, tuple[Any, ...]]:
    """(INSERT … VALUES, ON CONFLICT … RETURNING, the fields in parameter order) of ``Alert``."""
    meta = Alert._meta
    fields = tuple(f for f in meta.concrete_fields if f is not meta.auto_field)
    columns = {f.name: _q(f.column) for f in fields}
    table = _q(meta.db_table)

    def rank(side: str) -> str:
        column = f"{side}.{columns['severity']}"
        return (f"CASE {column} WHEN 'high' THEN 2 WHEN 'medium' THEN 1 ELSE 0 END")

    names = {**columns, "t": table, "rank_new": rank("excluded"), "rank_old": rank(table),
             "least": "LEAST" if vendor == "postgresql" else "MIN",
             "greatest": "GREATEST" if vendor == "postgresql" else "MAX"}
    # The partial unique constraint's own condition, so the database infers that index.
    unresolved = ", ".join(f"'{s.value}'" for s in UNRESOLVED)
    updates = ", ".join(f"{columns[name]} = {expression.format(**names)}"
                        for name, expression in _GROW.items())
    head = f"INSERT INTO {table} ({', '.join(columns.values())}) VALUES "  # noqa: S608  # nosec B608  # identifiers from the model's meta
    # Identifiers from the model's meta and the statuses' own constants: no input reaches it.
    tail = (f" ON CONFLICT ({columns['tenant']}, {columns['rule']}, {columns['dedup_key']}) "  # nosec B608
            f"WHERE {columns['status']} IN ({unresolved}) DO UPDATE SET {updates} "
            f"RETURNING {_q(meta.pk.column)}, {columns['rule']}, {columns['dedup_key']}, "
            f"{columns['status']}")
    return head, tail, fields


def alerts_upsert(alerts: Sequence[Alert]) -> dict[tuple[str, str], tuple[int, str]]:
    """Open these alerts, or grow the unresolved one of the same (tenant, rule, key), in one
    ``INSERT … ON CONFLICT`` on the partial unique constraint: race-free against any other writer
    of the same key. Returns (id, status) by (rule, key)."""
    if not alerts:
        return {}
    if len({(a.tenant_id, a.rule, a.dedup_key) for a in alerts}) != len(alerts):
        raise ValueError("one alert per (tenant, rule, key) in an upsert")
    connection = connections[router.db_for_write(Alert)]
    head, tail, fields = _upsert_sql(connection.vendor)
    returned: dict[tuple[str, str], tuple[int, str]] = {}
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # The rows as one JSON parameter (``tenants.bulk``): no per-value quoting by the driver.
            rows = [[getattr(alert, f.attname) for f in fields] for alert in alerts]
            cursor.execute(bulk.insert_select_sql(Alert, tuple(f.attname for f in fields)) + tail,
                           [bulk.rows_json(rows)])
            statements = [cursor.fetchall()]
        else:
            row = "(" + ", ".join(["%s"] * len(fields)) + ")"
            # SQLite allows 32,766 parameters a statement.
            per_statement = max(1, 30_000 // len(fields))
            statements = []
            for start in range(0, len(alerts), per_statement):
                chunk = alerts[start:start + per_statement]
                params = [f.get_db_prep_save(f.pre_save(alert, True), connection=connection)
                          for alert in chunk for f in fields]
                cursor.execute(head + ", ".join([row] * len(chunk)) + tail, params)
                statements.append(cursor.fetchall())
        for fetched in statements:
            for pk, rule, key, status in fetched:
                returned[(rule, key)] = (int(pk), str(status))
    return returned


_RANKS = {Severity.LOW.value: 0, Severity.MEDIUM.value: 1, Severity.HIGH.value: 2}


def _severity(value: object) -> str:
    return str(value) if str(value) in _RANKS else Severity.MEDIUM.value


def _rank(severity: str) -> int:
    return _RANKS.get(str(severity), 0)


# --- one batch --------------------------------------------------------------------------------

def _context(tenant: Tenant) -> TenantContext:
    return TenantContext(tenant_id=tenant.pk, timezone=tenant.timezone or "UTC")


def signin_batch_detect(*, tenant: Tenant, rules: Sequence[ActiveRule], batch_size: int,
                        now: dt.datetime | None = None, cache: EventCache | None = None,
                        held: SuccessCache | None = None) -> DetectResult:
    """Detect over the next batch of the tenant's sign-ins, in one transaction. ``cache`` and
    ``held``: the Events and the people's successes earlier batches of this run read
    (``tenant_detect`` passes them; see ``alerts.history``)."""
    result = DetectResult()
    now = now or timezone.now()
    cache = EventCache() if cache is None else cache
    with transaction.atomic():
        cursor = _cursor_locked(tenant_id=tenant.pk, kind=EventKind.SIGNIN)
        if cursor is None:
            return result
        rows = _signin_rows(cursor, tenant_id=tenant.pk, limit=batch_size, now=now)
        if not rows:
            return result
        signin_rules = [r for r in rules if not r.exports]
        events = [cache.event(r, tenant_id=tenant.pk, place_of=place_of) for r in rows]
        collected: dict[int, Row] = {int(r[0]): r for r in rows}
        if signin_rules:
            needs = history_needs(signin_rules, batch_start=min(e.occurred_at for e in events))
            history = history_fetch(tenant_id=tenant.pk, events=events, needs=needs,
                                    place_of=place_of, rows=collected, cache=cache, held=held)
            found = _evaluate(signin_rules, events, (), history, _context(tenant), result)
            findings_write(tenant_id=tenant.pk, found=found, signin=collected, exports={},
                           now=now, result=result, tenant=tenant)
        _advance(cursor, ((e.id, e.occurred_at) for e in events), now=now)
        cursor.save(update_fields=["last_id", "last_at", "recent", "updated_at"])
        result.events = len(events)
        result.batches = 1
        if BEFORE_COMMIT is not None:
            BEFORE_COMMIT(len(events))
    return result


def export_batch_detect(*, tenant: Tenant, rules: Sequence[ActiveRule], batch_size: int,
                        now: dt.datetime | None = None) -> DetectResult:
    """Detect over the tenant's exports completed since the last run, in one transaction."""
    result = DetectResult()
    now = now or timezone.now()
    export_rules = [r for r in rules if r.exports]
    with transaction.atomic():
        cursor = _cursor_locked(tenant_id=tenant.pk, kind=EventKind.EXPORT)
        if cursor is None:
            return result
        rows = _export_rows(cursor, tenant_id=tenant.pk, limit=batch_size, now=now)
        if not rows:
            return result
        samples = [export_sample_from_row(r[:5], tenant_id=tenant.pk) for r in rows]
        if export_rules:
            needs = history_needs(export_rules, batch_start=min(s.occurred_at for s in samples))
            history = history_fetch(tenant_id=tenant.pk, events=(), samples=samples, needs=needs)
            found = _evaluate(export_rules, (), samples, history, _context(tenant), result)
            findings_write(tenant_id=tenant.pk, found=found, signin={}, exports={},
                           now=now, result=result, tenant=tenant)
        _advance(cursor, ((int(r[0]), r[5]) for r in rows), now=now, keyset=False)
        cursor.save(update_fields=["last_id", "last_at", "recent", "updated_at"])
        result.exports = len(samples)
        result.batches = 1
        if BEFORE_COMMIT is not None:
            BEFORE_COMMIT(len(samples))
    return result


def tenant_detect(*, tenant: Tenant, batch_size: int | None = None, max_batches: int | None = None,
                  registry: Mapping[str, ModuleType] | None = None) -> DetectResult:
    """Catch up on one tenant's record: batches until nothing new is left (or ``max_batches``)."""
    size = batch_size or settings.ALERTS_DETECT_BATCH_SIZE
    rules = rules_active(tenant_id=tenant.pk, registry=registry)
    total = DetectResult()
    cache, held = EventCache(), SuccessCache()
    try:
        for kind in (EventKind.SIGNIN, EventKind.EXPORT):
            batches = 0
            while max_batches is None or batches < max_batches:
                if kind == EventKind.SIGNIN:
                    step = signin_batch_detect(tenant=tenant, rules=rules, batch_size=size,
                                               cache=cache, held=held)
                else:
                    step = export_batch_detect(tenant=tenant, rules=rules, batch_size=size)
                total.add(step)
                batches += 1
                # What a catch-up holds (its Events and timelines, hundreds of thousands of
                # objects) is set aside from the cyclic collector, which would otherwise walk it
                # again in every full collection; until the catch-up ends (8% of a 1M-event run).
                gc.freeze()
                # A short batch means the tenant is caught up (the late-row query is bounded too).
                if step.events + step.exports < size or not step.batches:
                    break
    finally:
        gc.unfreeze()
    return total


def detect_all(*, batch_size: int | None = None, max_batches: int | None = None,
               tenant_ids: Sequence[int] | None = None,
               registry: Mapping[str, ModuleType] | None = None) -> DetectResult:
    """Every active tenant (or those given), one after the other."""
    tenants = Tenant.objects.filter(status=Tenant.Status.ACTIVE).order_by("pk")
    if tenant_ids is not None:
        tenants = tenants.filter(pk__in=list(tenant_ids))
    total = DetectResult()
    for tenant in tenants:
        try:
            total.add(tenant_detect(tenant=tenant, batch_size=batch_size, max_batches=max_batches,
                                    registry=registry))
        except Exception:
            # One tenant's failure (a database error in its batch) must not starve the others;
            # its batch rolled back and is retried on the next run.
            logger.exception("Alert detection failed for tenant %s", tenant.pk)
    return total

