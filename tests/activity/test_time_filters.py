"""The sign-in log narrowed to exact times (``since`` inclusive, ``until`` exclusive, ISO 8601,
a time without an offset read in the tenant's zone): the rows of exactly that span, page after
page; the filter form keeps them; bad values are a translated message, never a 500."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime, timedelta
from html import unescape
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone
from django.utils.translation import override

from activity.filters import login_filters_from_query
from activity.models import LoginEvent
from tests.activity.test_log_support import logins_bulk

pytestmark = pytest.mark.django_db


def _ids(html: str) -> list[int]:
    return [int(pk) for pk in re.findall(r'data-testid="signin-row" data-event="(\d+)"', html)]


def _hour_ago() -> datetime:
    """The start of an hour well inside the visible window, in UTC."""
    return (timezone.now() - timedelta(hours=5)).replace(minute=0, second=0, microsecond=0)


def test_parsing_reads_offsets_zones_and_refuses_the_rest(two_tenants):
    tenant = two_tenants.a.tenant
    tenant.timezone = "Asia/Shanghai"
    parsed = login_filters_from_query(tenant=tenant, params={
        "since": "2026-03-02T13:00:00+08:00", "until": "2026-03-02 14:00"})  # no offset: Shanghai
    dates = parsed.filters.dates
    assert parsed.errors == []
    assert dates.starts_at == datetime(2026, 3, 2, 5, tzinfo=UTC)
    assert dates.ends_before == datetime(2026, 3, 2, 6, tzinfo=UTC)
    assert parsed.as_dict() == {"since": "2026-03-02T13:00:00+08:00",
                                "until": "2026-03-02T14:00:00+08:00"}
    # "+08:00" pasted unencoded arrives as a space; "Z" is UTC
    pasted = login_filters_from_query(tenant=tenant, params={"since": "2026-03-02T13:00:00 08:00",
                                                             "until": "2026-03-02T06:00:00Z"})
    assert pasted.errors == [] and pasted.filters.dates.starts_at == datetime(2026, 3, 2, 5, tzinfo=UTC)
    assert pasted.filters.dates.ends_before == datetime(2026, 3, 2, 6, tzinfo=UTC)
    # whole days and exact times together: the narrower of each side
    both = login_filters_from_query(tenant=tenant, params={"from": "2026-03-02", "to": "2026-03-02",
                                                           "since": "2026-03-01T00:00:00Z"})
    assert both.filters.dates.starts_at == datetime(2026, 3, 1, 16, tzinfo=UTC)  # Shanghai's day
    assert both.filters.dates.ends_before == datetime(2026, 3, 2, 16, tzinfo=UTC)
    # swapped: put right, and said
    swapped = login_filters_from_query(tenant=tenant, params={"since": "2026-03-02T14:00:00Z",
                                                              "until": "2026-03-02T13:00:00Z"})
    assert swapped.filters.dates.starts_at == datetime(2026, 3, 2, 13, tzinfo=UTC)
    assert any("swapped" in e for e in swapped.errors)
    for bad in ("yesterday", "2026-03-02", "2026-13-02T10:00", "9999-12-31T23:00:00-05:00",
                "0001-01-01T00:00:00Z", "2026-03-02T10:00:00+99:00", "x" * 300, "2026-03-02T10:00\x00"):
        refused = login_filters_from_query(tenant=tenant, params={"since": bad})
        assert refused.filters.dates.starts_at is None, bad
        assert len(refused.errors) == 1 and "Since" in refused.errors[0], bad
    with override("zh-hans"):
        chinese = login_filters_from_query(tenant=tenant, params={"until": "soon"}).errors[0]
    assert chinese != login_filters_from_query(tenant=tenant, params={"until": "soon"}).errors[0]


def test_the_log_shows_exactly_the_span_page_after_page(two_tenants, signed_in):
    a, b = two_tenants.a, two_tenants.b
    start = _hour_ago()
    inside = logins_bulk(a.tenant, 60, user=a.member, newest=start + timedelta(minutes=59, seconds=59),
                         step=timedelta(seconds=59))  # 60 rows, the oldest at start + 1 s
    on_start = logins_bulk(a.tenant, 1, user=a.member, newest=start)  # since is inclusive
    logins_bulk(a.tenant, 5, user=a.member,  # the oldest exactly at until: exclusive
                newest=start + timedelta(hours=1, minutes=4))
    logins_bulk(a.tenant, 5, user=a.member, newest=start - timedelta(seconds=1))
    logins_bulk(b.tenant, 5, user=b.member, newest=start + timedelta(minutes=30))  # Globex
    expected = sorted(e.pk for e in [*inside, *on_start])
    client = signed_in(a.owner)
    query = urlencode({"since": start.isoformat(), "until": (start + timedelta(hours=1)).isoformat(),
                       "size": 25})
    url, seen = f"/logs/signins/?{query}", []
    for _page in range(5):
        response = client.get(url)
        assert response.status_code == 200
        html = response.content.decode()
        seen += _ids(html)
        older = re.search(r'href="([^"]*)" rel="next" data-testid="page-older"', html)
        if not older:
            break
        url = "/logs/signins/" + unescape(older.group(1))
        assert "since=" in url and "until=" in url
    assert sorted(seen) == expected
    assert len(seen) == 61 == len(set(seen))
    first = unescape(client.get(f"/logs/signins/?{query}").content.decode())
    assert 'data-testid="time-filter"' in first
    shown = start.astimezone(ZoneInfo(a.tenant.timezone or "UTC")).isoformat()
    assert f'<input type="hidden" name="since" value="{shown}">' in first  # the form keeps it


def test_the_export_of_the_span_has_the_same_rows(two_tenants, signed_in):
    a = two_tenants.a
    start = _hour_ago()
    logins_bulk(a.tenant, 3, user=a.member, newest=start + timedelta(minutes=10))
    logins_bulk(a.tenant, 4, user=a.member, newest=start - timedelta(minutes=10))
    query = urlencode({"since": start.isoformat(), "until": (start + timedelta(hours=1)).isoformat(),
                       "format": "csv"})
    response = signed_in(a.owner).get(f"/logs/signins/export/?{query}")
    assert response.status_code == 200
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    assert len(rows) == 3


@pytest.mark.parametrize("query", ["since=yesterday", "until=2026-02-30T10:00", "since=%00",
                                   "since=9999-12-31T23:59:59-23:59", "until=" + "9" * 500,
                                   "since=2026-03-02T10:00&until=2026-03-02T09:00&cursor=x"])
def test_bad_times_are_a_message_not_a_500(two_tenants, signed_in, query):
    a = two_tenants.a
    LoginEvent.objects.filter(tenant=a.tenant).delete()
    response = signed_in(a.owner).get(f"/logs/signins/?{query}")
    assert response.status_code == 200
    html = unescape(response.content.decode())
    assert 'data-testid="filter-errors"' in html
    assert "Since" in html or "Until" in html


def test_ones_own_history_takes_the_same_times(two_tenants, signed_in):
    a = two_tenants.a
    start = _hour_ago()
    logins_bulk(a.tenant, 2, user=a.member, newest=start + timedelta(minutes=5))
    logins_bulk(a.tenant, 3, user=a.member, newest=start - timedelta(minutes=5))
    query = urlencode({"since": start.isoformat(), "until": (start + timedelta(hours=1)).isoformat()})
    html = unescape(signed_in(a.member).get(f"/me/signins/?{query}").content.decode())
    assert html.count('data-testid="signin-row"') == 2
    chip = html.split('data-testid="time-filter"')[1].split("</p>")[0]
    assert "person=" not in chip  # one's own pages never carry an id
