"""Daily range partitions of the record's two large tables, on PostgreSQL.

Design
------
``activity_loginevent`` and ``activity_exportevent`` grow by millions of rows a month and are
read almost only "one tenant, newest first, within a date range". On PostgreSQL (migration
``activity.0003_partition_record_tables``) each is ``PARTITION BY RANGE (occurred_at)``:

- **Daily partitions**, bounds at 00:00 UTC, named ``<table>_pYYYYMMDD``. Retention purges
  whole days after 180 days and keeps 90 visible: dropping one day's partition is instant and
  leaves no dead tuples for VACUUM, where a DELETE of a month's rows would not; and the log
  page's date filters (whole days in the tenant's zone, at most one UTC day off at each end)
  prune to the days asked for. 180 to 200 partitions per table is well inside what PostgreSQL 15
  plans quickly; monthly partitions would make the purge either a month late or a DELETE.
- **A DEFAULT partition** (``<table>_default``) catches a row whose day has no partition yet
  (the beat task did not run, a clock far off, an imported history), so no insert ever fails.
  ``partitions_ensure`` moves such rows into their day's partition when it creates it: under a
  lock that blocks writers of that table (readers go on), the rows are deleted from DEFAULT
  into a temporary table, the partition is created (PostgreSQL refuses to create it while
  DEFAULT holds rows of its range) and the rows are inserted back through the parent. It is
  normally empty, so the check costs a scan of nothing.
- **``id`` stays Django's primary key.** A unique constraint on a partitioned table must
  include the partition key, so the physical primary key is ``(id, occurred_at)``; ``id`` comes
  from one identity sequence on the parent, so it is unique anyway and URLs, the admin and
  ``.get(pk=…)`` keep working (a lookup by id alone probes each partition's primary-key index:
  fine for one detail page, never done in a list). Django's model state is unchanged, so
  ``makemigrations`` sees nothing. Nothing may hold a database foreign key *to* these tables
  (it would need a unique ``id``): reference them with ``db_constraint=False``.
- Indexes are declared on the model as before; created on the parent, PostgreSQL creates them
  on every partition, present and future (but ``CREATE INDEX CONCURRENTLY`` is not supported on
  a partitioned table: a new index needs a hand-written migration, per partition then ATTACH).
- SQLite (the embedded default) keeps plain tables; every function here is a no-op there.

``partitions_ensure`` runs daily on beat (``activity.partitions_ensure``) and creates today
through 14 days ahead, so a missed run or two never sends rows to DEFAULT.
``partition_drop_before`` is for the retention sweep: it drops whole days only; rows of those
days that sit in DEFAULT, and tenants whose retention is shorter than the oldest kept day, are
the sweep's DELETE.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.utils import timezone

PARTITIONED_TABLES = ("activity_loginevent", "activity_exportevent")
PARTITION_KEY = "occurred_at"
DAYS_AHEAD_DEFAULT = 14
DEFAULT_SUFFIX = "_default"
_DAY_SUFFIX = re.compile(r"_p(\d{8})$")


@dataclass(frozen=True, slots=True)
class Partition:
    """One partition of a record table: a UTC day, or the DEFAULT partition (``day`` None)."""

    name: str
    day: date | None

    @property
    def is_default(self) -> bool:
        return self.day is None


def partition_name(table: str, day: date) -> str:
    return f"{table}_p{day:%Y%m%d}"


def default_partition_name(table: str) -> str:
    return f"{table}{DEFAULT_SUFFIX}"


def day_bounds(day: date) -> tuple[datetime, datetime]:
    """[start, end) of a UTC day, the range of its partition."""
    start = datetime.combine(day, time.min, tzinfo=UTC)
    return start, start + timedelta(days=1)


def _is_postgres(using: str) -> bool:
    return connections[using].vendor == "postgresql"


def _check_table(table: str) -> None:
    # Table names are interpolated into DDL: only ours, never a caller's string.
    if table not in PARTITIONED_TABLES:
        raise ValueError(f"{table!r} is not a partitioned record table")


def _literal(value: datetime) -> str:
    # Partition bounds must be literals in DDL (no parameters); an ISO string with its offset
    # means the same instant whatever the session's TimeZone.
    return f"'{value.isoformat()}'"


def is_partitioned(cursor: Any, table: str) -> bool:
    cursor.execute(
        "SELECT EXISTS (SELECT 1 FROM pg_partitioned_table p JOIN pg_class c ON c.oid = p.partrelid"
        " WHERE c.relname = %s AND pg_catalog.pg_table_is_visible(c.oid))",
        [table],
    )
    return bool(cursor.fetchone()[0])


def _partitions(cursor: Any, table: str) -> list[Partition]:
    cursor.execute(
        "SELECT c.relname, c.oid = p.partdefid FROM pg_inherits i"
        " JOIN pg_class c ON c.oid = i.inhrelid"
        " JOIN pg_class parent ON parent.oid = i.inhparent"
        " JOIN pg_partitioned_table p ON p.partrelid = parent.oid"
        " WHERE parent.relname = %s AND pg_catalog.pg_table_is_visible(parent.oid)"
        " ORDER BY c.relname",
        [table],
    )
    found: list[Partition] = []
    for name, is_default in cursor.fetchall():
        if is_default:
            found.append(Partition(name=name, day=None))
        elif match := _DAY_SUFFIX.search(name):
            found.append(Partition(name=name, day=datetime.strptime(match[1], "%Y%m%d").date()))  # noqa: DTZ007  # a date, no time of day
    return found


def columns(cursor: Any, table: str) -> list[str]:
    """The table's live columns in order (explicit lists survive dropped columns)."""
    cursor.execute(
        "SELECT a.attname FROM pg_attribute a WHERE a.attrelid = %s::regclass AND a.attnum > 0"
        " AND NOT a.attisdropped ORDER BY a.attnum",
        [table],
    )
    return [row[0] for row in cursor.fetchall()]


