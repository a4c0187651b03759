"""The services and selectors the retention pages stand on: policy, holds, preview, receipts,
totals. Bad input is refused with a translated message per field and changes nothing."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError

from activity.lifetime import RetentionRules, retention_rules
from activity.models import AuditLogEntry, Outcome, Reason, RetentionPolicy
from retention import selectors, services
from retention.models import LegalHold, Metric, SweepReceipt, SweepRun
from tests.conftest import TwoTenants
from tests.retention.support import NOW, days_ago, exports, sign_ins

pytestmark = pytest.mark.django_db


def _entries(obj: object) -> list[AuditLogEntry]:
    return list(AuditLogEntry.objects.filter(object_pk=str(obj.pk),  # type: ignore[attr-defined]
                                             content_type__model=type(obj).__name__.lower())
                .order_by("id"))


# --- Policy -------------------------------------------------------------------------------------

def test_first_save_creates_the_policy_and_audits_before_and_after(two_tenants: TwoTenants):
    a = two_tenants.a
    policy = services.retention_policy_update(tenant=a.tenant, actor=a.owner, visible_days=30,
                                              purge_days="200", audit_days=400)
    assert (policy.visible_days, policy.purge_days, policy.audit_days) == (30, 200, 400)
    assert retention_rules(tenant=a.tenant) == RetentionRules(30, 200, 400)
    assert retention_rules(tenant=two_tenants.b.tenant) == RetentionRules(90, 180, 365)
    (entry,) = _entries(policy)
    assert entry.actor == a.owner and entry.tenant_id == a.tenant.pk
    assert entry.changes_dict == {"visible_days": ["90", "30"], "purge_days": ["180", "200"],
                                  "audit_days": ["365", "400"]}
    services.retention_policy_update(tenant=a.tenant, actor=a.owner, visible_days=30,
                                     purge_days=200, audit_days=400)
    assert len(_entries(policy)) == 1  # the same values again are no change
    services.retention_policy_update(tenant=a.tenant, actor=a.owner, visible_days=30,
                                     purge_days=190, audit_days=400)
    assert _entries(policy)[-1].changes_dict == {"purge_days": ["200", "190"]}


@pytest.mark.parametrize(("values", "field"), [
    ({"visible_days": 200, "purge_days": 190}, "visible_days"),
    ({"purge_days": 179}, "purge_days"),
    ({"purge_days": 731}, "purge_days"),
    ({"visible_days": -5}, "visible_days"),
    ({"visible_days": 0}, "visible_days"),
    ({"purge_days": "abc"}, "purge_days"),
    ({"audit_days": 179}, "audit_days"),
    ({"audit_days": True}, "audit_days"),
    ({"visible_days": "7.5"}, "visible_days"),
])
def test_bad_policy_values_are_refused_per_field_and_nothing_is_saved(two_tenants: TwoTenants,
                                                                      values: dict, field: str):
    a = two_tenants.a
    arguments = {"visible_days": 90, "purge_days": 180, "audit_days": 365, **values}
    with pytest.raises(ValidationError) as caught:
        services.retention_policy_update(tenant=a.tenant, actor=a.owner, **arguments)
    assert field in caught.value.message_dict and caught.value.message_dict[field][0]
    assert not RetentionPolicy.objects.filter(tenant=a.tenant).exists()
    assert not AuditLogEntry.objects.filter(content_type__model="retentionpolicy").exists()


@pytest.mark.parametrize("role", ["admin", "auditor", "helpdesk", "member"])
def test_only_the_owner_changes_retention(two_tenants: TwoTenants, role: str):
    a = two_tenants.a
    with pytest.raises(PermissionDenied):
        services.retention_policy_update(tenant=a.tenant, actor=a.by_role(role), visible_days=90,
                                         purge_days=180, audit_days=365)
    with pytest.raises(PermissionDenied):  # another tenant's owner
        services.retention_policy_update(tenant=a.tenant, actor=two_tenants.b.owner,
                                         visible_days=90, purge_days=180, audit_days=365)
    with pytest.raises(PermissionDenied):
        services.legal_hold_place(tenant=a.tenant, actor=a.by_role(role), person=None,
                                  reason="case", ends_on=dt.date(2027, 1, 1))
    assert not RetentionPolicy.objects.exists() and not LegalHold.objects.exists()


# --- Holds --------------------------------------------------------------------------------------

@time_machine.travel(NOW, tick=False)
def test_a_hold_is_placed_extended_and_lifted_each_audited(two_tenants: TwoTenants):
    a = two_tenants.a
    hold = services.legal_hold_place(tenant=a.tenant, actor=a.owner, person=a.member,
                                     reason=" Litigation 2026-17 ", ends_on=dt.date(2027, 3, 1))
    assert hold.reason == "Litigation 2026-17" and hold.placed_by == a.owner
    assert hold.is_active(NOW) and not hold.is_active(dt.datetime(2027, 3, 2, tzinfo=dt.UTC))
    assert hold.is_active(dt.datetime(2027, 3, 1, 23, 59, tzinfo=dt.UTC))
    services.legal_hold_extend(tenant=a.tenant, actor=a.owner, hold=hold, ends_on="2027-06-30")
    hold.refresh_from_db()
    assert hold.ends_on == dt.date(2027, 6, 30)
    services.legal_hold_lift(tenant=a.tenant, actor=a.owner, hold=hold)
    hold.refresh_from_db()
    assert hold.lifted_by == a.owner and not hold.is_active(NOW)
    entries = _entries(hold)
    assert [e.action for e in entries] == [AuditLogEntry.Action.CREATE, AuditLogEntry.Action.UPDATE,
                                           AuditLogEntry.Action.UPDATE]
    assert entries[0].changes_dict["person"] == ["", a.member.email]
    assert entries[1].changes_dict == {"ends_on": ["2027-03-01", "2027-06-30"]}
    assert list(selectors.legal_holds_list(tenant=a.tenant)) == []
    assert list(selectors.legal_holds_list(tenant=a.tenant, include_lifted=True)) == [hold]
    assert list(selectors.legal_holds_list(tenant=two_tenants.b.tenant, include_lifted=True)) == []
    with pytest.raises(ValidationError):  # lifted already
        services.legal_hold_lift(tenant=a.tenant, actor=a.owner, hold=hold)


@time_machine.travel(NOW, tick=False)
@pytest.mark.parametrize(("person", "reason", "ends_on", "field"), [
    ("member", "case", dt.date(2026, 11, 30), "ends_on"),
    ("member", "   ", dt.date(2027, 1, 1), "reason"),
    ("member", "case", "not a date", "ends_on"),
    ("member", "case", dt.date(2040, 1, 1), "ends_on"),
    ("other", "case", dt.date(2027, 1, 1), "person"),
])
def test_bad_holds_are_refused(two_tenants: TwoTenants, person: str, reason: str, ends_on: object,
                               field: str):
    a = two_tenants.a
    who = two_tenants.b.member if person == "other" else a.member
    with pytest.raises(ValidationError) as caught:
        services.legal_hold_place(tenant=a.tenant, actor=a.owner, person=who, reason=reason,
                                  ends_on=ends_on)  # type: ignore[arg-type]
    assert field in caught.value.message_dict
    assert not LegalHold.objects.exists()
    hold = services.legal_hold_place(tenant=a.tenant, actor=a.owner, person=None, reason="case",
                                     ends_on=dt.date(2027, 1, 1))
    with pytest.raises(ValidationError):
        services.legal_hold_extend(tenant=a.tenant, actor=a.owner, hold=hold, ends_on=dt.date(2026, 1, 1))
    with pytest.raises(ValidationError):  # another tenant's hold is unknown here
        services.legal_hold_lift(tenant=two_tenants.b.tenant, actor=two_tenants.b.owner, hold=hold)
    hold.refresh_from_db()
    assert hold.ends_on == dt.date(2027, 1, 1) and hold.lifted_at is None


def test_an_expired_hold_lifts_itself_audited(two_tenants: TwoTenants):
    a = two_tenants.a
    with time_machine.travel(NOW, tick=False):
        hold = services.legal_hold_place(tenant=a.tenant, actor=a.owner, person=a.member,
                                         reason="case", ends_on=dt.date(2026, 12, 5))
    assert services.legal_holds_expire(now=dt.datetime(2026, 12, 5, 23, tzinfo=dt.UTC)) == 0
    assert services.legal_holds_expire(now=dt.datetime(2026, 12, 6, 1, tzinfo=dt.UTC)) == 1
    assert services.legal_holds_expire(now=dt.datetime(2026, 12, 7, 1, tzinfo=dt.UTC)) == 0
    hold.refresh_from_db()
    assert hold.lifted_at is not None and hold.lifted_by is None
    assert _entries(hold)[-1].actor is None


# --- Preview ------------------------------------------------------------------------------------

def test_the_preview_counts_what_a_shorter_policy_would_remove_and_what_holds_keep(two_tenants: TwoTenants):
    a, b = two_tenants.a, two_tenants.b
    sign_ins(a.tenant, a.member, [days_ago(d) for d in (10, 100, 185, 200, 250)])
    sign_ins(a.tenant, a.admin, [days_ago(d) for d in (190, 300)])
    exports(a.tenant, a.admin, [days_ago(d) for d in (182, 400)])
    sign_ins(b.tenant, b.member, [days_ago(d) for d in (300, 400)])
    default = selectors.purge_preview(tenant=a.tenant, rules=retention_rules(tenant=a.tenant), now=NOW)
    assert default.rows["activity_loginevent"] == 5  # 185, 200, 250, 190 and 300 days old
    assert default.rows["activity_exportevent"] == 2
    assert default.purge_before == dt.date(2026, 6, 4)
    assert default.total >= 6 and default.total_held == 0
    longer = selectors.purge_preview(tenant=a.tenant, rules=RetentionRules(90, 365, 365), now=NOW)
    assert longer.rows["activity_loginevent"] == 0 and longer.rows["activity_exportevent"] == 1
    with time_machine.travel(NOW, tick=False):
        services.legal_hold_place(tenant=a.tenant, actor=a.owner, person=a.member, reason="case",
                                  ends_on=dt.date(2027, 1, 1))
    held = selectors.purge_preview(tenant=a.tenant, rules=RetentionRules(90, 180, 365), now=NOW)
    assert held.rows["activity_loginevent"] == 2 and held.held["activity_loginevent"] == 3
    labels = dict(held.labelled())
    assert labels["Sign-in events"] == 2


# --- Totals -------------------------------------------------------------------------------------

def test_totals_count_every_metric_per_day_and_over_the_range(two_tenants: TwoTenants):
    a, b = two_tenants.a, two_tenants.b
    day = dt.datetime(2026, 11, 20, 10, tzinfo=dt.UTC)
    sign_ins(a.tenant, a.member, [day, day + dt.timedelta(hours=1)], mfa="totp")
    sign_ins(a.tenant, a.admin, [day], country="DE")
    sign_ins(a.tenant, None, [day], outcome=Outcome.FAILURE, reason=Reason.UNKNOWN_ACCOUNT,
             login="ghost@acme.example")
    sign_ins(a.tenant, a.member, [day + dt.timedelta(days=1)], outcome=Outcome.SIGNOUT,
             reason=Reason.SIGNED_OUT)
    exports(a.tenant, a.admin, [day], rows=25)
    sign_ins(b.tenant, b.member, [day] * 5)
    totals = selectors.activity_totals(tenant=a.tenant, since=dt.date(2026, 11, 19),
                                       until=dt.date(2026, 11, 21))
    d = dt.date(2026, 11, 20)
    assert totals.days == [dt.date(2026, 11, 19), d, dt.date(2026, 11, 21)]
    assert totals.day(d, Metric.SIGNINS_BY_OUTCOME) == {"success": 3, "failure": 1}
    assert totals.day(d, Metric.SIGNINS_BY_COUNTRY) == {"US": 3, "DE": 1}
    assert totals.day(d, Metric.SIGNINS_BY_MFA) == {"totp": 2, "": 1}
    assert totals.count(d, Metric.SIGNIN_PEOPLE) == 2
    assert totals.day(d, Metric.EXPORT_ROWS_BY_DATASET) == {"signins": 25}
    assert totals.day(d, Metric.SIGNINS_BY_REASON) == {"password_ok": 3, "unknown_account": 1}
    # Sign-outs count as events, not attempts.
    assert totals.day(dt.date(2026, 11, 21), Metric.SIGNINS_BY_OUTCOME) == {"signout": 1}
    assert totals.day_total(dt.date(2026, 11, 21), Metric.SIGNINS_BY_COUNTRY) == 0
    assert totals.total(Metric.SIGNINS_BY_OUTCOME) == {"success": 3, "failure": 1, "signout": 1}
    assert totals.series(Metric.SIGNINS_BY_OUTCOME, "success") == [
        (dt.date(2026, 11, 19), 0), (d, 3), (dt.date(2026, 11, 21), 0)]
    assert totals.rolled_up_days == frozenset()


def test_receipt_selectors_are_tenant_scoped_and_skip_dry_runs(two_tenants: TwoTenants):
    a, b = two_tenants.a, two_tenants.b
    real = SweepRun.objects.create(started_at=NOW, status=SweepRun.Status.COMPLETED)
    dry = SweepRun.objects.create(started_at=NOW, status=SweepRun.Status.COMPLETED, dry_run=True)
    mine = SweepReceipt.objects.create(tenant=a.tenant, run=real, rows_purged={"activity_loginevent": 4})
    SweepReceipt.objects.create(tenant=a.tenant, run=dry)
    SweepReceipt.objects.create(tenant=b.tenant, run=real)
    assert selectors.last_receipt(tenant=a.tenant) == mine and mine.total_purged == 4
    assert selectors.sweep_receipts_list(tenant=a.tenant) == [mine]


def test_the_one_scan_aggregation_on_postgresql_counts_what_the_per_metric_queries_count(two_tenants: TwoTenants):
    from django.db import connection

    from retention import rollup

    a, b = two_tenants.a, two_tenants.b
    day = dt.datetime(2026, 11, 20, 10, tzinfo=dt.UTC)
    sign_ins(a.tenant, a.member, [day, day + dt.timedelta(hours=20)], mfa="totp", country="FR")
    sign_ins(a.tenant, a.admin, [day, day + dt.timedelta(days=2)], country="")
    sign_ins(a.tenant, None, [day], outcome=Outcome.FAILURE, reason=Reason.UNKNOWN_ACCOUNT, login="x@y.example")
    sign_ins(a.tenant, a.member, [day], outcome=Outcome.SIGNOUT, reason=Reason.SIGNED_OUT)
    sign_ins(a.tenant, a.member, [day], outcome=Outcome.DENIED, reason=Reason.HOURS_DENIED)
    sign_ins(b.tenant, b.member, [day, day - dt.timedelta(days=1)])
    assert connection.vendor == "postgresql"
    ids = [a.tenant.pk, b.tenant.pk]
    fast = rollup.activity_counts(tenant_ids=ids, since=dt.date(2026, 11, 18), until=dt.date(2026, 11, 23))
    vendor = connection.vendor
    try:
        connection.vendor = "sqlite-like"  # the portable per-metric queries, on the same rows
        slow = rollup.activity_counts(tenant_ids=ids, since=dt.date(2026, 11, 18), until=dt.date(2026, 11, 23))
    finally:
        connection.vendor = vendor
    assert fast == slow
    assert fast[(a.tenant.pk, dt.date(2026, 11, 21))][Metric.SIGNINS_BY_MFA] == {"totp": 1}
    assert fast[(a.tenant.pk, dt.date(2026, 11, 20))][Metric.SIGNINS_BY_COUNTRY] == {
        "FR": 1, "": 1, "US": 2}
