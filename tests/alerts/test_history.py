"""The batch History answers the rules' protocol from rows fetched once for the whole batch."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from activity.models import LoginEvent
from alerts.history import EVENT_COLUMNS, BatchHistory, HistoryNeeds, event_from_row, history_fetch
from alerts.models import Trust
from tests.alerts.detect_support import START, event, record
from tests.alerts.fakes import failure, signin

pytestmark = pytest.mark.django_db
MIN = dt.timedelta(minutes=1)
DAY = dt.timedelta(days=1)


def _needs(since: dt.datetime) -> HistoryNeeds:
    return HistoryNeeds(successes_since=since, learning=True, failures_window=dt.timedelta(minutes=15),
                        exports_since=since, trusts=True)


def test_successes_are_strictly_before_oldest_first_without_the_event_itself():
    rows = [signin(START + i * MIN, user_id=7) for i in range(5)]
    history = BatchHistory(tenant_id=1, successes=reversed(rows))
    got = history.successes(user_id=7, since=START + MIN, before=START + 4 * MIN, exclude_id=rows[2].id)
    assert [e.id for e in got] == [rows[1].id, rows[3].id]
    assert history.successes(user_id=8, since=START, before=START + DAY, exclude_id=0) == []


def test_failures_until_is_inclusive_and_networks_group_by_prefix():
    fails = [failure(START + i * MIN, login="ana@acme.example", ip=f"203.0.113.{i}") for i in range(4)]
    fails.append(failure(START + 2 * MIN, login="bo@acme.example", ip="::ffff:203.0.113.99"))
    fails.append(failure(START + 2 * MIN, login="cy@acme.example", ip="203.0.114.1"))
    history = BatchHistory(tenant_id=1, failures=fails)
    got = history.account_failures(tenant_id=1, login="ana@acme.example", since=START + MIN,
                                   until=START + 3 * MIN)
    assert [e.ip for e in got] == ["203.0.113.1", "203.0.113.2", "203.0.113.3"]
    assert history.account_failures(tenant_id=2, login="ana@acme.example", since=START,
                                    until=START + DAY) == []
    slash24 = history.network_failures(tenant_id=1, network="203.0.113.0/24", since=START,
                                       until=START + DAY)
    assert sorted(e.login for e in slash24) == ["ana@acme.example"] * 4 + ["bo@acme.example"]
    slash16 = history.network_failures(tenant_id=1, network="203.0.0.0/16", since=START,
                                       until=START + DAY)
    assert len(slash16) == 6
    assert history.network_failures(tenant_id=1, network="not a network", since=START,
                                    until=START + DAY) == []


def test_trusts_by_kind_rule_and_case():
    trusts = [
        Trust(user_id=7, kind="network", value="198.51.100.0/24", rule=""),
        Trust(user_id=7, kind="device", value="Chrome|Windows|desktop", rule=""),
        Trust(user_id=7, kind="country", value="de", rule="new_country"),
        Trust(user_id=7, kind="network", value="garbage", rule=""),
    ]
    history = BatchHistory(tenant_id=1, trusts=trusts)
    assert history.is_trusted(user_id=7, kind="network", value="198.51.100.77")
    assert not history.is_trusted(user_id=7, kind="network", value="198.51.101.1")
    assert history.is_trusted(user_id=7, kind="device", value="chrome|windows|DESKTOP")
    # A trust given for one rule counts for that rule only.
    assert not history.is_trusted(user_id=7, kind="country", value="DE")
    assert history.for_rule("new_country").is_trusted(user_id=7, kind="country", value="DE")
    assert not history.for_rule("impossible_travel").is_trusted(user_id=7, kind="country", value="DE")
    assert not history.is_trusted(user_id=8, kind="device", value="Chrome|Windows|desktop")


def test_fetch_covers_the_whole_record_for_the_learning_period(two_tenants):
    acme = two_tenants.a
    old = record(acme.tenant, [event(tenant=acme.tenant, user=acme.member, at=START + i * DAY)
                               for i in range(3)])
    recent = record(acme.tenant, [event(tenant=acme.tenant, user=acme.member, at=START + (100 + i) * DAY)
                                  for i in range(2)])
    # The other tenant's person signs in too: never part of Acme's history.
    record(two_tenants.b.tenant, [event(tenant=two_tenants.b.tenant, user=two_tenants.b.member,
                                        at=START + 101 * DAY)])
    batch = [event_from_row(row, tenant_id=acme.tenant.pk) for row in
             LoginEvent.objects.for_tenant(acme.tenant).filter(pk=recent[-1].pk).values_list(*EVENT_COLUMNS)]
    history = history_fetch(tenant_id=acme.tenant.pk, events=batch, needs=_needs(START + 90 * DAY))
    user = acme.member.pk
    assert history.first_success(user_id=user) == old[0].occurred_at
    assert history.success_count(user_id=user, before=recent[-1].occurred_at) == 4
    assert [e.id for e in history.successes(user_id=user, since=START, before=START + 200 * DAY,
                                            exclude_id=recent[-1].pk)] == [recent[0].pk]
    assert history.successes(user_id=two_tenants.b.member.pk, since=START,
                             before=START + 200 * DAY, exclude_id=0) == []


def test_fetch_makes_the_same_queries_for_3_or_300_people(two_tenants):
    acme = two_tenants.a
    rows = record(acme.tenant, [event(tenant=acme.tenant, user=acme.member, at=START + i * MIN,
                                      outcome="failure" if i % 2 else "success") for i in range(300)])
    counts = []
    for size in (3, 300):
        batch = [event_from_row(r, tenant_id=acme.tenant.pk) for r in
                 LoginEvent.objects.for_tenant(acme.tenant).filter(pk__in=[x.pk for x in rows[:size]])
                 .values_list(*EVENT_COLUMNS)]
        with CaptureQueriesContext(connection) as queries:
            history_fetch(tenant_id=acme.tenant.pk, events=batch, needs=_needs(START - DAY))
        counts.append(len(queries))
    assert counts[0] == counts[1] <= 5


def _answers(history: BatchHistory, people, logins) -> list[object]:
    window = {"since": START - DAY, "until": START + 30 * DAY}
    answers: list[object] = []
    for person in people:
        answers.append([(e.id, e.place) for e in history.successes(
            user_id=person.pk, since=START - DAY, before=START + 30 * DAY, exclude_id=0)])
        answers.append(history.first_success(user_id=person.pk))
        answers.append(history.success_count(user_id=person.pk, before=START + 12 * DAY))
        answers.append(history.is_trusted(user_id=person.pk, kind="country", value="DE"))
    for login in logins:
        answers.append([e.id for e in history.account_failures(
            tenant_id=history.tenant_id, login=login, **window)])
    answers.append([e.id for e in history.network_failures(
        tenant_id=history.tenant_id, network="198.51.100.0/24", **window)])
    return answers


def test_postgresql_statements_and_the_orm_fetch_the_same_history(two_tenants):
    """On PostgreSQL the record is read with plain statements (the batch's people as one array);
    the ORM's queries, used elsewhere, give every rule the same answers."""
    from alerts.geo import place_of

    acme = two_tenants.a
    people = [acme.member, acme.admin]
    rows = []
    for i in range(40):
        person = people[i % 2]
        rows.append(event(tenant=acme.tenant, user=person, at=START + i * 7 * 60 * MIN,
                          outcome="failure" if i % 3 == 0 else "success",
                          country="FR" if i % 5 == 0 else "DE", ip=f"198.51.100.{i}"))
    record(acme.tenant, rows)
    Trust.objects.create(tenant=acme.tenant, user=acme.member, kind="country", value="DE")
    record(two_tenants.b.tenant, [event(tenant=two_tenants.b.tenant, user=two_tenants.b.member,
                                        at=START + 3 * DAY)])
    batch = [event_from_row(r, tenant_id=acme.tenant.pk, place_of=place_of) for r in
             LoginEvent.objects.for_tenant(acme.tenant).filter(occurred_at__gte=START + 10 * DAY)
             .values_list(*EVENT_COLUMNS)]
    needs = _needs(START + 11 * DAY)
    fetched = {}
    for raw in (True, False):
        collected: dict[int, tuple] = {}
        history = history_fetch(tenant_id=acme.tenant.pk, events=batch, needs=needs,
                                place_of=place_of, rows=collected, raw=raw)
        fetched[raw] = (_answers(history, people, [p.email for p in people]), collected)
    assert fetched[True] == fetched[False]
    answers = fetched[True][0]
    assert answers[0] and answers[2] > 0 and answers[3] is True  # not a vacuous comparison
    assert any(answer for answer in answers[8:10])


def test_a_held_timeline_answers_as_a_fresh_one_after_events_arrive_late_and_out_of_order():
    """A catch-up keeps each person's timeline and adds what each batch reads; the window it
    answers with (a view, not a copy) reads as the list it stands for, hour counts included."""
    from collections import Counter
    from zoneinfo import ZoneInfo

    from alerts.history import _Timeline

    zone = ZoneInfo("Europe/Berlin")
    rows = [signin(START + i * 37 * MIN, user_id=7) for i in range(60)]
    held = _Timeline(rows[:20])
    held.hours(zone)  # computed before the late ones arrive: must follow them
    for row in rows[40:] + rows[20:40] + rows[:3]:  # later ones, then earlier, then repeats
        held.add(row)
    fresh = _Timeline(rows)
    assert [e.id for e in held.events] == [e.id for e in fresh.events]
    middle = rows[30]
    window = held.before_without(START, rows[50].occurred_at, middle.id)
    expected = [e for e in rows[:50] if e.id != middle.id]
    assert window == expected and len(window) == 49
    assert list(reversed(window)) == expected[::-1]
    assert (window[0], window[29], window[-1], window[10:12]) == (
        expected[0], expected[29], expected[-1], expected[10:12])
    assert window.hour_counts(zone) == Counter(e.occurred_at.astimezone(zone).hour for e in expected)
