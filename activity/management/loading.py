"""Bulk-loading generated sign-in rows into PostgreSQL's partitioned ``activity_loginevent``.

Design: COPY into the partitioned table costs one insert into each of its seven btree indexes
per row plus a deferred foreign-key check per row (~50k rows/s on a 2-vCPU machine, whatever
the client does). A day with no partition yet is therefore loaded the way ``pg_restore`` loads
a table: COPY into a plain table of the same shape (ids from the parent's own identity
sequence, so they stay unique), then ``ATTACH PARTITION``, which builds the indexes by sorting
and checks each foreign key with one query; a CHECK constraint on the day's bounds spares the
attach its scan. A day that already has a partition (or rows waiting in DEFAULT) gets a plain
COPY into the parent instead. Everything happens in the caller's transaction.

A producer thread turns generated rows into COPY text while the database works (psycopg
releases the GIL while it waits on the server), so the two cores are both busy.
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
COLUMNS = ("tenant_id", "user_id", "attempted_login", "occurred_at", "ip", "country",
           "user_agent", "browser_family", "browser_version", "os_family", "os_version",
           "device_type", "outcome", "reason", "mfa_method", "session_ref")
CHUNK_BYTES = 1 << 20
_ESCAPE = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})
_DONE = object()

Client = tuple[str, ...]  # ip, country, user_agent, browser/OS family and version, device type
# (tenant_id, user_id, login, epoch seconds, client, outcome, reason, mfa, session_ref)
Row = tuple[int, int | None, str, int, Client, str, str, str, str]


def _escape(value: str) -> str:
    """``value`` as COPY text: backslash, tab, LF and CR escaped (checked in C first)."""
    if value.isprintable() and "\\" not in value:  # no control character, no backslash
        return value
    return value.translate(_ESCAPE)


class CopyFormatter:
    """Rows → COPY text lines, each distinct login and client escaped once."""

    def __init__(self) -> None:
        self._clients: dict[Client, str] = {}
        self._logins: dict[str, str] = {}
        self._days: dict[int, str] = {}
        # "HH:MM:SS+00" of every second of a day, built once (~5 MB): a list index per row
        # instead of three divisions and a format.
        self._seconds = [f"{s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}+00" for s in range(86400)]

    def _time(self, at: int) -> str:
        day, second = divmod(at, 86400)
        if (prefix := self._days.get(day)) is None:
            prefix = self._days[day] = datetime.fromtimestamp(day * 86400, UTC).strftime("%Y-%m-%d ")
        return prefix + self._seconds[second]

    def chunks(self, rows: list[Row]) -> Iterator[str]:
        logins, clients, null = self._logins, self._clients, "\\N"
        lines: list[str] = []
        size = 0
        for tenant_id, user_id, login, at, client, outcome, reason, mfa, session in rows:
            if (login_text := logins.get(login)) is None:
                login_text = logins[login] = _escape(login)
            if (client_text := clients.get(client)) is None:
                client_text = clients[client] = "\t".join(map(_escape, client))
            line = (f"{tenant_id}\t{null if user_id is None else user_id}\t{login_text}\t"
                    f"{self._time(at)}\t{client_text}\t{outcome}\t{reason}\t{mfa}\t{session}\n")
            lines.append(line)
            size += len(line)
            if size >= CHUNK_BYTES:
                yield "".join(lines)
                lines.clear()
                size = 0
        if lines:
            yield "".join(lines)


_AT = itemgetter(3)  # a Row's time
Batch = tuple[list[Row], int]  # rows of one tenant-local day, and no later row is before this


def _utc_days(batches: Iterable[Batch]) -> Iterator[tuple[date, list[Row]]]:
    """Regroup tenant-local day batches (in day order) into complete UTC days, sorted by time.

    Each batch says the earliest instant a later batch can reach (the first local midnight to
    come, over the tenants' zones); a UTC day ending before it is complete.
    """
    buckets: dict[int, list[Row]] = {}
    for rows, later_from in batches:
        for row in rows:
            buckets.setdefault(row[3] // 86400, []).append(row)
        for day in sorted(d for d in buckets if (d + 1) * 86400 <= later_from):
            done = buckets.pop(day)
            done.sort(key=_AT)
            yield datetime.fromtimestamp(day * 86400, UTC).date(), done
    for day in sorted(buckets):
        done = buckets.pop(day)
        done.sort(key=_AT)
        yield datetime.fromtimestamp(day * 86400, UTC).date(), done


def _produce(batches: Iterable[Batch], out: queue.Queue[Any], stop: threading.Event) -> None:
    formatter = CopyFormatter()
    try:
        for day, rows in _utc_days(batches):
            if stop.is_set():
                return
            out.put((day, len(rows), list(formatter.chunks(rows))))
        out.put(_DONE)
    except BaseException as exc:  # handed to the consumer, which re-raises it
        out.put(exc)


def _copy(cursor: Any, table: str, chunks: list[str]) -> None:
    with cursor.cursor.copy(f'COPY "{table}" ({", ".join(COLUMNS)}) FROM STDIN') as copy:
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
            cursor.execute(f'CREATE TABLE "{name}" (LIKE "{TABLE}" INCLUDING CONSTRAINTS INCLUDING STORAGE)')
            # The parent's identity sequence by its resolved name: a default of
            # nextval(pg_get_serial_sequence(...)) would look the sequence up again for every
            # row, which costs more than the rest of the COPY.
            cursor.execute(f"ALTER TABLE \"{name}\" ALTER COLUMN id SET DEFAULT nextval(%s::regclass)",
                           [sequence])
            _copy(cursor, name, chunks)
            cursor.execute(f'ALTER TABLE "{name}" ALTER COLUMN id DROP DEFAULT')
            cursor.execute(
                f'ALTER TABLE "{name}" ADD CONSTRAINT "{name}_bounds" CHECK'
                f" (occurred_at >= '{start.isoformat()}' AND occurred_at < '{end.isoformat()}')"
            )
            cursor.execute(f'ALTER TABLE "{TABLE}" ATTACH PARTITION "{name}" FOR VALUES {bounds}')
            cursor.execute(f'ALTER TABLE "{name}" DROP CONSTRAINT "{name}_bounds"')
            existing.add(day)
            return
        partitions.day_partitions_create(cursor, TABLE, [day])  # moves DEFAULT's rows in
        existing.add(day)
    _copy(cursor, TABLE, chunks)


def copy_load(batches: Iterable[Batch], *, progress: Callable[[int], None] | None = None) -> int:
    """Load tenant-local day batches (in day order) into the record; returns the row count.

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
