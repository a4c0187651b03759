"""The sweep: what it deletes and keeps, that its counts survive the purge, and that a rerun,
a kill midway, a stop at the budget and a concurrent sweep all leave the record consistent."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from axes.models import AccessAttempt, AccessAttemptExpiration, AccessLog
from django.contrib.sessions.models import Session
from django.core.management import CommandError, call_command
from django.db import connection
from django.db.models import Q

from activity.models import AuditLogEntry, ExportEvent, LoginEvent
from activity.services import audit_entry_record
from retention import selectors, services
from retention.models import DailyActivity, Metric, RolledUpDay, SweepReceipt, SweepRun
from retention.sweep import ADVISORY_LOCK_KEY, retention_sweep
from security.sessions.models import UserSession
from tenants.models import Invitation
from tests.conftest import TwoTenants
from tests.retention.support import NOW, days_ago, exports, sign_ins

pytestmark = pytest.mark.django_db

SINCE, UNTIL = dt.date(2025, 1, 1), dt.date(2026, 12, 1)


def sweep(**kwargs: object) -> SweepRun:
    return retention_sweep(now=NOW, pause_seconds=0, batch_size=3, **kwargs)  # type: ignore[arg-type]


def _build(t: TwoTenants) -> None:
    a, b = t.a, t.b
    sign_ins(a.tenant, a.member, [days_ago(d) for d in (1, 100, 179.5, 181.5, 183, 183.2, 200, 400)])
    sign_ins(a.tenant, a.admin, [days_ago(d) for d in (190, 191, 192, 250)], country="DE", mfa="totp")
    sign_ins(a.tenant, None, [days_ago(d) for d in (185, 186)], outcome="failure",
             reason="unknown_account", login="ghost@acme.example")
    exports(a.tenant, a.admin, [days_ago(d) for d in (5, 190, 300)], rows=7)
    sign_ins(b.tenant, b.member, [days_ago(d) for d in (30, 181.5, 200, 210, 365)])


def _state() -> tuple[set[int], set[int], dict[tuple, int]]:
    return (set(LoginEvent.objects.values_list("id", flat=True)),
            set(ExportEvent.objects.values_list("id", flat=True)),
            {(r.tenant_id, r.day, metric, key): count for r in DailyActivity.objects.all()
             for metric, keys in r.counts.items() for key, count in keys.items()})


def _totals(t: TwoTenants) -> list[dict]:
    totals = [selectors.activity_totals(tenant=s.tenant, since=SINCE, until=UNTIL) for s in (t.a, t.b)]
    return [{(day, m): total.day(day, m) for day in total.days for m in Metric.values
             if total.day(day, m)} for total in totals]


def test_the_sweep_purges_past_the_purge_day_keeps_the_rest_and_the_reports_stay(two_tenants: TwoTenants):
    _build(two_tenants)
    a = two_tenants.a
    before = _totals(two_tenants)
    young = set(LoginEvent.objects.filter(occurred_at__gte=dt.datetime(2026, 6, 4, tzinfo=dt.UTC))
                .values_list("id", flat=True))
    run = sweep()
    assert run.status == SweepRun.Status.COMPLETED and not run.dry_run
    assert set(LoginEvent.objects.values_list("id", flat=True)) == young
    assert not LoginEvent.objects.filter(occurred_at__lt=dt.datetime(2026, 6, 4, tzinfo=dt.UTC)).exists()
    assert ExportEvent.objects.filter(tenant=a.tenant).count() == 1
    assert _totals(two_tenants) == before  # the same numbers, now from DailyActivity
    receipt = SweepReceipt.objects.get(run=run, tenant=a.tenant)
    assert receipt.rows_purged == {"activity_loginevent": 11, "activity_exportevent": 2}
    assert receipt.days_rolled_up == (dt.date(2026, 6, 4) - dt.date(2025, 10, 27)).days
    assert receipt.purge_before == dt.date(2026, 6, 4) and receipt.rows_held == 0
    assert selectors.last_receipt(tenant=a.tenant) == receipt
    # Rolled-up totals equal purged rows, day by day.
    purged = sum(RolledUpDay.objects.filter(tenant=a.tenant).values_list("login_events", flat=True))
    assert purged == 11
    # A day's counts are one row (metric -> key -> count), written once with its mark.
    assert sorted(DailyActivity.objects.filter(tenant=a.tenant).values_list("day", flat=True)) == sorted(
        RolledUpDay.objects.filter(Q(login_events__gt=0) | Q(export_events__gt=0), tenant=a.tenant)
        .values_list("day", flat=True))
    # A second sweep is a no-op.
    state = _state()
    again = sweep()
    assert _state() == state
    assert SweepReceipt.objects.get(run=again, tenant=a.tenant).total_purged == 0
    assert SweepReceipt.objects.get(run=again, tenant=a.tenant).days_rolled_up == 0


def test_a_held_person_keeps_their_rows_and_the_receipt_says_how_many(two_tenants: TwoTenants):
    _build(two_tenants)
    a = two_tenants.a
    with time_machine.travel(NOW, tick=False):
        hold = services.legal_hold_place(tenant=a.tenant, actor=a.owner, person=a.member,
                                         reason="case", ends_on=dt.date(2027, 1, 1))
    before = _totals(two_tenants)
    run = sweep()
    receipt = SweepReceipt.objects.get(run=run, tenant=a.tenant)
    member_old = LoginEvent.objects.filter(user=a.member, occurred_at__lt=days_ago(181))
    assert member_old.count() == 5 and receipt.rows_held >= 5
    assert not LoginEvent.objects.filter(user=a.admin, occurred_at__lt=days_ago(181)).exists()
    assert _totals(two_tenants) == before
    # Rolled-up totals = purged + held.
    rolled = sum(RolledUpDay.objects.filter(tenant=a.tenant).values_list("login_events", flat=True))
    assert rolled == receipt.rows_purged["activity_loginevent"] + member_old.count()
    # Lifted: the next sweep removes what it kept, and the numbers still do not move.
    with time_machine.travel(NOW, tick=False):
        services.legal_hold_lift(tenant=a.tenant, actor=a.owner, hold=hold)
    sweep()
    assert not member_old.exists()
    assert _totals(two_tenants) == before


def test_a_whole_company_hold_keeps_everything_and_an_expired_one_lifts_itself(two_tenants: TwoTenants):
    _build(two_tenants)
    a, b = two_tenants.a, two_tenants.b
    with time_machine.travel(NOW - dt.timedelta(days=10), tick=False):
        services.legal_hold_place(tenant=a.tenant, actor=a.owner, person=None, reason="case",
                                  ends_on=dt.date(2026, 12, 5))
    count = LoginEvent.objects.filter(tenant=a.tenant).count()
    sweep()
    assert LoginEvent.objects.filter(tenant=a.tenant).count() == count
    assert not LoginEvent.objects.filter(tenant=b.tenant, occurred_at__lt=days_ago(181)).exists()
    retention_sweep(now=NOW + dt.timedelta(days=5), pause_seconds=0)
    assert not LoginEvent.objects.filter(tenant=a.tenant, occurred_at__lt=days_ago(186)).exists()
    assert not selectors.legal_holds_list(tenant=a.tenant).exists()


def test_a_shorter_policy_purges_more_and_a_longer_one_less(two_tenants: TwoTenants):
    _build(two_tenants)
    a, b = two_tenants.a, two_tenants.b
    services.retention_policy_update(tenant=b.tenant, actor=b.owner, visible_days=90,
                                     purge_days=730, audit_days=365)
    sweep()
    assert LoginEvent.objects.filter(tenant=b.tenant).count() == 5
    assert LoginEvent.objects.filter(tenant=a.tenant).count() == 3


@pytest.mark.parametrize("kill_at", [1, 2, 5, 9, 14, 30])
def test_a_sweep_killed_midway_and_rerun_ends_like_an_uninterrupted_one(two_tenants: TwoTenants,
                                                                       kill_at: int):
    _build(two_tenants)
    before = _totals(two_tenants)
    expected_logins = set(LoginEvent.objects.filter(occurred_at__gte=dt.datetime(2026, 6, 4, tzinfo=dt.UTC))
                          .values_list("id", flat=True))

    class Killed(BaseException):
        pass

    seen = 0

    def hook(point: str) -> None:
        nonlocal seen
        seen += 1
        if seen == kill_at:
            raise Killed(point)

    with pytest.raises(Killed):
        sweep(hook=hook)
    sweep()
    assert set(LoginEvent.objects.values_list("id", flat=True)) == expected_logins
    assert _totals(two_tenants) == before
    run = sweep()
    assert sum(r.total_purged for r in run.receipts.all()) == 0
    assert SweepRun.objects.filter(status=SweepRun.Status.INTERRUPTED).count() <= 1


def test_a_sweep_out_of_budget_stops_cleanly_and_the_next_finishes(two_tenants: TwoTenants):
    _build(two_tenants)
    before = _totals(two_tenants)
    run = sweep(budget_seconds=0)
    assert run.status == SweepRun.Status.PARTIAL
    assert LoginEvent.objects.filter(occurred_at__lt=days_ago(181)).exists()
    assert sweep().status == SweepRun.Status.COMPLETED
    assert not LoginEvent.objects.filter(occurred_at__lt=dt.datetime(2026, 6, 4, tzinfo=dt.UTC)).exists()
    assert _totals(two_tenants) == before


def test_a_second_sweep_at_the_same_time_is_skipped(two_tenants: TwoTenants):
    _build(two_tenants)
    other = connection.copy()
    try:
        with other.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_lock(%s)", [ADVISORY_LOCK_KEY])
        run = sweep()
        assert run.status == SweepRun.Status.SKIPPED
        assert LoginEvent.objects.filter(occurred_at__lt=days_ago(181)).exists()
        with pytest.raises(CommandError):
            call_command("sweep_retention", "--no-progress", stdout=_Sink(), stderr=_Sink())
    finally:
        other.close()


class _Sink:
    text = ""

    def write(self, value: str) -> None:
        self.text += value

    def flush(self) -> None:
        pass


def test_the_other_personal_tables_are_purged_by_their_own_dates(two_tenants: TwoTenants):
    a, b = two_tenants.a, two_tenants.b
    old, young = days_ago(200), days_ago(20)
    for key, seen in (("old", old), ("young", young)):
        UserSession.objects.create(tenant=a.tenant, user=a.member, session_key=key, ip="203.0.113.1")
        UserSession.objects.filter(session_key=key).update(last_seen_at=seen)
        Invitation.objects.create(tenant=a.tenant, user=a.member, token_hash=key * 8, expires_at=seen)
        for model in (AccessAttempt, AccessLog):
            row = model.objects.create(username=a.member.email, ip_address="203.0.113.1",
                                       user_agent=key, http_accept="x", path_info="/signin/",
                                       **({"get_data": "", "post_data": "", "failures_since_start": 1}
                                          if model is AccessAttempt else {}))
            model.objects.filter(pk=row.pk).update(attempt_time=seen)
            if model is AccessAttempt:
                AccessAttemptExpiration.objects.create(access_attempt=row, expires_at=seen)
        Session.objects.create(session_key=f"django-{key}", session_data="x", expire_date=seen)
    for stranger in ("someone@elsewhere.example", b.member.email):
        row = AccessLog.objects.create(username=stranger, ip_address="203.0.113.1", user_agent="x",
                                       http_accept="x", path_info="/signin/")
        AccessLog.objects.filter(pk=row.pk).update(attempt_time=old)
    entry = audit_entry_record(obj=a.member, actor=a.owner, changes={"x": ["1", "2"]})
    AuditLogEntry.objects.filter(pk=entry.pk).update(timestamp=days_ago(400))
    recent = audit_entry_record(obj=a.member, actor=a.owner, changes={"x": ["2", "3"]})
    AuditLogEntry.objects.filter(pk=recent.pk).update(timestamp=days_ago(300))
    run = sweep()
    assert list(UserSession.objects.values_list("session_key", flat=True)) == ["young"]
    assert list(Invitation.objects.values_list("token_hash", flat=True)) == ["young" * 8]
    assert AccessAttempt.objects.count() == 1 and AccessAttemptExpiration.objects.count() == 1
    assert AccessLog.objects.filter(username=a.member.email).count() == 1
    assert not AccessLog.objects.filter(attempt_time__lt=days_ago(181)).exists()  # others' too
    assert list(Session.objects.values_list("session_key", flat=True)) == ["django-young"]
    assert not AuditLogEntry.objects.filter(pk=entry.pk).exists()
    assert AuditLogEntry.objects.filter(pk=recent.pk).exists()  # audit_days is 365
    receipt = SweepReceipt.objects.get(run=run, tenant=a.tenant)
    assert receipt.rows_purged == {"security_usersession": 1, "tenants_invitation": 1,
                                   "axes_accessattempt": 1, "axes_accesslog": 1,
                                   "activity_auditlogentry": 1}
    assert SweepReceipt.objects.get(run=run, tenant=b.tenant).rows_purged == {"axes_accesslog": 1}
    assert run.rows_purged["django_session"] == 1 and run.rows_purged["axes_accesslog"] == 1


def test_dry_run_changes_nothing_and_the_command_prints_a_summary(two_tenants: TwoTenants):
    _build(two_tenants)
    state = _state()
    out = _Sink()
    with time_machine.travel(NOW, tick=False):
        call_command("sweep_retention", "--dry-run", "--tenant", "acme", "--no-progress", stdout=out)
    assert _state() == state
    run = SweepRun.objects.get()
    assert run.dry_run and run.scope == "acme"
    assert run.receipts.get().rows_purged["activity_loginevent"] == 11
    assert "would purge 13 rows" in out.text
    assert selectors.last_receipt(tenant=two_tenants.a.tenant) is None  # dry runs are not receipts
    with pytest.raises(CommandError):
        call_command("sweep_retention", "--tenant", "nobody", stdout=out)


def test_the_task_stops_before_the_broker_redelivers_it_and_runs_nightly():
    from mailadmin.celery import app
    from retention.tasks import retention_sweep_task

    visibility = app.conf.broker_transport_options["visibility_timeout"]
    assert retention_sweep_task.acks_late
    assert retention_sweep_task.soft_time_limit < retention_sweep_task.time_limit < visibility
    entry = next(e for e in app.conf.beat_schedule.values() if e["task"] == "retention.sweep")
    assert entry["schedule"].hour == {2} and entry["schedule"].minute == {30}
