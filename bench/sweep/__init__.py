"""Retention sweep: QuerySet.delete() (+1 receiver) and batched DELETE vs our sweep; time, WAL, growth.

Data: ``--events`` (default 20,000,000) sign-in events across ``--tenants`` (default 100)
Zipf-sized tenants over ``--days`` (default 360) days ending yesterday, so with the default
180-day retention half of them (10M) are past purge, loaded with ``generate_activity``'s loader
(COPY into the real daily partitions) into a throwaway PostgreSQL 15 (tests/harness.py's way).
Each scenario runs on its own copy of the loaded database (``CREATE DATABASE … TEMPLATE``), so
every side deletes the same rows from the same starting state.

Sides, each measured as wall time and WAL bytes (``pg_current_wal_lsn()`` before and after):

- **QuerySet.delete()** — ``LoginEvent.objects.filter(occurred_at__lt=cutoff).delete()`` with one
  ``post_delete`` receiver connected (as any project with auditlog or axes has), so Django's
  collector fetches every row and deletes by primary key, in one transaction.
- **batched DELETE** — Sentry's loop, ``DELETE … WHERE id IN (SELECT id … WHERE occurred_at <
  cutoff LIMIT 10000)``, each batch committed, until nothing is left.
- **ours** — ``retention.sweep.retention_sweep`` unpaced (no pause between batches, a duty of
  100%: its work alone): roll up the expired days into DailyActivity, then drop the whole day
  partitions past every tenant's purge day. The roll-up and the purge are timed apart; the purge
  is what compares with the baselines (which do not roll anything up); the WAL per purged row is
  given for the purge alone (the issue's figure) and for roll-up plus purge.

Sign-in: the write of one LoginEvent (its own transaction) while a production-paced sweep of the
sample runs in another process, against the same write in the windows where that process is
stopped (SIGSTOP at a moment its session is idle, every other second), per sweep phase: the
baseline is taken in the same minutes as the figure, so the other load of a shared machine
moves both alike. The paced sweep's wall time per phase is given too (stopped windows left out).

The baselines at 10M rows would take hours, so they run on a sample (``--sample``, default 200,000
expired rows, in a database of twice that), as does ours, for a side-by-side at equal size; ours
also runs at full size. Rows at full size for the baselines are extrapolated per row from the
sample, labelled as such. Growth: ours purging 1/10 of the full expiry (a database of
``--events``/10) against the full one; target ≤ 2x the time for 10x the rows.

Targets (issue 10): ours ≥ 100x faster than QuerySet.delete(), ≥ 10x faster than batched DELETE,
WAL per purged row ≤ 1/100 of batched DELETE. ``--quick``: 200,000 events, 10 tenants, a 20,000
row sample (a minute or two; proves nothing).
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import time
from dataclasses import dataclass
from typing import Any

PURGE_DAYS = 180


@dataclass
class Result:
    side: str
    rows: int
    seconds: float
    wal_bytes: int
    note: str = ""
    rollup_seconds: float | None = None
    rollup_wal: int = 0

    @property
    def per_row_us(self) -> float:
        return self.seconds / self.rows * 1e6 if self.rows else 0.0

    @property
    def wal_per_row(self) -> float:
        return self.wal_bytes / self.rows if self.rows else 0.0


# --- the database ---------------------------------------------------------------------------------
def _admin(server: str) -> Any:
    import psycopg

    return psycopg.connect(f"{server}/postgres", autocommit=True)


def _use(database: str) -> None:
    """Point Django's default connection at another database of the same server."""
    from django.db import connections

    connections.close_all()
    connections.databases["default"]["NAME"] = database
    connections["default"].settings_dict["NAME"] = database


def _copy(server: str, template: str, name: str) -> None:
    from django.db import connections

    connections.close_all()
    with _admin(server) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    _use(name)


def _drop(server: str, name: str) -> None:
    from django.db import connections

    connections.close_all()
    with _admin(server) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')


def _wal() -> int:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0')::bigint")
        return int(cursor.fetchone()[0])


def _expired(cutoff: Any) -> int:
    from activity.models import LoginEvent

    return LoginEvent.objects.filter(occurred_at__lt=cutoff).count()