def default_partition_create(cursor: Any, table: str, *, parent: str | None = None) -> None:
    """Create ``table``'s DEFAULT partition (of ``parent``, see ``day_partitions_create``)."""
    _check_table(table)
    cursor.execute(
        f'CREATE TABLE IF NOT EXISTS "{default_partition_name(table)}"'
        f' PARTITION OF "{parent or table}" DEFAULT'
    )


def day_partitions_create(cursor: Any, table: str, days: Iterable[date], *,
                          parent: str | None = None) -> list[str]:
    """Create the missing day partitions of ``table`` (call inside a transaction).

    ``parent`` is the relation to attach them to when it is not yet called ``table`` (the
    migration builds the partitioned table under a temporary name). Rows of those days waiting
    in DEFAULT are moved into their partition.
    """
    _check_table(table)
    parent = parent or table
    # Writers wait while partitions change (readers do not): a row inserted into DEFAULT for a
    # day between our move and our CREATE would make the CREATE fail.
    cursor.execute(f'LOCK TABLE ONLY "{parent}" IN SHARE ROW EXCLUSIVE MODE')
    present = _partitions(cursor, parent)
    existing = {p.day for p in present}
    has_default = any(p.is_default for p in present)
    created: list[str] = []
    for day in sorted(set(days) - existing):
        name = partition_name(table, day)
        start, end = day_bounds(day)
        moved = has_default and _default_rows_set_aside(cursor, table, parent, start, end)
        cursor.execute(
            f'CREATE TABLE IF NOT EXISTS "{name}" PARTITION OF "{parent}"'
            f" FOR VALUES FROM ({_literal(start)}) TO ({_literal(end)})"
        )
        if moved:
            cols = ", ".join(f'"{c}"' for c in columns(cursor, parent))
            cursor.execute(f'INSERT INTO "{parent}" ({cols}) SELECT {cols} FROM "_partition_move"')  # noqa: S608  # our table and catalogue names  # nosec B608
            cursor.execute('DROP TABLE "_partition_move"')
        created.append(name)
    return created


