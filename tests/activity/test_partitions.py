"""Daily partitions of the record on PostgreSQL: the shape the migration leaves, partitions_ensure,
the DEFAULT partition's safety net, and the record's guarantees on top of it."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from django.core.management import call_command
from django.db import connection

from activity import partitions
from activity.capture import ClientInfo, DeviceType
from activity.models import LoginEvent, Outcome, Reason, RecordImmutableError
from activity.services import export_event_start, login_event_record
from activity.tasks import partitions_ensure_task
from tests.conftest import TwoTenants

pytestmark = pytest.mark.django_db

CLIENT = ClientInfo(ip="8.8.8.8", country="US", user_agent="Mozilla/5.0", browser_family="Other",
                    browser_version="", os_family="Other", os_version="", device_type=DeviceType.OTHER)
FAR_DAY = date(2031, 3, 4)  # no partition exists for it until a test makes one


def _rows(sql: str, params: list[object] | None = None) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params or [])
        return cursor.fetchall()


def _home(pk: int, table: str = "activity_loginevent") -> str:
    return _rows(f"SELECT tableoid::regclass::text FROM {table} WHERE id = %s", [pk])[0][0]  # noqa: S608


def _record(tenants: TwoTenants, at: datetime) -> LoginEvent:
    return login_event_record(tenant=tenants.a.tenant, user=tenants.a.member,
                              attempted_login=tenants.a.member.email, client=CLIENT,
                              outcome=Outcome.SUCCESS, reason=Reason.PASSWORD_OK, occurred_at=at)


def test_both_tables_are_range_partitioned_by_time_with_a_default():
    for table in partitions.PARTITIONED_TABLES:
        strategy, key = _rows(
            "SELECT p.partstrat, a.attname FROM pg_partitioned_table p"
            " JOIN pg_attribute a ON a.attrelid = p.partrelid AND a.attnum = p.partattrs[0]"
            " WHERE p.partrelid = %s::regclass", [table])[0]
        assert (strategy, key) == ("r", "occurred_at")
        children = {name for (name,) in _rows(
            "SELECT inhrelid::regclass::text FROM pg_inherits WHERE inhparent = %s::regclass", [table])}
        today = datetime.now(UTC).date()
        assert f"{table}_default" in children
        assert partitions.partition_name(table, today) in children
        listed = partitions.partitions_list(table=table)
        assert listed[0].is_default and {p.name for p in listed} == children


def test_django_keeps_id_as_primary_key_and_the_physical_key_includes_the_time():
    assert LoginEvent._meta.pk.name == "id"
    for table in partitions.PARTITIONED_TABLES:
        (columns,) = _rows(
            "SELECT array_agg(a.attname::text ORDER BY k.n) FROM pg_index i"
            " CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, n)"
            " JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum"
            " WHERE i.indrelid = %s::regclass AND i.indisprimary", [table])[0]
        assert columns == ["id", "occurred_at"]


def test_indexes_are_declared_on_the_parent_and_lead_with_the_tenant():
    indexes = dict(_rows("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = %s",
                         ["activity_loginevent"]))
    for name in ("login_tenant_time", "login_tenant_user_time", "login_tenant_ip_time",
                 "login_tenant_outcome_time"):
        assert "(tenant_id, " in indexes[name], indexes[name]
    # ...and every partition carries them.
    (count,) = _rows("SELECT count(*) FROM pg_indexes WHERE tablename = %s",
                     [partitions.partition_name("activity_loginevent", datetime.now(UTC).date())])[0]
    assert count == len(indexes)


def test_partitions_ensure_is_idempotent():
    created = partitions.partitions_ensure(today=FAR_DAY, days_ahead=2)
    assert sorted(created) == sorted(
        partitions.partition_name(table, date(2031, 3, day))
        for table in partitions.PARTITIONED_TABLES for day in (4, 5, 6)
    )
    assert partitions.partitions_ensure(today=FAR_DAY, days_ahead=2) == []
    assert partitions.partitions_ensure(today=FAR_DAY, days_ahead=0) == []


def test_a_row_without_its_day_lands_in_default_and_is_moved_by_partitions_ensure(two_tenants):
    event = _record(two_tenants, datetime(2031, 3, 4, 23, 59, 59, tzinfo=UTC))
    neighbour = _record(two_tenants, datetime(2031, 3, 5, 0, 0, tzinfo=UTC))
    export = export_event_start(tenant=two_tenants.a.tenant, user=two_tenants.a.admin,
                                client=CLIENT, dataset="signins", format="csv", filters={},
                                occurred_at=datetime(2031, 3, 4, 8, tzinfo=UTC))
    assert _home(event.pk) == _home(neighbour.pk) == "activity_loginevent_default"
    assert _home(export.pk, "activity_exportevent") == "activity_exportevent_default"

    partitions.partitions_ensure(today=FAR_DAY, days_ahead=0)

    assert _home(event.pk) == "activity_loginevent_p20310304"
    assert _home(export.pk, "activity_exportevent") == "activity_exportevent_p20310304"
    assert _home(neighbour.pk) == "activity_loginevent_default"  # the next day has no partition
    moved = LoginEvent.objects.get(pk=event.pk)  # same id, same row
    assert (moved.occurred_at, moved.attempted_login) == (event.occurred_at, event.attempted_login)
    assert LoginEvent.objects.count() == 2


def test_ids_stay_unique_across_partitions(two_tenants):
    days = [datetime(2031, 3, d, 12, tzinfo=UTC) for d in (4, 5)]
    partitions.partitions_ensure(today=FAR_DAY, days_ahead=1)
    events = [_record(two_tenants, at) for at in days * 3]
    ids = [e.pk for e in events]
    assert len(set(ids)) == len(ids) and ids == sorted(ids)
    assert {_home(pk) for pk in ids} == {"activity_loginevent_p20310304",
                                        "activity_loginevent_p20310305"}


def test_the_append_only_guard_still_holds_on_partitions(two_tenants):
    event = _record(two_tenants, datetime.now(UTC))
    event.outcome = Outcome.FAILURE
    with pytest.raises(RecordImmutableError):
        event.save()
    with pytest.raises(RecordImmutableError):
        LoginEvent.objects.filter(pk=event.pk).update(outcome=Outcome.FAILURE)
    assert LoginEvent.objects.get(pk=event.pk).outcome == Outcome.SUCCESS


def test_deleting_a_person_keeps_their_rows_across_partitions(two_tenants):
    partitions.partitions_ensure(today=FAR_DAY, days_ahead=0)
    events = [_record(two_tenants, at) for at in (datetime.now(UTC), datetime(2031, 3, 4, tzinfo=UTC))]
    two_tenants.a.member.delete()
    assert list(LoginEvent.objects.filter(pk__in=[e.pk for e in events])
                .values_list("user_id", flat=True)) == [None, None]


def test_partition_drop_before_drops_whole_days_only():
    partitions.partitions_ensure(today=FAR_DAY, days_ahead=2)
    dropped = partitions.partition_drop_before(table="activity_loginevent", day=date(2031, 3, 6))
    assert {"activity_loginevent_p20310304", "activity_loginevent_p20310305"} <= set(dropped)
    assert all(name < "activity_loginevent_p20310306" for name in dropped)
    names = {p.name for p in partitions.partitions_list(table="activity_loginevent")}
    assert "activity_loginevent_p20310306" in names and "activity_loginevent_default" in names
    assert "activity_exportevent_p20310304" in {
        p.name for p in partitions.partitions_list(table="activity_exportevent")}


def test_only_the_record_tables_are_accepted():
    with pytest.raises(ValueError, match="not a partitioned record table"):
        partitions.partitions_list(table="accounts_user")
    with pytest.raises(ValueError, match="not a partitioned record table"):
        partitions.partition_drop_before(table="accounts_user; DROP TABLE x", day=FAR_DAY)


def test_command_and_task(capsys):
    call_command("partitions_ensure", "--days-ahead", "20")
    out = capsys.readouterr().out
    assert "partition(s) created." in out
    assert partitions_ensure_task.delay().get() == []  # eager; everything already there