# The loader builds each day's table with LIKE … INCLUDING CONSTRAINTS, without the parent's
# column defaults, so COPY leaves a NOT NULL column that only has a database default (protocol)
# empty. Until activity/management/loading.py copies defaults, this event trigger of the bench's
# throwaway database gives each new day table the parent's defaults (id excepted: the loader
# sets it), keeping the loader's fast path (COPY FREEZE, then ATTACH).
_PARTITION_DEFAULTS = """
CREATE OR REPLACE FUNCTION bench_partition_defaults() RETURNS event_trigger LANGUAGE plpgsql AS $$
DECLARE made record; col record;
BEGIN
  FOR made IN SELECT * FROM pg_event_trigger_ddl_commands() WHERE command_tag = 'CREATE TABLE'
      AND object_identity LIKE '%activity_loginevent_p%' LOOP
    FOR col IN SELECT a.attname, pg_get_expr(d.adbin, d.adrelid) AS expr FROM pg_attrdef d
        JOIN pg_attribute a ON a.attrelid = d.adrelid AND a.attnum = d.adnum
        WHERE d.adrelid = 'activity_loginevent'::regclass AND a.attname <> 'id' LOOP
      EXECUTE format('ALTER TABLE %s ALTER COLUMN %I SET DEFAULT %s', made.object_identity,
                     col.attname, col.expr);
    END LOOP;
  END LOOP;
END $$;
DROP EVENT TRIGGER IF EXISTS bench_partition_defaults;
CREATE EVENT TRIGGER bench_partition_defaults ON ddl_command_end WHEN TAG IN ('CREATE TABLE')
  EXECUTE FUNCTION bench_partition_defaults();
"""


