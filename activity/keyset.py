"""Keyset pagination for the log pages: (time DESC, id DESC), never OFFSET, never COUNT(*).

Design: a page is "the ``size`` rows just older (or newer) than this row", found by a range
condition that the ``(tenant, time DESC, id DESC)`` indexes answer directly, so page 10,000 costs
what page 1 costs, and rows arriving meanwhile (always newer) cannot shift a page already
reached. The cursor names the boundary row as (time, id, direction); it is signed with a salt
per dataset, so a cursor of the sign-in log means nothing to the audit trail and a tampered one
is refused. Cursors carry no tenant: the tenant filter comes from the selector, so even a
validly signed cursor of another tenant only positions inside the caller's own rows.

Totals: an exact count of a tenant's tens of millions of rows is the slowest query a log page
could run, so ``count_hint`` counts at most ``cap + 1`` matching rows (a LIMITed subquery); the
page says "more than N" beyond that, and only the first page counts. A planner estimate was
tried and dropped: planning an EXPLAIN over ~100 daily partitions cost 120-150 ms per page at
10M rows (bench/log_page), more than the page itself.

Time windows: on PostgreSQL the two record tables have a partition per day, and planning a
query costs about 0.1 ms per partition it may touch, whatever the query then reads: a page over
the 90-day visible window spent most of its time being planned. So a page of a partitioned table
first asks only the day before its boundary (the cursor, or now for the first page), then the
week, then the whole window, and stops as soon as it holds a full page. Each step asks only the
ring its predecessor did not cover (the week *before* that day, then everything before the week),
bounded on both sides, so it is planned over its own partitions alone: a first page's later steps
no longer plan the days ahead and the DEFAULT partition, which only its first step can reach. The
rings are disjoint and in order, so their rows, concatenated, are exactly the rows of the whole
query: every row of a later ring is older (or, for "newer" pages, newer) than every row of an
earlier one. A busy tenant's page is then planned over two or three partitions; a quiet one's
costs at most three LIMITed queries. ``count_hint`` counts ring by ring too (the day, the week,
then the rest), skipping what the page saw whole, and stops as soon as it has more than the cap:
counting "the rest of the window" in one go planned ~90 partitions (12 ms of planning and 8 ms of
executor start-up per first page at 10M rows, bench/log_page on 2 vCPUs) to learn what the week
already said. With ``page_fetch(count_cap=...)`` a first page counts in its own statements: its
first query counts the whole week up to the cap (one subquery beside the page's rows; if the
day holds no row to carry that count, the week's ring counts itself), and a page that needed
the rest of the query counts that rest in the same statement, so a busy
tenant's first page, count included, is one query.

The top of a first page: "newest first from now" left its first query unbounded above, so it
was planned over the ~15 partitions made ahead of time and the DEFAULT one as well (5 of its
6.5 ms of planning, and half its execution, on the bench's 10M rows). A first page therefore
reads up to ``AHEAD`` (a day) past the clock, which prunes them: the record's only writer stamps
rows with the server's clock, so only a clock that is wrong by more than a day could write a row
beyond it (such a row is in the exports, not on the log pages). Its count has the same bound, so
the count and the pages agree.
"""

from __future__ import annotations

import contextlib
import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from django.core import signing
from django.db import connections
from django.db.models import Model, Q, QuerySet
from django.db.models.expressions import RawSQL
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from activity.partitions import PARTITIONED_TABLES

# A signed cursor is ~90 characters; anything far longer is garbage, refused before decoding.
CURSOR_MAX_LENGTH = 256
SIZE_DEFAULT = 50
SIZE_MIN = 10
SIZE_MAX = 200
COUNT_CAP = 1000
# Spans tried before the whole query, on day-partitioned tables (see the module docstring).
WINDOW_STEPS = (timedelta(days=1), timedelta(days=7))
# How far past the clock a first page reads on those tables (see the module docstring).
AHEAD = timedelta(days=1)

Direction = Literal["older", "newer"]


class CursorInvalid(ValueError):
    """A cursor that is not one we issued for this dataset."""


@dataclass(frozen=True, slots=True)
class Cursor:
    at: datetime
    pk: int
    direction: Direction


@dataclass(frozen=True, slots=True)
class KeysetPage[M: Model]:
    rows: list[M]
    next_cursor: str | None  # older rows
    prev_cursor: str | None  # newer rows
    has_more: bool  # rows beyond this page in the direction it was fetched
    # The span the page was complete in: rows at or after this instant (for a first page), or
    # None when it took the whole query.
    window_since: datetime | None = None
    # Rows at or after ``seen_since`` (a first page's earlier, narrower windows) were all fetched:
    # ``seen`` of them. count_hint counts only below it.
    seen_since: datetime | None = None
    seen: int = 0
    # The instant the windows were measured from (a first page's "now"); None when not windowed.
    anchor: datetime | None = None
    # With page_fetch(count_cap=N): the rows at or after ``counted_since`` (None: every row),
    # counted up to N + 1 by the page's own statements, so count_hint(cap=N) need not ask them.
    counted: int | None = None
    counted_since: datetime | None = None
    count_cap: int | None = None


