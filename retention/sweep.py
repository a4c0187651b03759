"""The nightly retention sweep: roll up, then purge, then write a receipt per tenant.

Design
------
1. **Roll up.** For every tenant, every UTC day before its purge day that still has rows and is
   not yet marked is aggregated (``retention.rollup``) into ``DailyActivity``, and marked
   (``RolledUpDay``) in the same transaction. A day is therefore counted exactly once: a kill
   before the commit leaves nothing, a kill after it leaves the mark, and the next run skips it.
   Days are taken oldest first and across tenants at once: one set of aggregate queries per day,
   each day its own short transaction.
2. **Purge.** Only rows of days that are marked leave the record (``record_before``), so the
   rolled-up totals always equal the rows that were purged plus the rows holds kept. On
   PostgreSQL a day partition past every tenant's purge day, rolled up for every tenant in it
   and with no held row is detached and dropped (``retention.purge``); everything else — the
   DEFAULT partition, tenants with a shorter policy, held days, the other personal tables — is
   deleted in bounded batches, each its own short transaction, with a pause between batches.
3. **Receipt.** One ``SweepRun``; one ``SweepReceipt`` per tenant in scope.

Pacing: the sign-in path shares the database (and, on a small server, its two cores) with the
sweep, so the sweep works in short units (a day's roll-up, a few partitions' detach, a batch) and
after each one rests in proportion to it: with ``RETENTION_SWEEP_DUTY`` (percent, default 20)
it works that share of its wall time and sleeps the rest, at least ``RETENTION_SWEEP_PAUSE_MS``
between batches. Its statements run on one core (``retention.purge.sweep_statement_settings``).
The budget counts the rests too, so a paced sweep does less per night and resumes the next.

Safety: the querysets of ``retention.due`` never reach a row younger than its tenant's purge
day or covered by a hold in force; a PostgreSQL advisory lock serialises sweeps (a second one
records itself as skipped); a run that stops at its time budget says so and the next run goes
on where it stopped; a run killed outright stays "running" until the next sweep, which marks it
interrupted (it holds the lock, so the other is gone).
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from activity.lifetime import RetentionRules, default_rules, retention_rules
from activity.models import ExportEvent, LoginEvent
from activity.partitions import day_bounds
from retention import due
from retention.models import DailyActivity, RolledUpDay, SweepReceipt, SweepRun
from retention.purge import (
    Dropped,
    blank_all,
    delete_all,
    droppable_partitions,
    partitions_drop,
    record_first_days,
    sweep_statement_settings,
)
from retention.rollup import activity_counts, event_totals
from retention.selectors import purge_preview
from retention.services import legal_holds_expire
from tenants.models import Tenant

logger = logging.getLogger(__name__)

# pg_try_advisory_lock key of the sweep ("RETN" as an integer): one sweep at a time.
ADVISORY_LOCK_KEY = 0x5245544E
# Day partitions dropped per transaction: the other sessions rebuild the parent's partition list
# once per transaction, and the parent's lock is held for this many tables' catalogue rows.
DROP_PER_TRANSACTION = 8
RECORD_TIME_COLUMN = {due.LOGIN_TABLE: "occurred_at", due.EXPORT_TABLE: "occurred_at"}

Hook = Callable[[str], None]
Progress = Callable[[str, int], None]


@dataclass
class _Work:
    """One tenant's part of a run, gathered into its receipt at the end."""

    tenant: Tenant
    rules: RetentionRules
    holds: due.Holds
    purge_day: dt.date
    days: list[dt.date] = field(default_factory=list)  # still to roll up, oldest first
    rolled: int = 0
    rows: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    partitions: int = 0
    held: int = 0
    errors: list[str] = field(default_factory=list)
    oldest: dt.date | None = None
    newest: dt.date | None = None
    seconds: float = 0.0


@contextmanager
def _sweep_lock() -> Iterator[bool]:
    """True when this process may sweep (PostgreSQL: a session advisory lock; SQLite: always)."""
    if connection.vendor != "postgresql":
        yield True
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s)", [ADVISORY_LOCK_KEY])
        acquired = bool(cursor.fetchone()[0])
    try:
        yield acquired
    finally:
        if acquired:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s)", [ADVISORY_LOCK_KEY])


def _first_day(tenant: Tenant, before: dt.datetime) -> dt.date | None:
    """The oldest UTC day with a sign-in or export row of ``tenant`` before ``before`` (SQLite:
    on PostgreSQL this plans over every partition, ``record_first_days`` probes them one by one)."""
    firsts = [model.objects.for_tenant(tenant).filter(occurred_at__lt=before).order_by("occurred_at")
              .values_list("occurred_at", flat=True).first() for model in (LoginEvent, ExportEvent)]
    found = [first.astimezone(dt.UTC).date() for first in firsts if first is not None]
    return min(found) if found else None