def _load(server: str, name: str, *, events: int, tenants: int, days: int, seed: int) -> float:
    """A database ``name`` with the events loaded (a template for the scenarios); rows/s."""
    from django.core.management import call_command
    from django.db import connection

    from activity.management.synthetic import activity_generate, tenants_create

    with _admin(server) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    _use(name)
    call_command("migrate", verbosity=0, interactive=False)
    print(f"Loading {events:,} events, {tenants} tenants, {days} days into {name}…", file=sys.stderr,
          flush=True)
    created = tenants_create(count=tenants, prefix=f"b{name[-6:]}")
    with connection.cursor() as cursor:
        cursor.execute(_PARTITION_DEFAULTS)
    result = activity_generate(tenants=created, people=max(200, events // 400), events=events,
                               days=days, seed=seed, anomalies=False)
    with connection.cursor() as cursor:
        cursor.execute("VACUUM (ANALYZE) activity_loginevent")
    return result.events / result.seconds if result.seconds else 0.0


# --- the sides ------------------------------------------------------------------------------------
def _cutoff() -> Any:
    import datetime as dt

    from django.utils import timezone

    from activity.partitions import day_bounds

    return day_bounds((timezone.now() - dt.timedelta(days=PURGE_DAYS)).astimezone(dt.UTC).date())[0]


def _queryset_delete(cutoff: Any) -> int:
    from django.db.models.signals import post_delete

    from activity.models import LoginEvent

    seen = [0]

    def receiver(sender: Any, instance: Any, **kwargs: Any) -> None:
        seen[0] += 1  # what auditlog or axes would do per row, minus the work

    post_delete.connect(receiver, sender=LoginEvent, dispatch_uid="bench.sweep")
    try:
        deleted, _by_model = LoginEvent.objects.filter(occurred_at__lt=cutoff).delete()
    finally:
        post_delete.disconnect(dispatch_uid="bench.sweep", sender=LoginEvent)
    return int(deleted)


def _batched_delete(cutoff: Any) -> int:
    from django.db import connection

    total = 0
    while True:
        with connection.cursor() as cursor:
            cursor.execute("DELETE FROM activity_loginevent WHERE id IN (SELECT id FROM activity_loginevent"
                           " WHERE occurred_at < %s LIMIT 10000)", [cutoff])
            total += cursor.rowcount
            if cursor.rowcount < 10_000:
                return total


def _ours() -> tuple[int, float, int]:
    """(rows purged, seconds of roll-up, WAL bytes of roll-up) of one sweep, unpaced (its work
    alone: no pause between batches, a duty of 100%); the roll-up ends where the drops begin."""
    from retention.sweep import retention_sweep

    marks: dict[str, tuple[float, int]] = {}

    def phase(name: str) -> None:
        marks[name] = (time.perf_counter(), _wal())

    started, wal = time.perf_counter(), _wal()
    run = retention_sweep(pause_seconds=0, duty_percent=100, budget_seconds=24 * 3600, phase=phase)
    end = marks.get("partition drops", (started, wal))
    rolled, rolled_wal = end[0] - started, end[1] - wal
    purged = sum(r.rows_purged.get("activity_loginevent", 0) for r in run.receipts.all())
    if run.status != run.Status.COMPLETED:
        raise AssertionError(f"the sweep ended {run.status}: {run.error}")
    return purged, rolled, rolled_wal


def _measure(side: str, fn: Any, *, note: str = "") -> Result:
    from django.db import transaction

    cutoff = _cutoff()
    expected = _expired(cutoff)
    wal = _wal()
    started = time.perf_counter()
    rollup: float | None = None
    rollup_wal = 0
    if side == "ours":
        rows, rollup, rollup_wal = fn()
    elif side == "QuerySet.delete()":
        with transaction.atomic():
            rows = fn(cutoff)
    else:
        rows = fn(cutoff)
    seconds = time.perf_counter() - started
    wal_bytes = _wal() - wal
    left = _expired(cutoff)
    if rows != expected or left:
        raise AssertionError(f"{side}: deleted {rows:,} of {expected:,} expired rows, {left:,} left")
    if rollup is not None:  # the purge alone compares with the baselines; the roll-up is apart
        return Result(side, rows, seconds - rollup, wal_bytes - rollup_wal, note,
                      rollup_seconds=rollup, rollup_wal=rollup_wal)
    return Result(side, rows, seconds, wal_bytes, note)


def _scenario(server: str, template: str, side: str, fn: Any, note: str = "") -> Result:
    name = f"{template}_run"
    _copy(server, template, name)
    try:
        print(f"  {side} on {template}…", file=sys.stderr, flush=True)
        result = _measure(side, fn, note=note)
        print(f"  {side} on {template}: {result.rows:,} rows in {result.seconds:.2f} s, "
              f"{result.wal_bytes / 1e6:.1f} MB WAL"
              + (f" (roll-up apart: {result.rollup_seconds:.2f} s, {result.rollup_wal / 1e6:.1f} MB WAL)"
                 if result.rollup_seconds is not None else ""), file=sys.stderr, flush=True)
        return result
    finally:
        _drop(server, name)


@dataclass
class SignIn:
    """The sign-in write's latency with the paced sweep running and, in the windows between,
    stopped; per phase of the sweep."""

    alone: list[float]  # before the sweep starts
    running: dict[str, list[float]]  # phase -> writes begun while the sweep ran
    stopped: dict[str, list[float]]  # phase -> writes begun while the sweep was stopped
    phases: dict[str, float]  # phase -> its wall seconds, the stopped windows left out
    sweep_seconds: float
    purged: int

    @staticmethod
    def _all(by_phase: dict[str, list[float]]) -> list[float]:
        return [value for values in by_phase.values() for value in values]

    @property
    def during(self) -> list[float]:
        return self._all(self.running)

    @property
    def between(self) -> list[float]:
        return self._all(self.stopped)


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * share))] if ordered else 0.0


def _paced_sweep(conn: Any) -> None:
    """The sweeper process: one production-paced sweep; sends its database backend's pid, then
    (monotonic, phase) marks, then ("done", rows purged)."""
    from django.db import connection, connections

    from retention.sweep import retention_sweep

    connections.close_all()  # the parent's connection is not ours to share
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            conn.send((time.monotonic(), "backend", int(cursor.fetchone()[0])))
        run = retention_sweep(budget_seconds=24 * 3600,
                              phase=lambda name: conn.send((time.monotonic(), name)))
        conn.send((time.monotonic(), "done", sum(r.rows_purged.get("activity_loginevent", 0)
                                                 for r in run.receipts.all())))
    finally:
        connections.close_all()
        conn.close()


# Seconds of each window: the sweep runs one, is stopped (SIGSTOP) the next, and so on.
WINDOW_SECONDS = 1.0


