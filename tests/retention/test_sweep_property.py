"""Property: whatever the policies, holds, clock and event times, after a sweep nothing younger
than its tenant's purge day (or held) is gone, nothing older and unheld remains, and the reports'
numbers did not move."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from activity.models import ExportEvent, LoginEvent, RetentionPolicy
from retention.models import LegalHold, Metric
from retention.selectors import activity_totals
from retention.sweep import retention_sweep
from tests.conftest import TwoTenants
from tests.retention.support import NOW, exports, sign_ins

pytestmark = pytest.mark.django_db

HORIZON_DAYS = 500
events = st.lists(st.tuples(st.sampled_from(["a", "b"]), st.sampled_from(["member", "admin", None]),
                            st.integers(min_value=0, max_value=HORIZON_DAYS * 24),
                            st.booleans()),
                  min_size=1, max_size=20)
holds = st.sampled_from(["none", "member", "tenant", "member-expired"])


class _Rollback(Exception):
    pass


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(purge_a=st.integers(180, 400), purge_b=st.integers(180, 400), hold=holds,
       shift_hours=st.integers(0, 60 * 24), rows=events)
def test_the_sweep_removes_exactly_what_is_due(two_tenants: TwoTenants, purge_a: int, purge_b: int,
                                               hold: str, shift_hours: int,
                                               rows: list[tuple[str, str | None, int, bool]]):
    now = NOW + dt.timedelta(hours=shift_hours)
    sets = {"a": two_tenants.a, "b": two_tenants.b}
    try:
        with transaction.atomic():
            for name, days in (("a", purge_a), ("b", purge_b)):
                RetentionPolicy.objects.create(tenant=sets[name].tenant, visible_days=90,
                                               purge_days=days, audit_days=365)
            a = two_tenants.a
            if hold != "none":
                LegalHold.objects.create(
                    tenant=a.tenant, person=None if hold == "tenant" else a.member, reason="case",
                    placed_by=a.owner,
                    ends_on=(now - dt.timedelta(days=1) if hold == "member-expired" else now).date())
            kept: set[tuple[str, int]] = set()
            gone: set[tuple[str, int]] = set()
            for name, role, hours, is_export in rows:
                tenant_set = sets[name]
                person = tenant_set.by_role(role) if role else None
                at = now - dt.timedelta(hours=hours)
                if is_export:
                    exports(tenant_set.tenant, person or tenant_set.admin, [at])
                    row = ExportEvent.objects.order_by("-id").first()
                    key = ("export", row.pk)  # type: ignore[union-attr]
                    owner = person or tenant_set.admin
                else:
                    sign_ins(tenant_set.tenant, person, [at],
                             login=None if person else f"member@{name}cme.example")
                    row = LoginEvent.objects.order_by("-id").first()
                    key = ("login", row.pk)  # type: ignore[union-attr]
                    owner = person
                purge_days = purge_a if name == "a" else purge_b
                due = at.date() < (now - dt.timedelta(days=purge_days)).date()
                held = name == "a" and (hold == "tenant" or (hold == "member" and (
                    owner == a.member or (not is_export and person is None
                                          and f"member@{name}cme.example" == a.member.email))))
                (gone if due and not held else kept).add(key)
            before = [activity_totals(tenant=s.tenant, since=dt.date(2024, 1, 1), until=now.date())
                      for s in sets.values()]
            retention_sweep(now=now, pause_seconds=0, batch_size=2)
            remaining = ({("login", pk) for pk in LoginEvent.objects.values_list("id", flat=True)}
                         | {("export", pk) for pk in ExportEvent.objects.values_list("id", flat=True)})
            assert kept <= remaining, "a row younger than its purge day, or held, was deleted"
            assert not gone & remaining, "a row past its purge day and not held was kept"
            after = [activity_totals(tenant=s.tenant, since=dt.date(2024, 1, 1), until=now.date())
                     for s in sets.values()]
            for old, new in zip(before, after, strict=True):
                for metric in Metric.values:
                    assert old.total(metric) == new.total(metric), metric
            raise _Rollback
    except _Rollback:
        pass
