"""Keyset pages of the people list under any of its orders: (sort value, id), never OFFSET.

Design: the list's queryset carries its sort key as the annotation ``SORT_KEY`` (a column, or an
expression such as the person's latest sign-in), and a page is "the ``size`` people just after
(or before) this person in (key, id) order". The id breaks ties, so the order is total and
stable: a page reached once cannot shift because other people share a role or a status. The
cursor names the boundary person's key and id, the sort and its direction, signed with a salt of
its own: a cursor of another sort (or a tampered one) is refused and the first page shown. Like
``activity.keyset`` it carries no tenant: the queryset is already the caller's tenant's.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from django.core import signing
from django.db.models import Q, QuerySet
from django.utils.dateparse import parse_datetime

from accounts.models import User

SORT_KEY = "directory_sort_key"
CURSOR_MAX_LENGTH = 512
_SALT = "people.directory.keyset"

Direction = Literal["next", "prev"]


class CursorInvalid(ValueError):
    """A cursor we did not issue for this sort and order."""


@dataclass(frozen=True, slots=True)
class Cursor:
    sort: str
    descending: bool
    value: Any
    pk: int
    direction: Direction


@dataclass(frozen=True, slots=True)
class Page:
    rows: list[User]
    next_cursor: str | None
    prev_cursor: str | None


def _value_encode(value: Any) -> list[Any]:
    if isinstance(value, datetime):
        return ["t", value.isoformat()]
    if isinstance(value, bool):
        return ["i", int(value)]
    if isinstance(value, int):
        return ["i", value]
    return ["s", str(value)]


def _value_decode(encoded: Any) -> Any:
    kind, raw = encoded
    if kind == "t" and isinstance(raw, str):
        value = parse_datetime(raw)
        if value is None or value.tzinfo is None:
            raise ValueError(raw)
        return value
    if kind == "i" and isinstance(raw, int) and not isinstance(raw, bool):
        return raw
    if kind == "s" and isinstance(raw, str):
        return raw
    raise ValueError(kind)


def cursor_encode(*, sort: str, descending: bool, value: Any, pk: int, direction: Direction) -> str:
    return signing.dumps([sort, descending, _value_encode(value), pk, direction], salt=_SALT,
                         compress=False)


def cursor_decode(raw: str, *, sort: str, descending: bool) -> Cursor:
    """The cursor in ``raw``, or CursorInvalid for anything not issued for this sort and order."""
    if not isinstance(raw, str) or len(raw) > CURSOR_MAX_LENGTH or not raw.isascii():
        raise CursorInvalid(raw)
    try:
        cursor_sort, cursor_desc, encoded, pk, direction = signing.loads(raw, salt=_SALT)
        value = _value_decode(encoded)
    except (signing.BadSignature, ValueError, TypeError, json.JSONDecodeError, UnicodeError,
            OverflowError) as exc:
        raise CursorInvalid(raw) from exc
    if (cursor_sort != sort or cursor_desc is not descending or not isinstance(pk, int)
            or isinstance(pk, bool) or not 0 < pk < 2**63 or direction not in ("next", "prev")):
        raise CursorInvalid(raw)
    return Cursor(sort=sort, descending=descending, value=value, pk=pk, direction=direction)


def _beyond(value: Any, pk: int, *, forward: bool) -> Q:
    # (key, id) > (value, pk) in the direction of travel, spelt portably.
    op = "gt" if forward else "lt"
    return Q(**{f"{SORT_KEY}__{op}": value}) | (Q(**{SORT_KEY: value}) & Q(**{f"pk__{op}": pk}))


def page_fetch(queryset: QuerySet[User], *, sort: str, descending: bool, cursor: Cursor | None,
               size: int) -> Page:
    """One page of ``queryset`` (annotated with ``SORT_KEY``) after or before ``cursor``.

    One query: ``size + 1`` rows are read to learn whether more follow.
    """
    size = max(1, size)
    ascending_order = (SORT_KEY, "pk")
    descending_order = (f"-{SORT_KEY}", "-pk")
    order = descending_order if descending else ascending_order
    reverse = ascending_order if descending else descending_order

    def encode(row: User, direction: Direction) -> str:
        return cursor_encode(sort=sort, descending=descending, value=getattr(row, SORT_KEY),
                             pk=row.pk, direction=direction)

    if cursor is not None and cursor.direction == "prev":
        # People before the cursor, nearest first, then put back in the page's order.
        rows = list(queryset.filter(_beyond(cursor.value, cursor.pk, forward=descending))
                    .order_by(*reverse)[: size + 1])
        if len(rows) > size:
            rows = rows[:size]
            rows.reverse()
            return Page(rows=rows, next_cursor=encode(rows[-1], "next"),
                        prev_cursor=encode(rows[0], "prev"))
        cursor = None  # back at the top: a full first page rather than a short stub

    ordered = queryset.order_by(*order)
    if cursor is not None:
        ordered = ordered.filter(_beyond(cursor.value, cursor.pk, forward=not descending))
    rows = list(ordered[: size + 1])
    has_more = len(rows) > size
    rows = rows[:size]
    next_cursor = encode(rows[-1], "next") if has_more else None
    prev_cursor = None
    if cursor is not None:
        prev_cursor = (encode(rows[0], "prev") if rows else
                       cursor_encode(sort=sort, descending=descending, value=cursor.value,
                                     pk=cursor.pk, direction="prev"))
    return Page(rows=rows, next_cursor=next_cursor, prev_cursor=prev_cursor)