def _signin_writes(server: str, template: str, *, writes: int) -> SignIn:
    """The sign-in's write (one LoginEvent, own transaction) while a production-paced sweep runs,
    against the same write while the sweep is stopped, in alternating windows of one run.

    The sweep runs as production runs it, in another process (a Celery worker, not the web
    process: no GIL shared with the sign-in), with the production pacing, pause and lock
    timeout. The machine is shared with other work whose load drifts by the minute, so the
    baseline is taken in the same minutes: every other second the sweeper is stopped with
    SIGSTOP, only at a moment its database session is idle (no transaction open, no lock held;
    else it is let go on and tried again a moment later), and continued a second later. Each
    write counts in the window and the sweep phase it began in.
    """
    import multiprocessing
    import os
    import signal

    import psycopg
    from django.db import connections
    from django.test import override_settings

    from accounts.models import User
    from activity.capture import ClientInfo, DeviceType
    from activity.services import login_event_record

    name = f"{template}_p99"
    _copy(server, template, name)
    try:
        person = User.objects.filter(tenant__isnull=False).select_related("tenant").first()
        assert person is not None and person.tenant is not None
        client = ClientInfo(ip="81.2.69.160", country="GB", user_agent="Mozilla/5.0",
                            browser_family="Firefox", browser_version="130", os_family="Linux",
                            os_version="", device_type=DeviceType.DESKTOP)

        def write() -> tuple[float, float]:
            started = time.monotonic()
            login_event_record(tenant=person.tenant, user=person, attempted_login=person.email,
                               client=client, outcome="success", reason="password_ok")
            return started, time.monotonic() - started

        # The worker's write path: detection runs on beat in production, not inline after
        # each commit as in the embedded mode this environment would otherwise be.
        with override_settings(ALERTS_DETECT_EAGER=False), \
                psycopg.connect(f"{server}/{name}", autocommit=True) as monitor:
            alone = [write()[1] for _ in range(writes)]
            connections.close_all()
            context = multiprocessing.get_context("fork")
            receiving, sending = context.Pipe(duplex=False)
            sweeper = context.Process(target=_paced_sweep, args=(sending,))
            sweeper.start()
            sending.close()
            first = receiving.recv()
            backend = int(first[2])
            pid = sweeper.pid
            assert pid is not None

            def idle() -> bool:
                row = monitor.execute("SELECT state FROM pg_stat_activity WHERE pid = %s",
                                      [backend]).fetchone()
                return row is None or row[0] == "idle"

            began = time.monotonic()
            during: list[tuple[float, float, bool]] = []
            stopped_windows: list[tuple[float, float]] = []
            running, window_end = True, began + WINDOW_SECONDS
            while sweeper.is_alive():
                now = time.monotonic()
                if now >= window_end:
                    if running:
                        os.kill(pid, signal.SIGSTOP)
                        if not idle():  # mid-transaction: let it finish, try again soon
                            os.kill(pid, signal.SIGCONT)
                            time.sleep(0.002)
                            continue
                        stopped_windows.append((time.monotonic(), 0.0))
                    else:
                        os.kill(pid, signal.SIGCONT)
                        stopped_windows[-1] = (stopped_windows[-1][0], time.monotonic())
                    running, window_end = not running, time.monotonic() + WINDOW_SECONDS
                    continue
                started, seconds = write()
                during.append((started, seconds, running))
            sweeper.join()
            marks = [first]
            with contextlib.suppress(EOFError):  # every mark the sweeper sent, then its end
                while True:
                    marks.append(receiving.recv())
            if sweeper.exitcode != 0 or marks[-1][1] != "done":
                raise AssertionError(f"the paced sweep failed (exit code {sweeper.exitcode})")
        if stopped_windows and not stopped_windows[-1][1]:
            stopped_windows[-1] = (stopped_windows[-1][0], marks[-1][0])
        bounds = [(began, "planning")] + [(at, phase) for at, phase, *_rest in marks[1:]]
        phases = {phase: 0.0 for _at, phase in bounds[:-1]}
        for n, (at, phase) in enumerate(bounds[:-1]):
            end = bounds[n + 1][0]
            paused = sum(max(0.0, min(b, end) - max(a, at)) for a, b in stopped_windows)
            phases[phase] = end - at - paused
        running_by: dict[str, list[float]] = {phase: [] for phase in phases}
        stopped_by: dict[str, list[float]] = {phase: [] for phase in phases}
        for started, seconds, was_running in during:
            phase = next((p for n, (at, p) in enumerate(bounds[:-1]) if at <= started < bounds[n + 1][0]),
                         bounds[-2][1])
            (running_by if was_running else stopped_by)[phase].append(seconds)
        return SignIn(alone=alone, running=running_by, stopped=stopped_by, phases=phases,
                      sweep_seconds=sum(phases.values()), purged=int(marks[-1][2]))
    finally:
        _drop(server, name)


