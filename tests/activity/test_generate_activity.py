"""generate_activity: the counts asked for, each row under its own tenant, a realistic mix, in
partitions (not DEFAULT) on PostgreSQL; and the demo history."""

from __future__ import annotations

import io
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.models import Count, F

from accounts.models import User
from activity.management.synthetic import activity_generate
from activity.models import LoginEvent, Outcome
from tenants.models import MailDomain, Tenant

pytestmark = pytest.mark.django_db


def _generate(**options: object) -> str:
    args = {"tenants": 3, "people": 40, "events": 4000, "days": 6, "seed": 5,
            "tenant_slug_prefix": "gen"} | options
    out = io.StringIO()
    call_command("generate_activity", *[f"--{k.replace('_', '-')}={v}" for k, v in args.items()],
                 stdout=out)
    return out.getvalue()


def test_creates_the_requested_tenants_people_and_events():
    output = _generate()
    tenants = list(Tenant.objects.filter(slug__startswith="gen-").order_by("slug"))
    assert [t.slug for t in tenants] == ["gen-001", "gen-002", "gen-003"]
    for tenant in tenants:
        assert MailDomain.objects.filter(tenant=tenant, domain=f"{tenant.slug}.example").exists()
    people = User.objects.filter(tenant__in=tenants)
    assert people.count() >= 40
    assert not people.exclude(status=User.Status.ACTIVE).exists()
    assert not any(u.has_usable_password() for u in people)
    assert LoginEvent.objects.count() == 4000
    assert "4,000 events" in output and "rows/s" in output
    # Zipf: the first tenant is the biggest.
    sizes = Counter(LoginEvent.objects.values_list("tenant__slug", flat=True))
    assert sizes["gen-001"] > sizes["gen-002"] > 0 and sizes["gen-003"] > 0


def test_every_row_belongs_to_its_tenant_and_tenants_never_cross():
    _generate()
    # A known person is always the tenant's own...
    assert not LoginEvent.objects.filter(user__isnull=False).exclude(
        user__tenant_id=F("tenant_id")).exists()
    # ...and every attempted address (known or not) is at the tenant's own mail domain.
    for tenant in Tenant.objects.filter(slug__startswith="gen-"):
        logins = LoginEvent.objects.filter(tenant=tenant).values_list("attempted_login", flat=True)
        assert {login.rsplit("@", 1)[1] for login in logins} == {f"{tenant.slug}.example"}


def test_outcome_mix_clients_and_times_are_sane():
    _generate(events=6000, days=10)
    events = LoginEvent.objects.all()
    outcomes = Counter(events.values_list("outcome", flat=True))
    total = sum(outcomes.values())
    assert 0.80 <= outcomes[Outcome.SUCCESS] / total <= 0.93
    assert 0.03 <= outcomes[Outcome.FAILURE] / total <= 0.12
    assert outcomes[Outcome.DENIED] and outcomes[Outcome.CHALLENGE] and outcomes[Outcome.SIGNOUT]
    unknown = events.filter(reason="unknown_account")
    assert unknown.exists() and not unknown.filter(user__isnull=False).exists()
    assert len(set(events.values_list("country", flat=True))) >= 4
    assert events.exclude(browser_family="").exists() and events.exclude(user_agent="").exists()
    now = datetime.now(UTC)
    oldest = events.order_by("occurred_at").first().occurred_at
    assert now - timedelta(days=12) <= oldest
    assert events.order_by("-occurred_at").first().occurred_at <= now  # nothing in the future
    # The planted anomalies: a burst on one account and a spray from one IP.
    burst = (events.filter(outcome=Outcome.FAILURE).values("attempted_login", "ip")
             .annotate(n=Count("id")).order_by("-n").first())
    assert burst["n"] >= 25


def test_rows_go_to_day_partitions_not_default():
    _generate()
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM activity_loginevent_default")
        assert cursor.fetchone()[0] == 0
        cursor.execute("SELECT count(DISTINCT tableoid) FROM activity_loginevent")
        assert cursor.fetchone()[0] >= 6


def test_generating_twice_appends_to_existing_partitions_with_fresh_ids():
    _generate(events=1000)
    first_max = LoginEvent.objects.order_by("-id").first().id
    _generate(events=1000, seed=6)
    assert LoginEvent.objects.count() == 2000
    assert LoginEvent.objects.values("id").distinct().count() == 2000
    assert LoginEvent.objects.order_by("-id").first().id > first_max


def test_same_seed_same_history():
    tenant = Tenant.objects.create(name="Seedy", slug="seedy", timezone="Europe/Berlin")
    MailDomain.objects.create(tenant=tenant, domain="seedy.example")
    fields = ("attempted_login", "occurred_at", "ip", "outcome", "reason", "user_agent")
    activity_generate(tenants=[tenant], people=5, events=0, days=3)  # the people, once
    activity_generate(tenants=[tenant], people=None, events=300, days=3, seed=11)
    first = sorted(LoginEvent.objects.values_list(*fields))
    LoginEvent.objects.all().delete()
    activity_generate(tenants=[tenant], people=None, events=300, days=3, seed=11)
    assert sorted(LoginEvent.objects.values_list(*fields)) == first


def test_loaded_partitions_are_shaped_like_the_ones_made_ahead():
    # The loader builds each day's table apart (a bounds CHECK, parallel_workers for its index
    # builds) and attaches it: nothing of that may stay behind on the product's table.
    _generate()
    with connection.cursor() as cursor:
        cursor.execute("""
            SELECT c.relname, c.reloptions,
                   array(SELECT pg_get_constraintdef(k.oid) FROM pg_constraint k
                         WHERE k.conrelid = c.oid ORDER BY 1),
                   array(SELECT regexp_replace(pg_get_indexdef(i.indexrelid), '^.* USING ', '')
                         FROM pg_index i WHERE i.indrelid = c.oid ORDER BY 1)
            FROM pg_inherits h JOIN pg_class c ON c.oid = h.inhrelid
            WHERE h.inhparent = 'activity_loginevent'::regclass""")
        shapes: dict[tuple, list[str]] = {}
        for name, options, constraints, indexes in cursor.fetchall():
            shapes.setdefault((tuple(options or ()), tuple(constraints), tuple(indexes)), []).append(name)
    assert len(shapes) == 1, shapes
    ((options, constraints, indexes),) = shapes
    assert options == () and len(indexes) == 6 and any("FOREIGN KEY" in c for c in constraints)
