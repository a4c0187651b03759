"""Bulk-loading generated sign-in rows into PostgreSQL's partitioned ``activity_loginevent``.

Design: COPY into the partitioned table costs one insert into each of its six btree indexes
per row plus a deferred foreign-key check per row (~50k rows/s on a 2-vCPU machine, whatever
the client does). A day with no partition yet is therefore loaded the way ``pg_restore`` loads
a table: COPY into a plain table of the same shape (ids from the parent's own identity
sequence, so they stay unique), then ``ATTACH PARTITION``, which builds the indexes by sorting
and checks each foreign key with one query; a CHECK constraint on the day's bounds spares the
attach its scan. The COPY is ``FREEZE``: the table is new in this transaction, so its rows are
written frozen on all-visible pages, and the attach's six heap scans test no row's visibility
(a sixth less work for the server). A day that already has a partition (or rows waiting in
DEFAULT) gets a plain COPY into the parent instead. Everything happens in the caller's
transaction.

The server is the critical path (at 10M rows on 2 vCPUs: COPY 41 s, ATTACH 64 s, of which the
six index builds are ~55 s, in one backend, while the producer below needs ~43 s of the other
core). PostgreSQL builds a btree with parallel workers, but sizes them from ``relpages``, which
is 0 for a table filled in this transaction, so every build was serial. The day's table gets
``parallel_workers = 1`` (``INDEX_BUILD_WORKERS``) for its attach, so each index is sorted by
the backend and one worker, on the core the producer leaves idle; the option is reset right
after the attach, so the partition ends exactly as ``partitions_ensure`` would make it (checked
by tests/activity/test_generate_activity.py).

A producer thread generates the rows as COPY text lines while the database works (psycopg
releases the GIL while it waits on the server), so the two cores are both busy. A line is
written when its row is drawn, from text escaped once per person and client and kept with
them (``copy_head``, ``copy_client``, ``copy_kind``), then ``CopyClock`` appends its time: the
per-row columns come last for that. Formatting after the day's rows were sorted by time read
every person and client back from all over memory (a third of the producer's time).
"""

from __future__ import annotations

import contextlib
import queue
import sys
import threading
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, date, datetime
from operator import itemgetter
from typing import Any

from django.db import connection

from activity import partitions

TABLE = "activity_loginevent"
CLIENT_COLUMNS = ("ip", "country", "user_agent", "browser_family", "browser_version", "os_family",
                  "os_version", "device_type")
# The COPY's columns, the two that differ on every row last (see the module docstring).
COLUMNS = ("tenant_id", "user_id", "attempted_login", *CLIENT_COLUMNS, "outcome", "reason",
           "mfa_method", "occurred_at", "session_ref")
CHUNK_ROWS = 4096  # about 1 MB of COPY text
INDEX_BUILD_WORKERS = 1  # parallel workers per index build of a new day (see above)
_ESCAPE = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})
_DONE = object()

Client = tuple[str, ...]  # ip, country, user_agent, browser/OS family and version, device type
# (tenant_id, user_id, login, epoch seconds, client, outcome, reason, mfa, session_ref)
Row = tuple[int, int | None, str, int, Client, str, str, str, str]
Line = tuple[int, str]  # (epoch seconds, the row's COPY text line)


def _escape(value: str) -> str:
    """``value`` as COPY text: backslash, tab, LF and CR escaped (checked in C first)."""
    if value.isprintable() and "\\" not in value:  # no control character, no backslash
        return value
    return value.translate(_ESCAPE)


def copy_head(tenant_id: int, user_id: int | None, login: str) -> str:
    """A line's tenant, person and login fields, with their separators."""
    return f"{tenant_id}\t{'\\N' if user_id is None else user_id}\t{_escape(login)}\t"


def copy_client(client: Client) -> str:
    """A line's client fields, with their separators."""
    return "".join(f"{_escape(value)}\t" for value in client)


def copy_kind(outcome: str, reason: str, mfa: str) -> str:
    """A line's outcome, reason and second-factor fields, with their separators."""
    return f"{_escape(str(outcome))}\t{_escape(str(reason))}\t{_escape(str(mfa))}\t"


class CopyClock:
    """Epoch seconds → the text of a line's last two fields: its UTC time, then its session."""

    def __init__(self) -> None:
        # "HH:MM:SS+00" of every second of a day, built once (~5 MB): a list index per row
        # instead of three divisions and a format.
        self.seconds = [f"{s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}+00" for s in range(86400)]
        self.days: dict[int, str] = {}  # day number → "YYYY-MM-DD "

    def day(self, number: int) -> str:
        if (text := self.days.get(number)) is None:
            text = self.days[number] = datetime.fromtimestamp(number * 86400, UTC).strftime("%Y-%m-%d ")
        return text

    def tail(self, at: int, session: str) -> str:
        day, second = divmod(at, 86400)
        return f"{self.day(day)}{self.seconds[second]}\t{_escape(session)}\n"


def copy_line(row: Row, clock: CopyClock) -> Line:
    """One row as (time, COPY line), the slow way: for the few rows not drawn in bulk."""
    tenant_id, user_id, login, at, client, outcome, reason, mfa, session = row
    return at, (f"{copy_head(tenant_id, user_id, login)}{copy_client(client)}"
                f"{copy_kind(outcome, reason, mfa)}{clock.tail(at, session)}")


_AT = itemgetter(0)  # a Line's time
Batch = tuple[list[Line], int]  # lines of one tenant-local day, and no later line is before this