def _signin_table(signin: SignIn) -> str:
    from bench.common import markdown_table

    def cells(values: list[float]) -> list[str]:
        return ([f"{len(values):,}", f"{_percentile(values, 0.5) * 1e3:.2f}",
                 f"{_percentile(values, 0.99) * 1e3:.2f}"] if values else ["0", "-", "-"])

    rows = [["alone, before the sweep", "-", *cells(signin.alone), "-", "-", "-", "-"]]
    for phase in [*signin.running, "whole sweep"]:
        running = signin.during if phase == "whole sweep" else signin.running[phase]
        stopped = signin.between if phase == "whole sweep" else signin.stopped[phase]
        seconds = signin.sweep_seconds if phase == "whole sweep" else signin.phases[phase]
        ratio = (f"{_percentile(running, 0.99) / _percentile(stopped, 0.99):.2f}x"
                 if running and stopped else "-")
        rows.append([phase, f"{seconds:.2f} s", *cells(running), *cells(stopped), ratio])
    return markdown_table(["sign-in write during", "sweep wall time", "writes (sweep running)",
                           "p50 ms", "p99 ms", "writes (sweep stopped)", "p50 ms", "p99 ms",
                           "p99 running / stopped"], rows)


# --- report ---------------------------------------------------------------------------------------
def _table(results: list[Result], full: Result) -> str:
    from bench.common import markdown_table

    ours = next(r for r in results if r.side == "ours" and r.note == "sample")
    rows = []
    for r in results:
        speed = (r.seconds / ours.seconds) if ours.seconds and r.note == "sample" else None
        wal = (r.wal_per_row / ours.wal_per_row) if ours.wal_per_row and r.note == "sample" else None
        rows.append([r.side, r.note, f"{r.rows:,}", f"{r.seconds:.2f} s",
                     (f"{r.rollup_seconds:.2f} s, {r.rollup_wal / 1e6:.1f} MB WAL"
                      if r.rollup_seconds is not None else "-"),
                     f"{r.per_row_us:.2f}", f"{r.wal_bytes / 1e6:.1f} MB", f"{r.wal_per_row:.1f}",
                     f"{speed:.2f}x" if speed else "-", f"{wal:.2f}x" if wal else "-"])
    for r in results:
        if r.note == "sample" and r.side != "ours":
            seconds = r.per_row_us * full.rows / 1e6
            rows.append([r.side, "full, extrapolated", f"{full.rows:,}", f"{seconds:.0f} s",
                         "-", f"{r.per_row_us:.2f}", f"{r.wal_per_row * full.rows / 1e6:.0f} MB",
                         f"{r.wal_per_row:.1f}",
                         f"{seconds / full.seconds:.1f}x vs ours full" if full.seconds else "-",
                         f"{r.wal_per_row / full.wal_per_row:.1f}x vs ours full" if full.wal_per_row else "-"])
    return markdown_table(["side", "size", "rows purged", "purge time", "roll-up (apart)", "µs/row",
                           "WAL", "WAL B/row", "its time / ours", "its WAL per row / ours"], rows)


def _wal_lines(results: list[Result]) -> str:
    """WAL per purged row: the purge alone (the issue's figure) and the whole sweep, against
    batched DELETE's on the sample."""
    batched = next((r for r in results if r.side == "batched DELETE"), None)
    lines = []
    for r in results:
        if r.side != "ours" or not r.rows:
            continue
        whole = (r.wal_bytes + r.rollup_wal) / r.rows
        line = (f"WAL per purged row, ours ({r.note}): purge {r.wal_per_row:.2f} B, "
                f"roll-up + purge {whole:.2f} B")
        if batched is not None and r.wal_per_row and whole:
            line += (f"; batched DELETE (sample) {batched.wal_per_row:.1f} B = "
                     f"{batched.wal_per_row / r.wal_per_row:.0f}x the purge's (target ≥ 100x), "
                     f"{batched.wal_per_row / whole:.1f}x the whole sweep's")
        lines.append(line + ".")
    return "\n".join(lines)


