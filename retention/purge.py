"""The two ways the sweep deletes: whole day partitions, and bounded batches.

Partitions (PostgreSQL): a day partition of the record is dropped when every tenant with rows in
it has that day rolled up and past its purge date, and no legal hold covers a row in it. The
checks and the per-tenant row counts are taken while the partition itself is locked against
writers (nobody writes a six-month-old day, so this waits on nothing); then a few such
partitions go in one ``DROP TABLE`` (``partitions_drop``), in the same transaction, under a
short ``lock_timeout`` (a timeout leaves the days for the batches, or the next night).

Why a DROP of the attached partition and not DETACH then DROP: PostgreSQL has no ``DETACH …
CONCURRENTLY`` when the table has a DEFAULT partition, so both take the parent's (and
DEFAULT's) ACCESS EXCLUSIVE lock anyway; but a detached partition becomes a table with foreign
keys of its own, so DETACH creates action triggers on the tables it references (people,
tenants) and the DROP that follows removes them, taking an ACCESS EXCLUSIVE lock on
``accounts_user`` and ``tenants_tenant``, which every sign-in reads and whose rows its insert
locks for its foreign-key checks (the two deadlock). An attached partition's foreign keys are
the parent's: dropping it touches only itself, the parent and DEFAULT, for a catalogue change,
and writes no more WAL than those catalogue rows. A few partitions per transaction make the
other sessions rebuild the parent's partition list once, not once per day.

Batches: rows of a tenant are deleted ``batch_size`` at a time, each batch its own short
transaction: the ids are read first, then deleted by id (on the partitioned tables with the
time bound too, so only the old partitions are visited). No signal, no collector, no cascade:
nothing holds a foreign key to these rows except what ``_DEPENDENTS`` lists (axes' attempt
expirations, the outbox's delivery attempts) and what a registered table names
(``retention.registry``), deleted first in the same transaction. Alert
evidence is not deleted: its raw IP and User-Agent are blanked in batches the same way.

Every transaction of the sweep that reads many rows runs with ``sweep_statement_settings``: no
parallel workers (the sweep uses one core; the other stays the sign-in's), no JIT (compiling a
big aggregate costs more CPU than it saves) and a ``work_mem`` that keeps its hash aggregates in
memory.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from axes.models import AccessAttempt, AccessAttemptExpiration
from django.db import DatabaseError, connection, transaction
from django.db.models import Model, QuerySet

from activity.partitions import PARTITIONED_TABLES, day_bounds, is_partitioned, partitions_list
from alerts.models import AlertEvidence
from notifications.models import DeliveryAttempt, OutboxMessage, WebhookDelivery
from retention.due import Holds
from retention.models import RolledUpDay
from retention.registry import dependents_of

SWEEP_WORK_MEM = "64MB"


def sweep_statement_settings(cursor: Any) -> None:
    """SET LOCAL (this transaction only) what keeps the sweep on one core and in memory."""
    if connection.vendor != "postgresql":
        return
    cursor.execute("SET LOCAL max_parallel_workers_per_gather = 0")
    cursor.execute("SET LOCAL jit = off")
    cursor.execute(f"SET LOCAL work_mem = '{SWEEP_WORK_MEM}'")


# Rows that point at a purged row without a database cascade: deleted with it, first.
_DEPENDENTS: dict[type[Model], tuple[tuple[type[Model], str], ...]] = {
    AccessAttempt: ((AccessAttemptExpiration, "access_attempt_id"),),
    OutboxMessage: ((DeliveryAttempt, "message_id"),),
    WebhookDelivery: ((DeliveryAttempt, "webhook_delivery_id"),),
}


def _has_tenant(model: type[Model]) -> bool:
    return any(f.name == "tenant" for f in model._meta.fields)


@dataclass
class Dropped:
    """One dropped partition: its name, and how many rows of each tenant went with it."""

    table: str
    name: str
    day: dt.date
    rows_by_tenant: dict[int, int] = field(default_factory=dict)


def delete_batch(rows: QuerySet[Model], *, batch_size: int, time_column: str | None = None,
                 before: dt.datetime | None = None) -> int:
    """Delete up to ``batch_size`` rows of ``rows`` in one short transaction; returns how many."""
    model = rows.model
    with transaction.atomic():
        ids = list(rows.values_list("pk", flat=True)[:batch_size])
        if not ids:
            return 0
        target = model._base_manager.filter(pk__in=ids)
        if time_column is not None and before is not None:
            target = target.filter(**{f"{time_column}__lt": before})
        dependents = _DEPENDENTS.get(model) or dependents_of(model)
        # A tenant-owned dependent's indexes start with the tenant (the outbox's attempts are
        # indexed by (tenant, message, at)): name the batch's tenants so the delete uses them.
        tenant_ids = (set(target.values_list("tenant_id", flat=True))
                      if any(_has_tenant(d) for d, _column in dependents) else set())
        for dependent, column in dependents:
            related = dependent._base_manager.filter(**{f"{column}__in": ids})
            if _has_tenant(dependent):
                related = related.filter(tenant_id__in=tenant_ids)
            related._raw_delete(connection.alias)
        return int(target._raw_delete(connection.alias))


def blank_batch(rows: QuerySet[AlertEvidence], *, batch_size: int) -> int:
    """Blank the raw IP and User-Agent of up to ``batch_size`` evidence rows; returns how many."""
    with transaction.atomic():
        ids = list(rows.values_list("pk", flat=True)[:batch_size])
        if not ids:
            return 0
        return int(AlertEvidence._base_manager.filter(pk__in=ids).update(ip=None, user_agent=""))


def blank_all(rows: QuerySet[AlertEvidence], *, batch_size: int, pause: Callable[[], bool],
              on_batch: Callable[[int], None]) -> tuple[int, bool]:
    total = 0
    while True:
        done = blank_batch(rows, batch_size=batch_size)
        total += done
        if done:
            on_batch(done)
        if done < batch_size:
            return total, True
        if not pause():
            return total, False


def delete_all(rows: QuerySet[Model], *, batch_size: int, pause: Callable[[], bool],
               on_batch: Callable[[int], None], time_column: str | None = None,
               before: dt.datetime | None = None) -> tuple[int, bool]:
    """Batches until nothing is left or ``pause`` says stop; returns (rows deleted, finished)."""
    total = 0
    while True:
        deleted = delete_batch(rows, batch_size=batch_size, time_column=time_column, before=before)
        total += deleted
        if deleted:
            on_batch(deleted)
        if deleted < batch_size:
            return total, True
        if not pause():
            return total, False


def _held_in(cursor: object, name: str, holds: dict[int, Holds], tenant_ids: set[int],
             table: str) -> bool:
    for tenant_id in tenant_ids:
        tenant_holds = holds.get(tenant_id)
        if tenant_holds is None or not tenant_holds.any:
            continue
        if tenant_holds.whole_tenant:
            return True
        people = sorted(tenant_holds.person_ids)
        # Only our partition's name is interpolated; the values are parameters.
        sql = f'SELECT EXISTS (SELECT 1 FROM "{name}" WHERE tenant_id = %s AND (user_id = ANY(%s)'  # noqa: S608  # nosec B608
        params: list[object] = [tenant_id, people]
        if table == "activity_loginevent":
            sql += " OR attempted_login = ANY(%s)"
            params.append(sorted(tenant_holds.emails))
        cursor.execute(sql + "))", params)  # type: ignore[attr-defined]
        if cursor.fetchone()[0]:  # type: ignore[attr-defined]
            return True
    return False


def droppable_partitions(*, before: dt.date) -> list[tuple[str, str, dt.date]]:
    """(table, partition, day) of the record's day partitions strictly before ``before``."""
    if connection.vendor != "postgresql":
        return []
    found = []
    for table in PARTITIONED_TABLES:
        for partition in partitions_list(table=table):
            if partition.day is not None and partition.day < before:
                found.append((table, partition.name, partition.day))
    return sorted(found, key=lambda item: (item[2], item[0]))