class Sweep:
    def __init__(self, *, now: dt.datetime, tenant: Tenant | None, dry_run: bool,
                 budget_seconds: float, batch_size: int, pause_seconds: float, duty: float,
                 hook: Hook | None, progress: Progress | None, phase: Hook | None = None) -> None:
        self.now = now
        self.only = tenant
        self.dry_run = dry_run
        self.deadline = time.monotonic() + budget_seconds
        self.batch_size = max(1, batch_size)
        self.pause_seconds = pause_seconds
        self.duty = min(1.0, max(0.01, duty))
        self.phase = phase or (lambda name: None)
        self._worked_since = time.monotonic()
        self.hook = hook or (lambda point: None)
        self.progress = progress or (lambda kind, amount: None)
        self.stopped = False
        self.work: list[_Work] = []

    # --- helpers ------------------------------------------------------------------------------

    def _time_left(self) -> bool:
        if time.monotonic() >= self.deadline:
            self.stopped = True
        return not self.stopped

    def _pace(self, minimum: float = 0.0) -> bool:
        """After a unit of work: rest in proportion to it (the duty cycle), at least ``minimum``
        seconds; then whether the budget allows another unit."""
        worked = time.monotonic() - self._worked_since
        rest = max(minimum, worked * (1 - self.duty) / self.duty)
        rest = min(rest, max(0.0, self.deadline - time.monotonic()))
        if rest > 0:
            time.sleep(rest)
        self._worked_since = time.monotonic()
        return self._time_left()

    def _pause(self) -> bool:
        """Between batches: give the sign-in path the database, and honour the budget."""
        return self._pace(self.pause_seconds)

    def _plan(self) -> None:
        tenants = [self.only] if self.only is not None else list(Tenant.objects.order_by("pk"))
        for tenant in tenants:
            rules = retention_rules(tenant=tenant)
            self.work.append(_Work(tenant=tenant, rules=rules, holds=due.holds_in_force(tenant=tenant, now=self.now),
                                   purge_day=due.purge_day(rules, self.now)))
        # Each tenant's oldest row before its purge day, partition by partition (no query plans
        # over every partition at once); where the record is not partitioned, one query each.
        firsts = record_first_days(purge_days={work.tenant.pk: work.purge_day for work in self.work},
                                   pace=self._pace)
        for work in self.work:
            first = (firsts.get(work.tenant.pk) if firsts is not None
                     else _first_day(work.tenant, day_bounds(work.purge_day)[0]))
            if first is not None:
                marked = set(RolledUpDay.objects.for_tenant(work.tenant)
                             .filter(day__gte=first, day__lt=work.purge_day).values_list("day", flat=True))
                span = (work.purge_day - first).days
                work.days = [day for day in (first + dt.timedelta(days=n) for n in range(span))
                             if day not in marked]
        self._pace()

    # --- 1. roll up ---------------------------------------------------------------------------

    def _roll_up(self) -> None:
        by_day: dict[dt.date, list[_Work]] = defaultdict(list)
        for work in self.work:
            for day in work.days:
                by_day[day].append(work)
        for day in sorted(by_day):
            if not self._time_left():
                return
            started = time.monotonic()
            pairs = {(work.tenant.pk, day): work for work in by_day[day]}
            try:
                written = self._roll_up_days(day, day, set(pairs))
            except DatabaseError as error:
                logger.exception("retention: rolling up %s failed", day)
                for work in pairs.values():
                    work.errors.append(f"rollup {day}: {error.__class__.__name__}")
                self._pace()
                continue
            share = (time.monotonic() - started) / max(1, len(pairs))
            for (_tenant_id, _day), work in pairs.items():
                work.days.remove(day)
                work.seconds += share
                if (work.tenant.pk, day) in written:
                    work.rolled += 1
                    work.oldest = min(work.oldest or day, day)
                    work.newest = max(work.newest or day, day)
            self.progress("day", 1)
            self.hook("rolled_up")
            self._pace()

    def _roll_up_days(self, since: dt.date, until: dt.date,
                      pairs: set[tuple[int, dt.date]]) -> set[tuple[int, dt.date]]:
        """Count and mark the (tenant, day) pairs not marked yet, in one transaction."""
        with transaction.atomic():
            with connection.cursor() as cursor:
                sweep_statement_settings(cursor)
            ids = sorted({tenant_id for tenant_id, _day in pairs})
            done = set(RolledUpDay.objects.filter(day__gte=since, day__lte=until, tenant_id__in=ids)
                       .select_for_update().values_list("tenant_id", "day"))
            todo = pairs - done
            counts = activity_counts(tenant_ids=ids, since=since, until=until)
            # One row per (tenant, day) with every count of it: far less WAL than a row per key.
            rows = [DailyActivity(tenant_id=tenant_id, day=day, counts=metrics)
                    for (tenant_id, day), metrics in counts.items() if (tenant_id, day) in todo]
            DailyActivity.objects.bulk_create(rows, batch_size=500, update_conflicts=True,
                                              unique_fields=["tenant", "day"], update_fields=["counts"])
            markers = []
            for tenant_id, day in sorted(todo):
                logins, exports = event_totals(counts, tenant_id, day)
                markers.append(RolledUpDay(tenant_id=tenant_id, day=day, login_events=logins,
                                           export_events=exports))
            RolledUpDay.objects.bulk_create(markers, batch_size=1000, ignore_conflicts=True)
        return todo

    # --- 2. purge -----------------------------------------------------------------------------

    def _count_dropped(self, dropped: Dropped, by_pk: dict[int, _Work], seconds: float) -> None:
        share = seconds / max(1, len(dropped.rows_by_tenant))
        for tenant_id, count in dropped.rows_by_tenant.items():
            work = by_pk.get(tenant_id)
            if work is None:  # a tenant deleted since (its rows went with the partition)
                continue
            work.rows[dropped.table] += count
            work.partitions += 1
            work.seconds += share
        self.progress("rows", sum(dropped.rows_by_tenant.values()))

    def _drop_partitions(self) -> list[str]:
        if self.only is not None or not self.work:
            return []  # a whole day belongs to every tenant: only a full run drops it
        before = min(work.purge_day for work in self.work)
        purge_days = {work.tenant.pk: work.purge_day for work in self.work}
        holds = {work.tenant.pk: work.holds for work in self.work}
        by_pk = {work.tenant.pk: work for work in self.work}
        dropped: list[str] = []
        groups: list[tuple[str, list[tuple[str, dt.date]]]] = []
        for table, name, day in droppable_partitions(before=before):
            last = groups[-1] if groups else None
            if last is not None and last[0] == table and len(last[1]) < DROP_PER_TRANSACTION:
                last[1].append((name, day))
            else:
                groups.append((table, [(name, day)]))
        for table, partitions in groups:
            if not self._time_left():
                break
            started = time.monotonic()
            gone, failure = partitions_drop(
                table=table, partitions=partitions, purge_days=purge_days, holds=holds,
                lock_timeout_ms=settings.RETENTION_SWEEP_LOCK_TIMEOUT_MS)
            if failure is not None:
                logger.warning("retention: partitions kept for now (%s)", failure)
            for one in gone:
                dropped.append(one.name)
                self._count_dropped(one, by_pk, (time.monotonic() - started) / len(gone))
                self.hook("partition_dropped")
            self._pace()
        return dropped

    def _purge_tenant(self, work: _Work) -> None:
        started = time.monotonic()
        # Rows of a day not rolled up yet (the budget ran out, a rollup failed) stay.
        record_before = day_bounds(work.days[0])[0] if work.days else None
        querysets = due.due_querysets(tenant=work.tenant, rules=work.rules, now=self.now,
                                      holds=work.holds, record_before=record_before)
        cutoff = min(due.purge_cutoff(work.rules, self.now), record_before or dt.datetime.max.replace(tzinfo=dt.UTC))

        def on_batch(deleted: int) -> None:
            self.progress("rows", deleted)
            self.hook("batch")

        for table, (rows, _kept) in querysets.items():
            if not self._time_left():
                break
            try:
                deleted, finished = delete_all(rows, batch_size=self.batch_size, pause=self._pause,
                                               on_batch=on_batch, time_column=RECORD_TIME_COLUMN.get(table),
                                               before=cutoff)
            except DatabaseError as error:
                logger.exception("retention: purging %s of tenant %s failed", table, work.tenant.pk)
                work.errors.append(f"{table}: {error.__class__.__name__}")
                continue
            work.rows[table] += deleted
            if not finished:
                break
            self._pace()  # a table's last (short) batch, or its one empty look, is work too
        blank, blank_kept = due.evidence_to_blank(tenant=work.tenant, rules=work.rules, now=self.now,
                                                  holds=work.holds)
        if self._time_left():
            blanked, _finished = blank_all(blank, batch_size=self.batch_size, pause=self._pause,
                                           on_batch=on_batch)
            work.rows[due.EVIDENCE_TABLE] += blanked
        if work.holds.any:
            work.held = (sum(kept.count() for _rows, kept in querysets.values())
                         + blank_kept.count())
        work.seconds += time.monotonic() - started

    def _purge_platform(self) -> dict[str, int]:
        if self.only is not None:
            return {}
        rules = default_rules()
        cutoffs = [due.purge_cutoff(work.rules, self.now) for work in self.work]
        session_cutoff = min([due.purge_cutoff(rules, self.now), *cutoffs])
        purged: dict[str, int] = {}
        for table, rows in due.platform_querysets(rules=rules, now=self.now,
                                                  session_cutoff=session_cutoff).items():
            if not self._time_left():
                break
            deleted, _finished = delete_all(rows, batch_size=self.batch_size, pause=self._pause,
                                            on_batch=lambda n: self.progress("rows", n))
            purged[table] = deleted
            self._pace()
        return purged

    # --- 3. receipts --------------------------------------------------------------------------

    def _dry_run(self) -> None:
        for work in self.work:
            preview = purge_preview(tenant=work.tenant, rules=work.rules, now=self.now)
            work.rows.update(preview.rows)
            work.held = preview.total_held
            work.rolled = len(work.days)
            if work.days:
                work.oldest, work.newest = work.days[0], work.days[-1]

    def _receipts(self, run: SweepRun) -> None:
        SweepReceipt.objects.bulk_create([
            SweepReceipt(tenant=work.tenant, run=run, days_rolled_up=work.rolled,
                         rows_purged={table: int(n) for table, n in work.rows.items() if n},
                         partitions_dropped=work.partitions, rows_held=work.held,
                         errors=work.errors, oldest_day=work.oldest, newest_day=work.newest,
                         purge_before=work.purge_day, duration=dt.timedelta(seconds=work.seconds))
            for work in self.work])

    def run(self) -> SweepRun:
        with _sweep_lock() as acquired:
            if not acquired:
                return SweepRun.objects.create(started_at=self.now, finished_at=timezone.now(),
                                               status=SweepRun.Status.SKIPPED, dry_run=self.dry_run,
                                               scope=self.only.slug if self.only else "")
            # We hold the lock: a run still marked running was killed.
            SweepRun.objects.filter(status=SweepRun.Status.RUNNING).update(
                status=SweepRun.Status.INTERRUPTED)
            run = SweepRun.objects.create(started_at=timezone.now(), dry_run=self.dry_run,
                                          scope=self.only.slug if self.only else "")
            try:
                if not self.dry_run:
                    legal_holds_expire(now=self.now, tenant=self.only)
                self._plan()
                if self.dry_run:
                    self._dry_run()
                else:
                    self.phase("roll-up")
                    self._roll_up()
                    self.phase("partition drops")
                    run.partitions_dropped = self._drop_partitions()
                    self.phase("batches")
                    for work in self.work:
                        if not self._time_left():
                            break
                        self._purge_tenant(work)
                    self.phase("platform batches")
                    run.rows_purged = self._purge_platform()
                self.phase("receipts")
                run.status = SweepRun.Status.PARTIAL if self.stopped else SweepRun.Status.COMPLETED
            except Exception as error:  # a receipt of what was done, then the error
                logger.exception("retention: sweep failed")
                run.status, run.error = SweepRun.Status.FAILED, f"{error.__class__.__name__}: {error}"[:2000]
                raise
            finally:
                run.finished_at = timezone.now()
                run.save()
                self._receipts(run)
        return run


def retention_sweep(*, tenant: Tenant | None = None, dry_run: bool = False,
                    now: dt.datetime | None = None, budget_seconds: float | None = None,
                    batch_size: int | None = None, pause_seconds: float | None = None,
                    duty_percent: float | None = None, hook: Hook | None = None,
                    progress: Progress | None = None, phase: Hook | None = None) -> SweepRun:
    """Roll up, purge and write receipts for every tenant (or one); see the module header.

    ``hook`` is called at each point where the sweep may be killed safely, ``phase`` with the
    name of each phase as it begins (the benchmark's per-phase figures)."""
    if duty_percent is None:
        duty_percent = settings.RETENTION_SWEEP_DUTY
    return Sweep(
        now=now or timezone.now(), tenant=tenant, dry_run=dry_run,
        budget_seconds=settings.RETENTION_SWEEP_BUDGET_SECONDS if budget_seconds is None else budget_seconds,
        batch_size=batch_size or settings.RETENTION_SWEEP_BATCH_SIZE,
        pause_seconds=(settings.RETENTION_SWEEP_PAUSE_MS / 1000 if pause_seconds is None
                       else pause_seconds),
        duty=duty_percent / 100, hook=hook, progress=progress, phase=phase,
    ).run()