def run(argv: list[str]) -> int:
    from bench.common import machine_report, throwaway_postgres

    parser = argparse.ArgumentParser(prog="python -m bench sweep", description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=20_000_000)
    parser.add_argument("--tenants", type=int, default=100)
    parser.add_argument("--days", type=int, default=2 * PURGE_DAYS)
    parser.add_argument("--sample", type=int, default=200_000, help="expired rows of the baselines' sample")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--quick", action="store_true", help="200k events, 10 tenants, 20k sample")
    parser.add_argument("--no-baselines", action="store_true",
                        help="ours only (the baselines' per-row figures from an earlier run)")
    args = parser.parse_args(argv)
    if args.quick:
        args.events, args.tenants, args.sample = 200_000, 10, 20_000
    with throwaway_postgres("mailadmin-bench-sweep-") as (url, version):
        from bench.common import django_on_postgres

        django_on_postgres(url)
        server = url.rsplit("/", 1)[0]
        with contextlib.suppress(Exception):
            from django.db import connections

            connections.close_all()
        rates = [_load(server, "sample", events=2 * args.sample, tenants=args.tenants,
                       days=args.days, seed=args.seed)]
        results = [] if args.no_baselines else [
            _scenario(server, "sample", "QuerySet.delete()", _queryset_delete, "sample"),
            _scenario(server, "sample", "batched DELETE", _batched_delete, "sample"),
        ]
        results.append(_scenario(server, "sample", "ours", _ours, "sample"))
        writes = 300 if args.quick else 2000
        print("  sign-in writes alone and during a paced sweep on sample…", file=sys.stderr, flush=True)
        signin = _signin_writes(server, "sample", writes=writes)
        print(_signin_table(signin), file=sys.stderr, flush=True)
        rates.append(_load(server, "tenth", events=args.events // 10, tenants=args.tenants,
                           days=args.days, seed=args.seed))
        results.append(_scenario(server, "tenth", "ours", _ours, "1/10"))
        _drop(server, "tenth")
        rates.append(_load(server, "full", events=args.events, tenants=args.tenants, days=args.days,
                           seed=args.seed))
        results.append(_scenario(server, "full", "ours", _ours, "full"))
        full = results[-1]
        tenth = results[-2]
        print("## bench sweep\n")
        print(machine_report({"PostgreSQL": version, "events": f"{args.events:,}",
                              "tenants": str(args.tenants), "days": str(args.days),
                              "load rate": f"{min(rates):,.0f} to {max(rates):,.0f} rows/s"}))
        print()
        print(_table(results, full))
        growth = full.seconds / tenth.seconds if tenth.seconds else float("inf")
        print(f"\nGrowth: purging {full.rows:,} rows took {full.seconds:.2f} s, {tenth.rows:,} rows "
              f"{tenth.seconds:.2f} s: {growth:.2f}x the time for {full.rows / max(1, tenth.rows):.1f}x "
              f"the rows (target ≤ 2x).")
        print("Baselines at full size are extrapolated per row from the sample (marked); they were not run.")
        print()
        print(_wal_lines(results))
        alone, during = _percentile(signin.between, 0.99), _percentile(signin.during, 0.99)
        print(f"\nSign-in write (one LoginEvent in its own transaction) during a production-paced sweep "
              f"of the sample (another process; {signin.purged:,} rows purged in "
              f"{signin.sweep_seconds:.1f} s of sweep time): p99 {during * 1e3:.2f} ms while it runs "
              f"against {alone * 1e3:.2f} ms in the windows it is stopped, "
              f"{during / alone if alone else float('inf'):.2f}x (target within 1.2x).\n")
        print(_signin_table(signin))
    return 0


if __name__ == "__main__":
    sys.exit(run(sys.argv[1:]))
