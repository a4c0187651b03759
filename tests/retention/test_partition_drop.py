"""On PostgreSQL whole day partitions past everyone's purge day are dropped; a day with a held
person's rows, or a day another tenant still keeps, is batch-deleted instead."""

from __future__ import annotations

import datetime as dt
import os
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest
import time_machine
from django.db import connection, transaction
from django.test import override_settings

from activity.models import LoginEvent
from activity.partitions import day_partitions_create, partition_name
from retention import selectors, services
from retention.models import Metric, SweepReceipt
from retention.sweep import retention_sweep
from tests.conftest import TwoTenants
from tests.retention.support import NOW, exports, sign_ins

pytestmark = pytest.mark.django_db

DAYS = [dt.date(2026, 5, 1), dt.date(2026, 5, 2), dt.date(2026, 5, 3)]


def _children(table: str = "activity_loginevent") -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT inhrelid::regclass::text FROM pg_inherits WHERE inhparent = %s::regclass",
                       [table])
        return {name for (name,) in cursor.fetchall()}


def _at(day: dt.date, hour: int) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour), tzinfo=dt.UTC)


@pytest.fixture
def old_days(two_tenants: TwoTenants) -> TwoTenants:
    with transaction.atomic(), connection.cursor() as cursor:
        for table in ("activity_loginevent", "activity_exportevent"):
            day_partitions_create(cursor, table, DAYS)
        # The test's rows are not committed: deferred foreign-key checks would make PostgreSQL
        # refuse to drop their partition ("pending trigger events"); a sweep sees committed rows.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    a, b = two_tenants.a, two_tenants.b
    for day in DAYS:
        sign_ins(a.tenant, a.admin, [_at(day, h) for h in (1, 9, 17)])
        sign_ins(a.tenant, a.member, [_at(day, 12)])
        sign_ins(b.tenant, b.member, [_at(day, 8), _at(day, 20)])
    exports(a.tenant, a.admin, [_at(DAYS[0], 10)])
    return two_tenants


def test_days_past_every_purge_date_are_dropped_whole(old_days: TwoTenants):
    a = old_days.a
    before = selectors.activity_totals(tenant=a.tenant, since=DAYS[0], until=DAYS[-1])
    run = retention_sweep(now=NOW, pause_seconds=0)
    names = {partition_name(t, d) for t in ("activity_loginevent", "activity_exportevent") for d in DAYS}
    assert set(run.partitions_dropped) == names
    assert not names & (_children() | _children("activity_exportevent"))
    assert not LoginEvent.objects.filter(occurred_at__lt=_at(DAYS[-1], 23)).exists()
    receipt = SweepReceipt.objects.get(run=run, tenant=a.tenant)
    assert receipt.partitions_dropped == 4 and receipt.rows_purged == {
        "activity_loginevent": 12, "activity_exportevent": 1}
    assert receipt.oldest_day == DAYS[0]  # found by probing the day partitions one by one
    after = selectors.activity_totals(tenant=a.tenant, since=DAYS[0], until=DAYS[-1])
    assert after.rolled_up_days == frozenset(DAYS)
    assert after.total(Metric.SIGNINS_BY_OUTCOME) == before.total(Metric.SIGNINS_BY_OUTCOME) == {"success": 12}


def test_a_row_that_came_into_a_day_after_its_roll_up_is_counted_when_its_partition_goes(
        old_days: TwoTenants):
    """The drop takes each tenant's rows from the roll-up's marks only while one count of the
    partition agrees with them; a late row makes it count each tenant's rows instead."""
    a = old_days.a

    def phase(name: str) -> None:
        if name == "partition drops":
            sign_ins(a.tenant, a.member, [_at(DAYS[0], 22)])

    run = retention_sweep(now=NOW, pause_seconds=0, phase=phase)
    assert partition_name("activity_loginevent", DAYS[0]) in run.partitions_dropped
    assert not LoginEvent.objects.filter(occurred_at__lt=_at(DAYS[-1], 23)).exists()
    receipt = SweepReceipt.objects.get(run=run, tenant=a.tenant)
    assert receipt.rows_purged["activity_loginevent"] == 13
    assert SweepReceipt.objects.get(run=run, tenant=old_days.b.tenant).rows_purged == {
        "activity_loginevent": 6}


