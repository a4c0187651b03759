"""Keyset pagination: stable pages while events arrive, refused cursors, no COUNT(*) / OFFSET."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import signing
from django.db import connection
from django.test.utils import CaptureQueriesContext

from activity.filters import AuditFilters, LoginEventFilters
from activity.keyset import (
    CursorInvalid,
    count_hint,
    cursor_decode,
    cursor_encode,
    page_fetch,
    size_clean,
)
from activity.models import AuditLogEntry, ExportEvent, LoginEvent
from activity.selectors import audit_entries_filtered, login_events_filtered
from tests.activity.test_log_support import login, logins_bulk, recent

pytestmark = pytest.mark.django_db


def _walk_older(queryset, size: int) -> list[int]:
    seen, cursor = [], None
    while True:
        page = page_fetch(queryset, cursor=cursor, size=size)
        seen.extend(row.pk for row in page.rows)
        if not page.has_more:
            return seen
        cursor = page.next_cursor


def test_pages_cover_every_row_once_newest_first(two_tenants) -> None:
    tenant = two_tenants.a.tenant
    logins_bulk(tenant, 37)
    logins_bulk(two_tenants.b.tenant, 20)
    events = login_events_filtered(tenant=tenant, filters=LoginEventFilters())
    expected = list(events.values_list("pk", flat=True))
    assert _walk_older(events, 10) == expected
    assert len(expected) == 37


def test_rows_sharing_one_instant_are_split_by_id(two_tenants) -> None:
    tenant = two_tenants.a.tenant
    same = recent()
    logins_bulk(tenant, 25, newest=same, step=timedelta(0))
    events = login_events_filtered(tenant=tenant, filters=LoginEventFilters())
    walked = _walk_older(events, 10)
    assert walked == sorted(walked, reverse=True) and len(set(walked)) == 25


def test_pages_stay_stable_while_new_events_arrive(two_tenants) -> None:
    tenant = two_tenants.a.tenant
    logins_bulk(tenant, 30, newest=recent(hours=2))
    events = login_events_filtered(tenant=tenant, filters=LoginEventFilters())
    first = page_fetch(events, cursor=None, size=10)
    # Newer sign-ins land while the reader is on page 1.
    logins_bulk(tenant, 7, newest=recent(minutes=1))
    second = page_fetch(events, cursor=first.next_cursor, size=10)
    third = page_fetch(events, cursor=second.next_cursor, size=10)
    old_ids = [row.pk for page in (first, second, third) for row in page.rows]
    assert len(old_ids) == len(set(old_ids)) == 30  # no duplicates, no gaps
    assert not third.has_more and third.next_cursor is None
    # Going back up from page 2 returns exactly page 1's rows, not the new ones.
    back = page_fetch(events, cursor=second.prev_cursor, size=10)
    assert [r.pk for r in back.rows] == [r.pk for r in first.rows]
    assert back.prev_cursor is not None  # the 7 newer rows are above
    top = page_fetch(events, cursor=back.prev_cursor, size=10)
    assert top.prev_cursor is None and len(top.rows) == 10  # a full first page, new rows on top


def test_newer_from_page_2_of_3_rows_shows_a_full_first_page(two_tenants) -> None:
    tenant = two_tenants.a.tenant
    logins_bulk(tenant, 15)
    events = login_events_filtered(tenant=tenant, filters=LoginEventFilters())
    first = page_fetch(events, cursor=None, size=10)
    second = page_fetch(events, cursor=first.next_cursor, size=10)
    assert len(second.rows) == 5 and second.prev_cursor and second.next_cursor is None
    back = page_fetch(events, cursor=second.prev_cursor, size=10)
    assert [r.pk for r in back.rows] == [r.pk for r in first.rows] and back.prev_cursor is None


def test_a_cursor_past_the_end_gives_an_empty_page_with_a_way_back(two_tenants) -> None:
    tenant = two_tenants.a.tenant
    rows = logins_bulk(tenant, 3)
    events = login_events_filtered(tenant=tenant, filters=LoginEventFilters())
    oldest = min(rows, key=lambda r: r.occurred_at)
    cursor = cursor_encode(LoginEvent, at=oldest.occurred_at, pk=oldest.pk, direction="older")
    page = page_fetch(events, cursor=cursor, size=10)
    assert page.rows == [] and page.next_cursor is None and page.prev_cursor is not None
    assert len(page_fetch(events, cursor=page.prev_cursor, size=10).rows) == 3


def test_audit_entries_page_on_timestamp(two_tenants) -> None:
    tenant = two_tenants.a.tenant
    entries = audit_entries_filtered(tenant=tenant, filters=AuditFilters())
    expected = list(entries.values_list("pk", flat=True))
    assert len(expected) >= 5
    assert _walk_older(entries, 2) == expected


def test_one_query_per_page_and_no_offset(two_tenants) -> None:
    tenant = two_tenants.a.tenant
    logins_bulk(tenant, 30)
    events = login_events_filtered(tenant=tenant, filters=LoginEventFilters(country="US"))
    first = page_fetch(events, cursor=None, size=10)
    with CaptureQueriesContext(connection) as queries:
        page_fetch(events, cursor=first.next_cursor, size=10)
    assert len(queries.captured_queries) == 1
    sql = queries.captured_queries[0]["sql"].upper()
    assert "OFFSET" not in sql and "LIMIT 11" in sql and "COUNT(" not in sql


def test_count_hint_is_exact_below_the_cap_and_bounded_above(two_tenants) -> None:
    tenant = two_tenants.a.tenant
    logins_bulk(tenant, 12)
    events = login_events_filtered(tenant=tenant, filters=LoginEventFilters())
    assert count_hint(events, cap=20).exact == 12
    with CaptureQueriesContext(connection) as queries:
        hint = count_hint(events, cap=5)
    assert hint.exact is None and hint.at_least == 5
    counting = queries.captured_queries[0]["sql"].upper()
    assert "LIMIT 6" in counting  # counts a LIMITed subquery, never the whole table
    assert len(queries.captured_queries) == 1


def _signed(payload: object, salt: str = "activity.keyset.activity.loginevent") -> str:
    return signing.dumps(payload, salt=salt, compress=False)


@pytest.mark.parametrize("value", [
    "", "garbage", "x" * 10_000, "eyJ0IjoxfQ:abc:def", "\x00", "é" * 10,
    _signed(["2026-03-01T00:00:00+00:00", 5, "older"], salt="activity.keyset.activity.exportevent"),
    _signed(["2026-03-01T00:00:00+00:00", 5, "sideways"]),
    _signed(["2026-03-01T00:00:00", 5, "older"]),  # naive
    _signed(["not a date", 5, "older"]),
    _signed(["2026-03-01T00:00:00+00:00", "5", "older"]),
    _signed(["2026-03-01T00:00:00+00:00", True, "older"]),
    _signed(["2026-03-01T00:00:00+00:00", -1, "older"]),
    _signed(["2026-03-01T00:00:00+00:00", 2**70, "older"]),
    _signed(["99999-03-01T00:00:00+00:00", 5, "older"]),
    _signed(["2026-03-01T00:00:00+00:00", 5]),
    _signed({"at": "2026-03-01T00:00:00+00:00"}),
    _signed(None),
], ids=lambda value: f"cursor-{len(str(value))}-{str(value)[:12]}")
def test_bad_cursors_are_refused(value: str) -> None:
    with pytest.raises(CursorInvalid):
        cursor_decode(LoginEvent, value)


def test_a_tampered_cursor_is_refused() -> None:
    good = cursor_encode(LoginEvent, at=recent(), pk=42, direction="older")
    assert cursor_decode(LoginEvent, good).pk == 42
    _payload, _, signature = good.partition(":")
    forged = signing.b64_encode(b'["2030-01-01T00:00:00+00:00",1,"older"]').decode()
    with pytest.raises(CursorInvalid):
        cursor_decode(LoginEvent, f"{forged}:{signature}")
    with pytest.raises(CursorInvalid):
        cursor_decode(LoginEvent, good[:-1] + ("A" if good[-1] != "A" else "B"))
    with pytest.raises(CursorInvalid):  # a cursor of one dataset means nothing to another
        cursor_decode(ExportEvent, good)
    with pytest.raises(CursorInvalid):
        cursor_decode(AuditLogEntry, good)


@pytest.mark.parametrize(("value", "size"), [
    (None, 50), ("", 50), ("10", 10), ("200", 200), ("201", 50), ("9", 50), ("-5", 50),
    ("1e3", 50), ("100000000000000000000", 50), ("25abc", 50), ([], 50),
])
def test_size_clean(value, size) -> None:
    assert size_clean(value) == size


def test_recorded_rows_are_on_the_first_page(two_tenants) -> None:
    tenant = two_tenants.a.tenant
    event = login(tenant, user=two_tenants.a.member)
    page = page_fetch(login_events_filtered(tenant=tenant, filters=LoginEventFilters()),
                      cursor=None, size=10)
    assert [r.pk for r in page.rows] == [event.pk] and not page.has_more
    assert page.next_cursor is None and page.prev_cursor is None


# --- Time windows on the day-partitioned tables ---------------------------------------------------


def _page_queries(events, **kwargs) -> tuple[object, list[str]]:
    with CaptureQueriesContext(connection) as queries:
        page = page_fetch(events, **kwargs)
    return page, [q["sql"].upper() for q in queries.captured_queries]


def test_a_busy_log_is_paged_from_the_last_day_alone(two_tenants) -> None:
    tenant = two_tenants.a.tenant
    logins_bulk(tenant, 40, newest=recent(minutes=5))  # all within the last hour
    events = login_events_filtered(tenant=tenant, filters=LoginEventFilters())
    first, sqls = _page_queries(events, cursor=None, size=10)
    assert len(sqls) == 1 and first.window_since is not None
    assert first.window_since > recent(hours=25)  # one day back, not the 90-day window
    second, sqls = _page_queries(events, cursor=first.next_cursor, size=10)
    assert len(sqls) == 1
    assert [r.pk for r in first.rows + second.rows] == list(events.values_list("pk", flat=True)[:20])


def test_a_sparse_log_widens_the_window_and_still_pages_every_row_in_order(two_tenants) -> None:
    tenant = two_tenants.a.tenant
    # One sign-in every 20 hours for 80 days: a page of 10 needs more than a week.
    logins_bulk(tenant, 96, newest=recent(hours=3), step=timedelta(hours=20))
    logins_bulk(two_tenants.b.tenant, 50, newest=recent(minutes=1))  # busy, but not ours
    events = login_events_filtered(tenant=tenant, filters=LoginEventFilters())
    expected = list(events.values_list("pk", flat=True))
    assert len(expected) > 90
    first, sqls = _page_queries(events, cursor=None, size=10)
    assert len(sqls) == 3  # a day, a week, then the whole visible window
    assert first.window_since is None
    assert all("OFFSET" not in sql and "LIMIT 11" in sql for sql in sqls)
    assert _walk_older(events, 10) == expected
    # And back up: "newer" pages from the bottom give the same rows.
    last = page_fetch(events, cursor=cursor_encode(
        LoginEvent, at=events.order_by("occurred_at")[0].occurred_at,
        pk=events.order_by("occurred_at")[0].pk, direction="newer"), size=10)
    assert [r.pk for r in last.rows] == expected[-11:-1]


def test_count_hint_counts_the_first_pages_window_first(two_tenants) -> None:
    tenant = two_tenants.a.tenant
    logins_bulk(tenant, 30, newest=recent(minutes=5))
    logins_bulk(tenant, 30, newest=recent(days=20))
    events = login_events_filtered(tenant=tenant, filters=LoginEventFilters())
    first = page_fetch(events, cursor=None, size=10)
    assert first.window_since is not None
    with CaptureQueriesContext(connection) as queries:
        hint = count_hint(events, cap=20, first_page=first)
    assert (hint.exact, hint.at_least) == (None, 20)
    assert len(queries.captured_queries) == 1  # more than 20 in the last day: no wider count
    with CaptureQueriesContext(connection) as queries:
        hint = count_hint(events, cap=100, first_page=first)
    # The day, the week (bounded on both sides), then the rest: a count never plans the whole
    # window while a narrower ring could still say "more than the cap".
    assert hint.exact == 60 and len(queries.captured_queries) == 3
    week = queries.captured_queries[1]["sql"].upper()
    assert week.count('"OCCURRED_AT" >= ') == 2 and '"OCCURRED_AT" < ' in week


def test_count_hint_needs_no_query_when_the_first_page_holds_everything(two_tenants) -> None:
    tenant = two_tenants.a.tenant
    logins_bulk(tenant, 4, newest=recent(days=30))
    events = login_events_filtered(tenant=tenant, filters=LoginEventFilters())
    first = page_fetch(events, cursor=None, size=10)
    with CaptureQueriesContext(connection) as queries:
        assert count_hint(events, first_page=first).exact == 4
    assert queries.captured_queries == []


def test_each_wider_window_asks_only_the_ring_the_narrower_did_not_cover(two_tenants) -> None:
    tenant = two_tenants.a.tenant
    logins_bulk(tenant, 3, newest=recent(hours=2))  # the last day holds 3 of a page of 10
    logins_bulk(tenant, 20, newest=recent(days=3), step=timedelta(hours=2))
    logins_bulk(tenant, 5, newest=recent(days=30))
    events = login_events_filtered(tenant=tenant, filters=LoginEventFilters())
    expected = list(events.values_list("pk", flat=True))
    first, sqls = _page_queries(events, cursor=None, size=10)
    assert [r.pk for r in first.rows] == expected[:10] and len(sqls) == 2
    # The week's query is bounded above by the day's lower bound, the day's by a day past the
    # clock: neither plans the partitions made ahead or the DEFAULT one.
    assert sqls[0].count('"OCCURRED_AT" < ') == 1 and sqls[1].count('"OCCURRED_AT" < ') == 1
    assert first.seen == 3 and first.seen_since is not None
    assert first.window_since is not None and first.window_since < first.seen_since
    with CaptureQueriesContext(connection) as queries:
        hint = count_hint(events, cap=10, first_page=first)
    assert (hint.exact, hint.at_least) == (None, 10) and len(queries.captured_queries) == 1
    with CaptureQueriesContext(connection) as queries:
        hint = count_hint(events, cap=100, first_page=first)
    assert hint.exact == 28 and len(queries.captured_queries) == 2  # the week's ring, the rest
    assert '"OCCURRED_AT" < ' in queries.captured_queries[1]["sql"].upper()
    assert _walk_older(events, 10) == expected


@pytest.mark.parametrize("cap", [2, 3, 4, 5, 6, 7, 8])
def test_counts_add_up_across_rings(two_tenants, cap) -> None:
    tenant = two_tenants.a.tenant
    logins_bulk(tenant, 2, newest=recent(hours=2))
    logins_bulk(tenant, 3, newest=recent(days=3))
    logins_bulk(tenant, 2, newest=recent(days=30))
    events = login_events_filtered(tenant=tenant, filters=LoginEventFilters())
    for size in (1, 2, 3, 4, 6):
        for count_cap in (None, cap):  # counted by count_hint, or by the page's own queries
            first = page_fetch(events, cursor=None, size=size, count_cap=count_cap)
            hint = count_hint(events, cap=cap, first_page=first)
            assert (hint.exact, hint.at_least) == ((7, None) if cap >= 7 else (None, cap)), (
                size, cap, count_cap)


def test_a_first_page_from_the_wider_windows_counts_itself(two_tenants) -> None:
    tenant = two_tenants.a.tenant
    logins_bulk(tenant, 2, newest=recent(hours=2))
    logins_bulk(tenant, 30, newest=recent(days=3), step=timedelta(minutes=10))
    events = login_events_filtered(tenant=tenant, filters=LoginEventFilters())
    first, sqls = _page_queries(events, cursor=None, size=10, count_cap=20)
    # The first query counts the whole week beside the day's rows; the week's ring counts nothing.
    assert len(sqls) == 2 and "COUNT(" in sqls[0] and "COUNT(" not in sqls[1]
    assert "LIMIT 21" in sqls[0] and "LIMIT 11" in sqls[0]
    with CaptureQueriesContext(connection) as queries:
        hint = count_hint(events, cap=20, first_page=first)
    assert (hint.exact, hint.at_least) == (None, 20) and queries.captured_queries == []
    with CaptureQueriesContext(connection) as queries:  # another cap: counted again
        assert count_hint(events, cap=100, first_page=first).exact == 32
    assert len(queries.captured_queries) == 2
    # Under the cap in the week: the rest of the window is still counted, once.
    first = page_fetch(events, cursor=None, size=10, count_cap=100)
    with CaptureQueriesContext(connection) as queries:
        assert count_hint(events, cap=100, first_page=first).exact == 32
    assert len(queries.captured_queries) == 1
    # A page that took the rest of the query is counted by that query alone.
    logins_bulk(tenant, 40, newest=recent(days=30))
    first, sqls = _page_queries(events, cursor=None, size=40, count_cap=100)
    assert len(sqls) == 3 and first.window_since is None and first.has_more
    with CaptureQueriesContext(connection) as queries:
        assert count_hint(events, cap=100, first_page=first).exact == 72
    assert queries.captured_queries == []


def test_a_busy_first_page_and_its_count_are_one_query(two_tenants) -> None:
    tenant = two_tenants.a.tenant
    logins_bulk(tenant, 8, newest=recent(minutes=5), step=timedelta(minutes=1))
    logins_bulk(tenant, 30, newest=recent(days=3), step=timedelta(minutes=10))
    logins_bulk(tenant, 20, newest=recent(days=30))
    events = login_events_filtered(tenant=tenant, filters=LoginEventFilters())
    first, sqls = _page_queries(events, cursor=None, size=5, count_cap=20)
    assert len(sqls) == 1 and "LIMIT 21" in sqls[0]  # the day's rows, and the week counted
    with CaptureQueriesContext(connection) as queries:
        hint = count_hint(events, cap=20, first_page=first)
    assert (hint.exact, hint.at_least) == (None, 20) and queries.captured_queries == []
    # Under the cap in the week: only what is older than the week is counted, once.
    first = page_fetch(events, cursor=None, size=5, count_cap=100)
    assert first.counted == 38
    with CaptureQueriesContext(connection) as queries:
        assert count_hint(events, cap=100, first_page=first).exact == 58
    assert len(queries.captured_queries) == 1
    # Nothing in the last day to carry the week's count: counted ring by ring afterwards.
    quiet = two_tenants.b.tenant
    logins_bulk(quiet, 30, newest=recent(days=3), step=timedelta(minutes=10))
    quiet_events = login_events_filtered(tenant=quiet, filters=LoginEventFilters())
    first, sqls = _page_queries(quiet_events, cursor=None, size=5, count_cap=20)
    assert first.counted == 21 and first.has_more  # the week's ring counted itself
    assert len(sqls) == 2 and "COUNT(" in sqls[1]
    with CaptureQueriesContext(connection) as queries:
        assert count_hint(quiet_events, cap=20, first_page=first).at_least == 20
    assert queries.captured_queries == []
    assert count_hint(quiet_events, cap=20, first_page=first).at_least == 20
    assert count_hint(quiet_events, cap=50, first_page=first).exact == 30


def test_a_first_page_reads_a_day_past_the_clock_and_counts_what_it_lists(two_tenants) -> None:
    tenant = two_tenants.a.tenant
    logins_bulk(tenant, 12, newest=recent(minutes=5))
    skewed = logins_bulk(tenant, 1, newest=recent(minutes=-50))  # a writer's clock 50 min fast
    logins_bulk(tenant, 1, newest=recent(days=-3))  # a clock three days wrong
    events = login_events_filtered(tenant=tenant, filters=LoginEventFilters())
    for count_cap in (None, 100):
        first = page_fetch(events, cursor=None, size=5, count_cap=count_cap)
        assert first.rows[0].pk == skewed[0].pk
        assert count_hint(events, cap=100, first_page=first).exact == 13
    assert _walk_older(events, 5) == list(events.values_list("pk", flat=True))[1:]


def test_rows_on_a_window_boundary_are_listed_once(two_tenants) -> None:
    import time_machine

    tenant = two_tenants.a.tenant
    now = recent(minutes=0)
    with time_machine.travel(now, tick=False):
        for boundary in (now - timedelta(days=1), now - timedelta(days=7)):
            # Just inside, on it, just outside; and two more exactly on it.
            logins_bulk(tenant, 3, newest=boundary + timedelta(seconds=1), step=timedelta(seconds=1))
            logins_bulk(tenant, 2, newest=boundary, step=timedelta(0))
        events = login_events_filtered(tenant=tenant, filters=LoginEventFilters())
        expected = list(events.values_list("pk", flat=True))
        for size in (2, 4, 5, 6, 9, 11, 30):
            assert _walk_older(events, size) == expected, size
            first = page_fetch(events, cursor=None, size=size)
            if first.has_more:
                assert count_hint(events, cap=6, first_page=first).at_least == 6
            assert count_hint(events, cap=100, first_page=first).exact == len(expected) == 10