@dataclass(frozen=True, slots=True)
class CountHint:
    """An exact count up to the cap, else "more than ``at_least``"."""

    exact: int | None
    at_least: int | None = None


def _time_field(model: type[Model]) -> str:
    # django-auditlog names its time column "timestamp"; the record's models say "occurred_at".
    return "occurred_at" if any(f.name == "occurred_at" for f in model._meta.fields) else "timestamp"


def _salt(model: type[Model]) -> str:
    return f"activity.keyset.{model._meta.label_lower}"


def cursor_encode(model: type[Model], *, at: datetime, pk: int, direction: Direction) -> str:
    return signing.dumps([at.isoformat(), pk, direction], salt=_salt(model), compress=False)


def cursor_decode(model: type[Model], value: str) -> Cursor:
    """The cursor in ``value``, or CursorInvalid for anything we did not issue for ``model``."""
    if not isinstance(value, str) or len(value) > CURSOR_MAX_LENGTH or not value.isascii():
        raise CursorInvalid(value)
    try:
        at_text, pk, direction = signing.loads(value, salt=_salt(model))
        at = parse_datetime(at_text)
    except (signing.BadSignature, ValueError, TypeError, json.JSONDecodeError, UnicodeError,
            OverflowError) as exc:
        raise CursorInvalid(value) from exc
    if (at is None or at.tzinfo is None or not isinstance(pk, int) or isinstance(pk, bool)
            or not 0 < pk < 2**63 or direction not in ("older", "newer")):
        raise CursorInvalid(value)
    return Cursor(at=at, pk=pk, direction=direction)


def size_clean(value: Any) -> int:
    """A page size from a query value: within [SIZE_MIN, SIZE_MAX], else the default."""
    with contextlib.suppress(TypeError, ValueError):
        size = int(str(value)[:4])
        if SIZE_MIN <= size <= SIZE_MAX:
            return size
    return SIZE_DEFAULT


def _older_than(time_field: str, cursor: Cursor) -> Q:
    # (t, id) < (t0, id0), spelt so the index gets a plain range bound on t (t <= t0) and only
    # the rows sharing t0 are filtered on id. Portable, and as good as a row comparison here.
    return Q(**{f"{time_field}__lte": cursor.at}) & (
        Q(**{f"{time_field}__lt": cursor.at}) | Q(pk__lt=cursor.pk)
    )


def _newer_than(time_field: str, cursor: Cursor) -> Q:
    return Q(**{f"{time_field}__gte": cursor.at}) & (
        Q(**{f"{time_field}__gt": cursor.at}) | Q(pk__gt=cursor.pk)
    )


def _windowed(queryset: QuerySet[Any]) -> bool:
    # Only the day-partitioned tables gain: elsewhere a narrower range saves no planning.
    return (queryset.model._meta.db_table in PARTITIONED_TABLES
            and connections[queryset.db].vendor == "postgresql")


@dataclass(frozen=True, slots=True)
class _Found[M: Model]:
    rows: list[M]
    window_since: datetime | None  # see KeysetPage
    seen_since: datetime | None
    seen: int
    anchor: datetime | None = None
    counted: int | None = None
    counted_since: datetime | None = None


_RING_COUNT = "keyset_ring_count"


def _ask[M: Model](ring: QuerySet[M], limit: int, count_cap: int | None,
                  counting: QuerySet[M] | None = None) -> tuple[list[M], int | None]:
    """The first ``limit`` rows of ``ring``, and with ``count_cap`` the rows of ``counting``
    (``ring`` itself by default) counted up to ``count_cap + 1`` by a subquery of the same
    statement (one round trip, not two). The count is None when ``ring`` has no row to carry it
    and ``counting`` is another queryset."""
    if count_cap is None:
        return list(ring[:limit]), None
    counted = ring if counting is None else counting
    # Newest first, as the page itself: the day partitions are then read in order from the newest
    # and the count stops after ``count_cap + 1`` index entries. Unordered, PostgreSQL started at
    # the oldest day of the week with a bitmap of that whole day (8 ms of a 10 ms first page).
    # The ORM's own SQL for the ring, with its values as parameters: no text from a request.
    sql, params = (counted.order_by(f"-{_time_field(ring.model)}").values("pk")[: count_cap + 1]
                   .query.sql_with_params())
    count = RawSQL(f"SELECT COUNT(*) FROM ({sql}) {_RING_COUNT}", params)  # noqa: S608, S611  # nosec B608 B611
    rows = list(ring.annotate(**{_RING_COUNT: count})[:limit])
    if rows:
        return rows, getattr(rows[0], _RING_COUNT)
    return rows, 0 if counting is None else None