def test_a_day_with_a_held_persons_rows_stays_and_the_others_rows_are_deleted(old_days: TwoTenants):
    a = old_days.a
    with time_machine.travel(NOW, tick=False):
        services.legal_hold_place(tenant=a.tenant, actor=a.owner, person=a.member, reason="case",
                                  ends_on=dt.date(2027, 1, 1))
    run = retention_sweep(now=NOW, pause_seconds=0)
    assert not {partition_name("activity_loginevent", d) for d in DAYS} & set(run.partitions_dropped)
    assert {partition_name("activity_loginevent", d) for d in DAYS} <= _children()
    assert partition_name("activity_exportevent", DAYS[0]) in run.partitions_dropped  # no held row
    assert set(LoginEvent.objects.filter(occurred_at__lt=_at(DAYS[-1], 23))
               .values_list("user_id", flat=True)) == {a.member.pk}
    receipt = SweepReceipt.objects.get(run=run, tenant=a.tenant)
    assert receipt.rows_held == 3 and receipt.rows_purged["activity_loginevent"] == 9


def test_a_tenant_that_keeps_longer_keeps_the_partitions_and_the_others_rows_go_by_batches(old_days: TwoTenants):
    b = old_days.b
    services.retention_policy_update(tenant=b.tenant, actor=b.owner, visible_days=90,
                                     purge_days=400, audit_days=400)
    run = retention_sweep(now=NOW, pause_seconds=0)
    assert not [name for name in run.partitions_dropped if name.startswith("activity_loginevent")]
    assert set(LoginEvent.objects.filter(occurred_at__lt=_at(DAYS[-1], 23))
               .values_list("tenant_id", flat=True)) == {b.tenant.pk}
    assert LoginEvent.objects.filter(tenant=b.tenant).count() == 6


def _test_database_url() -> str:
    parts = urlsplit(os.environ["DATABASE_URL"])
    return urlunsplit(parts._replace(path="/" + connection.settings_dict["NAME"]))


@pytest.mark.django_db(transaction=True)
def test_dropping_days_waits_on_nothing_a_sign_in_in_flight_holds(two_tenants: TwoTenants):
    """A sign-in's insert locks its person's and tenant's rows for its foreign-key checks
    (FOR KEY SHARE) until it commits. The sweep's DROP must not need those tables: a DETACH
    first would give the partition triggers on them, whose removal waits for every such sign-in
    (and all later ones queue behind it)."""
    with transaction.atomic(), connection.cursor() as cursor:
        for table in ("activity_loginevent", "activity_exportevent"):
            day_partitions_create(cursor, table, DAYS)
    a = two_tenants.a
    for day in DAYS:
        sign_ins(a.tenant, a.member, [_at(day, 9), _at(day, 15)])
    names = {partition_name("activity_loginevent", d) for d in DAYS}
    with psycopg.connect(_test_database_url()) as signing_in:
        signing_in.execute("SELECT 1 FROM accounts_user WHERE id = %s FOR KEY SHARE", [a.member.pk])
        signing_in.execute("SELECT 1 FROM tenants_tenant WHERE id = %s FOR KEY SHARE", [a.tenant.pk])
        with override_settings(RETENTION_SWEEP_LOCK_TIMEOUT_MS=300):
            run = retention_sweep(now=NOW, pause_seconds=0, duty_percent=100)
        signing_in.rollback()
    assert names <= set(run.partitions_dropped)
    assert not names & _children()
    assert not LoginEvent.objects.filter(occurred_at__lt=_at(DAYS[-1], 23)).exists()
    assert SweepReceipt.objects.get(run=run, tenant=a.tenant).rows_purged["activity_loginevent"] == 6