def _utc_days(batches: Iterable[Batch]) -> Iterator[tuple[date, list[Line]]]:
    """Regroup tenant-local day batches (in day order) into complete UTC days, sorted by time.

    Each batch says the earliest instant a later batch can reach (the first local midnight to
    come, over the tenants' zones); a UTC day ending before it is complete. The sort is stable:
    lines of one instant keep their order.
    """
    buckets: dict[int, list[Line]] = {}
    for lines, later_from in batches:
        for line in lines:
            buckets.setdefault(line[0] // 86400, []).append(line)
        for day in sorted(d for d in buckets if (d + 1) * 86400 <= later_from):
            done = buckets.pop(day)
            done.sort(key=_AT)
            yield datetime.fromtimestamp(day * 86400, UTC).date(), done
    for day in sorted(buckets):
        done = buckets.pop(day)
        done.sort(key=_AT)
        yield datetime.fromtimestamp(day * 86400, UTC).date(), done


def _produce(batches: Iterable[Batch], out: queue.Queue[Any], stop: threading.Event) -> None:
    try:
        for day, lines in _utc_days(batches):
            if stop.is_set():
                return
            chunks = ["".join([text for _at, text in lines[start:start + CHUNK_ROWS]])
                      for start in range(0, len(lines), CHUNK_ROWS)]
            out.put((day, len(lines), chunks))
        out.put(_DONE)
    except BaseException as exc:  # handed to the consumer, which re-raises it
        out.put(exc)


def _copy(cursor: Any, table: str, chunks: list[str], *, freeze: bool = False) -> None:
    options = " (FREEZE)" if freeze else ""
    with cursor.cursor.copy(f'COPY "{table}" ({", ".join(COLUMNS)}) FROM STDIN{options}') as copy:
        for chunk in chunks:
            copy.write(chunk)


def _load_day(cursor: Any, day: date, chunks: list[str], existing: set[date], sequence: str) -> None:
    start, end = partitions.day_bounds(day)
    name = partitions.partition_name(TABLE, day)
    default = partitions.default_partition_name(TABLE)
    if day not in existing:
        cursor.execute(
            f'SELECT EXISTS (SELECT 1 FROM "{default}" WHERE occurred_at >= %s AND occurred_at < %s)',  # noqa: S608  # nosec B608  # our partition names; bounds are parameters
            [start, end],
        )
        if not cursor.fetchone()[0]:
            bounds = f"FROM ('{start.isoformat()}') TO ('{end.isoformat()}')"
            # INCLUDING DEFAULTS: columns the COPY leaves out (protocol) get the parent's defaults.
            cursor.execute(f'CREATE TABLE "{name}" (LIKE "{TABLE}" INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING STORAGE)')
            # The parent's identity sequence by its resolved name: a default of
            # nextval(pg_get_serial_sequence(...)) would look the sequence up again for every
            # row, which costs more than the rest of the COPY.
            cursor.execute(f"ALTER TABLE \"{name}\" ALTER COLUMN id SET DEFAULT nextval(%s::regclass)",
                           [sequence])
            _copy(cursor, name, chunks, freeze=True)  # new in this transaction: see above
            cursor.execute(
                f'ALTER TABLE "{name}" ALTER COLUMN id DROP DEFAULT, ADD CONSTRAINT "{name}_bounds" CHECK'
                f" (occurred_at >= '{start.isoformat()}' AND occurred_at < '{end.isoformat()}'),"
                f" SET (parallel_workers = {INDEX_BUILD_WORKERS})"
            )
            cursor.execute(f'ALTER TABLE "{TABLE}" ATTACH PARTITION "{name}" FOR VALUES {bounds}')
            cursor.execute(f'ALTER TABLE "{name}" DROP CONSTRAINT "{name}_bounds", RESET (parallel_workers)')
            existing.add(day)
            return
        partitions.day_partitions_create(cursor, TABLE, [day])  # moves DEFAULT's rows in
        existing.add(day)
    _copy(cursor, TABLE, chunks)


def copy_load(batches: Iterable[Batch], *, progress: Callable[[int], None] | None = None) -> int:
    """Load tenant-local day batches of lines (in day order) into the record; returns the count.

    Call inside a transaction, after ``partitions_ensure`` has given the table its DEFAULT.
    """
    # The producer holds the GIL most of the time; a short switch interval hands it back to this
    # thread as soon as the server has answered, so COPY data keeps flowing (2x on 2 vCPUs).
    switch_interval = sys.getswitchinterval()
    sys.setswitchinterval(0.0002)
    out: queue.Queue[Any] = queue.Queue(maxsize=3)
    stop = threading.Event()
    producer = threading.Thread(target=_produce, args=(batches, out, stop), daemon=True,
                                name="generate-activity")
    producer.start()
    written = 0
    try:
        with connection.cursor() as cursor:
            existing = {p.day for p in partitions.partitions_list(table=TABLE) if p.day}
            cursor.execute("SELECT pg_get_serial_sequence(%s, 'id')", [TABLE])
            sequence = cursor.fetchone()[0]
            while (item := out.get()) is not _DONE:
                if isinstance(item, BaseException):
                    raise item
                day, count, chunks = item
                _load_day(cursor, day, chunks, existing, sequence)
                written += count
                if progress is not None:
                    progress(written)
    finally:
        stop.set()
        while producer.is_alive():  # unblock a producer waiting on a full queue
            with contextlib.suppress(queue.Empty):
                out.get(timeout=0.1)
        producer.join()
        sys.setswitchinterval(switch_interval)
    return written