def _rows_in_windows[M: Model](
    ordered: QuerySet[M], *, time_field: str, anchor: datetime | None, newer: bool, limit: int,
    windowed: bool, count_cap: int | None = None,
) -> _Found[M]:
    """The first ``limit`` rows of ``ordered``, and the windows they were found in.

    ``ordered`` runs away from ``anchor``: older first (newest first from now when ``anchor`` is
    None), or newer first when ``newer``. Each window adds the ring beyond the one before it, up to
    ``limit`` rows; the rest of the query comes last. With ``count_cap`` (a first page: older
    rows, no anchor), the first query also counts the widest window's rows, and the rest of the
    query, if asked, counts itself (see ``_ask``): the page is then counted without a query of
    its own.
    """
    rows: list[M] = []
    seen_bound: datetime | None = None  # every row on the anchor's side of it is in ``rows``
    counted: int | None = None  # rows on the anchor's side of ``counted_since``, counted
    counted_since: datetime | None = None
    start: datetime | None = None
    if windowed:
        start = anchor if anchor is not None else timezone.now()
        # The top of the first ring: the cursor's side, or for a first page AHEAD past the clock.
        top = (ordered.filter(**{f"{time_field}__lt": start + AHEAD})
               if anchor is None and not newer else ordered)
        counting = count_cap is not None and not newer
        for span in WINDOW_STEPS:
            bound = start + span if newer else start - span
            if newer:
                ring = ordered.filter(**{f"{time_field}__lte": bound})
                if seen_bound is not None:
                    ring = ring.filter(**{f"{time_field}__gt": seen_bound})
            else:
                ring = (top if seen_bound is None else
                        ordered.filter(**{f"{time_field}__lt": seen_bound}))
                ring = ring.filter(**{f"{time_field}__gte": bound})
            seen = len(rows)
            if counting and seen_bound is None:  # the first query counts the widest window
                widest = start - WINDOW_STEPS[-1]
                found, counted = _ask(ring, limit, count_cap,
                                      top.filter(**{f"{time_field}__gte": widest}))
                counted_since = widest if counted is not None else None
            elif counting and counted is None:
                # The day had no row to carry the week's count: this ring counts itself, and
                # every row after it was found already (``seen``).
                found, ring_count = _ask(ring, limit, count_cap)
                if ring_count is not None:
                    counted, counted_since = min(seen + ring_count, (count_cap or 0) + 1), bound
            else:
                found, _unused = _ask(ring, limit, None)
            rows += found
            if len(rows) >= limit:
                return _Found(rows[:limit], None if newer else bound, seen_since=seen_bound,
                              seen=seen, anchor=start, counted=counted, counted_since=counted_since)
            seen_bound = bound  # the ring held fewer than ``limit`` rows: all of them
            if (counted is not None and count_cap is not None and counted <= count_cap
                    and counted == len(rows)):
                # The widest window holds no row beyond those found: its rings need no query.
                seen_bound = counted_since
                break
    rest = ordered
    if seen_bound is not None:
        rest = ordered.filter(**{f"{time_field}__gt" if newer else f"{time_field}__lt": seen_bound})
    seen = len(rows)
    # The rest counts itself only when the rows before it are counted (or all seen) already.
    rest_cap = count_cap if seen_bound is not None and not newer else None
    found, rest_count = _ask(rest, limit, rest_cap)
    rows += found
    if rest_count is not None:
        if counted is not None and counted_since == seen_bound:
            counted, counted_since = min(counted + rest_count, (count_cap or 0) + 1), None
        elif counted is None:  # the first query found no row to carry the week's count
            counted, counted_since = min(seen + rest_count, (count_cap or 0) + 1), None
    return _Found(rows[:limit], None, seen_since=seen_bound, seen=seen, anchor=start,
                  counted=counted, counted_since=counted_since)