def _default_rows_set_aside(cursor: Any, table: str, parent: str, start: datetime,
                         end: datetime) -> bool:
    """Move DEFAULT's rows in [start, end) to a temporary table; False when there are none."""
    default = default_partition_name(table)
    # Only our table names are interpolated; the bounds are parameters.
    in_range = f"{PARTITION_KEY} >= %s AND {PARTITION_KEY} < %s"
    cursor.execute(f'SELECT EXISTS (SELECT 1 FROM "{default}" WHERE {in_range})', [start, end])  # noqa: S608  # nosec B608
    if not cursor.fetchone()[0]:
        return False
    cols = ", ".join(f'"{c}"' for c in columns(cursor, parent))
    cursor.execute(f'CREATE TEMPORARY TABLE "_partition_move" (LIKE "{parent}") ON COMMIT DROP')
    cursor.execute(
        f'WITH moved AS (DELETE FROM "{default}" WHERE {in_range} RETURNING {cols})'  # noqa: S608  # nosec B608
        f' INSERT INTO "_partition_move" ({cols}) SELECT {cols} FROM moved',
        [start, end],
    )
    return True


def _days(first: date, count: int) -> list[date]:
    return [first + timedelta(days=n) for n in range(count)]


def partitions_ensure(*, days_ahead: int = DAYS_AHEAD_DEFAULT, today: date | None = None,
                      using: str = DEFAULT_DB_ALIAS) -> list[str]:
    """Create the missing daily partitions of both tables from ``today`` to ``today + days_ahead``.

    Idempotent; returns the partitions it created. ``today`` defaults to the current UTC day.
    Rows already waiting in DEFAULT for those days are moved into their partitions. No-op
    (returns []) on other databases than PostgreSQL.
    """
    if days_ahead < 0:
        raise ValueError("days_ahead cannot be negative")
    if not _is_postgres(using):
        return []
    first = today or timezone.now().astimezone(UTC).date()
    days = _days(first, days_ahead + 1)
    created: list[str] = []
    with transaction.atomic(using=using), connections[using].cursor() as cursor:
        for table in PARTITIONED_TABLES:
            if not is_partitioned(cursor, table):
                raise RuntimeError(f"{table} is not partitioned: run the activity migrations")
            # Cheap check first, so the daily run takes no lock when nothing is missing.
            existing = {p.day for p in _partitions(cursor, table)}
            if set(days) <= existing:
                continue
            default_partition_create(cursor, table)
            created += day_partitions_create(cursor, table, days)
    return created


def partitions_list(*, table: str, using: str = DEFAULT_DB_ALIAS) -> list[Partition]:
    """The partitions of ``table``, DEFAULT first then by day; [] on SQLite."""
    _check_table(table)
    if not _is_postgres(using):
        return []
    with connections[using].cursor() as cursor:
        found = _partitions(cursor, table)
    return sorted(found, key=lambda p: (p.day is not None, p.day or date.min))


def partition_drop_before(*, table: str, day: date, using: str = DEFAULT_DB_ALIAS) -> list[str]:
    """Drop ``table``'s day partitions for days strictly before ``day``; returns their names.

    For the retention sweep, which must have rolled those days up first: this drops every
    tenant's rows of those days at once. Rows of old days waiting in DEFAULT are not touched.
    """
    _check_table(table)
    if not _is_postgres(using):
        return []
    dropped: list[str] = []
    with transaction.atomic(using=using), connections[using].cursor() as cursor:
        for partition in _partitions(cursor, table):
            if partition.day is not None and partition.day < day:
                cursor.execute(f'DROP TABLE "{partition.name}"')
                dropped.append(partition.name)
    return dropped