# Every index of the record starts with the tenant, so each of these is a few index descents:
# the tenants with a row in one partition (a skip scan: one descent per tenant present), which
# of some tenants have a row in it, and each tenant's oldest row in DEFAULT before its cutoff.
# Only our own partitions' names are interpolated (``_check_partition``); values are parameters.
_TENANTS_IN = ('WITH RECURSIVE t(id) AS (SELECT min(tenant_id) FROM "{name}" UNION ALL'
               ' SELECT (SELECT min(tenant_id) FROM "{name}" WHERE tenant_id > t.id) FROM t'
               ' WHERE t.id IS NOT NULL) SELECT id FROM t WHERE id IS NOT NULL')
_ANY_OF = ('SELECT t.id FROM unnest(%s::bigint[]) AS t(id)'
           ' WHERE EXISTS (SELECT 1 FROM "{name}" p WHERE p.tenant_id = t.id)')
_OLDEST_BEFORE = ('SELECT t.id, (SELECT min(occurred_at) FROM "{name}" p WHERE p.tenant_id = t.id'
                  ' AND p.occurred_at < t.before) FROM unnest(%s::bigint[], %s::timestamptz[])'
                  ' AS t(id, before)')


def _check_partition(table: str, name: str) -> None:
    if table not in PARTITIONED_TABLES or not name.startswith(f"{table}_"):
        raise ValueError(f"{name!r} is not a partition of the record")


def partition_tenants(cursor: Any, *, table: str, name: str) -> set[int]:
    """The tenants with at least one row in one partition of the record."""
    _check_partition(table, name)
    cursor.execute(_TENANTS_IN.format(name=name))
    return {int(tenant_id) for (tenant_id,) in cursor.fetchall()}