def page_fetch[M: Model](
    queryset: QuerySet[M], *, cursor: str | Cursor | None, size: int,
    count_cap: int | None = None,
) -> KeysetPage[M]:
    """One page of ``queryset`` (newest first) after/before ``cursor``.

    One query per page, or up to three on the day-partitioned tables (see the module docstring).
    Raises CursorInvalid for a cursor we did not issue for this model: the caller shows the
    first page and a message. ``size + 1`` rows are fetched to learn whether more exist.
    ``count_cap``: a first page's queries also count what count_hint(cap=count_cap) will need.
    """
    model = queryset.model
    time_field = _time_field(model)
    windowed = _windowed(queryset)
    size = max(1, size)
    if isinstance(cursor, str):
        cursor = cursor_decode(model, cursor)
    newest_first = queryset.order_by(f"-{time_field}", "-pk")

    def encode(row: M, direction: Direction) -> str:
        return cursor_encode(model, at=getattr(row, time_field), pk=row.pk, direction=direction)

    if cursor is not None and cursor.direction == "newer":
        rows = _rows_in_windows(
            queryset.filter(_newer_than(time_field, cursor)).order_by(time_field, "pk"),
            time_field=time_field, anchor=cursor.at, newer=True, limit=size + 1,
            windowed=windowed).rows
        more_newer = len(rows) > size
        if more_newer:
            rows = rows[:size]
            rows.reverse()
            return KeysetPage(rows=rows, next_cursor=encode(rows[-1], "older"),
                              prev_cursor=encode(rows[0], "newer"), has_more=True)
        # Back at the top: show a full first page rather than a short stub of the newest rows.
        cursor = None

    if cursor is None:
        found = _rows_in_windows(newest_first, time_field=time_field, anchor=None, newer=False,
                                 limit=size + 1, windowed=windowed, count_cap=count_cap)
        rows = found.rows
        prev_cursor = None
    else:
        found = _rows_in_windows(
            newest_first.filter(_older_than(time_field, cursor)), time_field=time_field,
            anchor=cursor.at, newer=False, limit=size + 1, windowed=windowed)
        rows = found.rows
        prev_cursor = encode(rows[0], "newer") if rows else None
    has_more = len(rows) > size
    rows = rows[:size]
    next_cursor = encode(rows[-1], "older") if has_more else None
    if cursor is not None and not rows:
        # Past the end (the rows were purged meanwhile): offer the way back to the top.
        prev_cursor = cursor_encode(model, at=cursor.at, pk=cursor.pk, direction="newer")
    return KeysetPage(rows=rows, next_cursor=next_cursor, prev_cursor=prev_cursor,
                      has_more=has_more, window_since=found.window_since,
                      seen_since=found.seen_since, seen=found.seen,
                      anchor=found.anchor if cursor is None else None,
                      counted=found.counted, counted_since=found.counted_since,
                      count_cap=count_cap if found.counted is not None else None)


def count_hint(queryset: QuerySet[Any], *, cap: int = COUNT_CAP,
               first_page: KeysetPage[Any] | None = None) -> CountHint:
    """How many rows match, without counting the whole table (see the module docstring).

    ``SELECT COUNT(*) FROM (... LIMIT n)``, at most ``cap + 1`` rows in all. Given the first page
    of ``queryset``: nothing to count when that page holds every row; what the page counted
    already (``page_fetch(count_cap=cap)``) or saw whole is not asked again; the rest is counted
    ring by ring from the page's anchor (the day, the week, then everything older), stopping as
    soon as more than ``cap`` rows are counted.
    """
    if first_page is not None and not first_page.has_more:
        return CountHint(exact=len(first_page.rows))
    time_field = _time_field(queryset.model)
    counted = 0
    below: datetime | None = None  # rows at or after it are in ``counted`` already
    anchor = first_page.anchor if first_page is not None else None
    if first_page is not None and first_page.count_cap == cap and first_page.counted is not None:
        if first_page.counted_since is None:  # every row was counted with the page
            counted = first_page.counted
            return CountHint(exact=counted) if counted <= cap else CountHint(exact=None, at_least=cap)
        counted, below = first_page.counted, first_page.counted_since
    elif first_page is not None and first_page.seen_since is not None:
        counted, below = first_page.seen, first_page.seen_since
    if counted > cap:
        return CountHint(exact=None, at_least=cap)
    bounds: list[datetime | None] = []
    if anchor is not None:
        bounds = [anchor - span for span in WINDOW_STEPS if below is None or anchor - span < below]
        if below is None:  # the top ring: as far ahead as the page read (see AHEAD)
            below = anchor + AHEAD
    for bound in [*bounds, None]:
        ring = queryset
        if bound is not None:
            ring = ring.filter(**{f"{time_field}__gte": bound})
        if below is not None:
            ring = ring.filter(**{f"{time_field}__lt": below})
        counted += ring.order_by().values("pk")[: cap + 1 - counted].count()
        if counted > cap:
            return CountHint(exact=None, at_least=cap)
        below = bound
    return CountHint(exact=counted)