def record_first_days(*, purge_days: dict[int, dt.date],
                      pace: Callable[[], object] = lambda: None) -> dict[int, dt.date] | None:
    """Each tenant's oldest UTC day before its purge day with a sign-in or export row (tenants
    with none are left out); None where the record is not partitioned (SQLite).

    Partition by partition, oldest first, and only the tenants not found yet: each probe is an
    index lookup in one small table, so the cost follows partitions and tenants, never rows,
    and nothing is planned across every partition at once. ``pace`` is called after each probe
    (the sweep rests in proportion to its work)."""
    if connection.vendor != "postgresql" or not purge_days:
        return None if connection.vendor != "postgresql" else {}
    ids = sorted(purge_days)
    firsts: dict[int, dt.date] = {}

    def found(tenant_id: int, day: dt.date) -> None:
        firsts[tenant_id] = min(firsts.get(tenant_id, day), day)

    with connection.cursor() as cursor:
        for table in PARTITIONED_TABLES:
            if not is_partitioned(cursor, table):
                return None
            partitions = partitions_list(table=table)
            days = sorted((p for p in partitions if p.day is not None), key=lambda p: p.day or dt.date.min)
            for default in (p for p in partitions if p.is_default):
                _check_partition(table, default.name)
                cursor.execute(_OLDEST_BEFORE.format(name=default.name),
                               [ids, [day_bounds(purge_days[i])[0] for i in ids]])
                for tenant_id, first in cursor.fetchall():
                    if first is not None:
                        found(int(tenant_id), first.astimezone(dt.UTC).date())
                pace()
            seen: set[int] = set()  # found in a day partition of this table: older ones come first
            for partition in days:
                assert partition.day is not None
                wanted = [i for i in ids if i not in seen and partition.day < purge_days[i]]
                if not wanted:
                    if all(i in seen or partition.day >= purge_days[i] for i in ids):
                        break
                    continue
                _check_partition(table, partition.name)
                cursor.execute(_ANY_OF.format(name=partition.name), [wanted])
                for (tenant_id,) in cursor.fetchall():
                    seen.add(int(tenant_id))
                    found(int(tenant_id), partition.day)
                pace()
    return firsts


def _droppable(cursor: Any, *, table: str, name: str, day: dt.date, purge_days: dict[int, dt.date],
               holds: dict[int, Holds]) -> dict[int, int] | None:
    """Lock one partition against writers and say how many rows of each tenant it holds; None
    when it must stay (a tenant not yet past its purge date, a day not rolled up for everyone, a
    held row).

    The counts are the roll-up's: it read every row of the day and its marks say how many each
    tenant had. Under this lock one count of the partition checks that they still hold (no row
    came in since the roll-up, none of a tenant went in batches that stopped midway); when it
    differs, each tenant's rows are counted exactly instead."""
    # Writers of this (old) partition wait; readers and every other day go on.
    cursor.execute(f'LOCK TABLE "{name}" IN SHARE ROW EXCLUSIVE MODE')
    tenants = partition_tenants(cursor, table=table, name=name)
    if any(tenant_id not in purge_days or day >= purge_days[tenant_id] for tenant_id in tenants):
        return None
    column = "login_events" if table == "activity_loginevent" else "export_events"
    rolled = dict(RolledUpDay.objects.filter(day=day, tenant_id__in=tenants)
                  .values_list("tenant_id", column))
    if set(rolled) != tenants or _held_in(cursor, name, holds, tenants, table):
        return None
    cursor.execute(f'SELECT count(*) FROM "{name}"')  # noqa: S608  # nosec B608  # our partition's name only
    if int(cursor.fetchone()[0]) == sum(rolled.values()):
        return {int(tenant_id): int(count) for tenant_id, count in rolled.items() if count}
    cursor.execute(f'SELECT tenant_id, count(*) FROM "{name}" GROUP BY tenant_id')  # noqa: S608  # nosec B608
    return {int(t): int(n) for t, n in cursor.fetchall()}


def partitions_drop(*, table: str, partitions: Sequence[tuple[str, dt.date]],
                    purge_days: dict[int, dt.date], holds: dict[int, Holds],
                    lock_timeout_ms: int) -> tuple[list[Dropped], str | None]:
    """Drop those of ``partitions`` whose rows may all go, in one transaction; returns them and,
    when the parent's lock timed out, why none was dropped (the caller logs it). A partition
    that must stay (a hold, a tenant keeping it, a day not rolled up) is left and not returned."""
    for name, _day in partitions:
        if table not in PARTITIONED_TABLES or not name.startswith(f"{table}_p"):
            raise ValueError(f"{name!r} is not a day partition of the record")
    dropped: list[Dropped] = []
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            sweep_statement_settings(cursor)
            for name, day in partitions:
                rows_by_tenant = _droppable(cursor, table=table, name=name, day=day,
                                            purge_days=purge_days, holds=holds)
                if rows_by_tenant is not None:
                    dropped.append(Dropped(table=table, name=name, day=day, rows_by_tenant=rows_by_tenant))
            if not dropped:
                return [], None
            cursor.execute("SET LOCAL lock_timeout = %s", [f"{int(lock_timeout_ms)}ms"])
            # Only names of our own day partitions, checked above, are interpolated.
            cursor.execute("DROP TABLE " + ", ".join(f'"{one.name}"' for one in dropped))
    except DatabaseError as error:  # lock_timeout: the days wait for the batches or tomorrow
        names = ", ".join(name for name, _day in partitions)
        return [], f"{names}: {error.__class__.__name__}: {str(error).strip()[:200]}"
    return dropped, None
