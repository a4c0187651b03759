"""The per-account ceiling: its tenant settings, the failures it counts, and what it costs."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.db import connection, reset_queries
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from activity.models import LoginEvent, Reason
from security.models import LockoutPolicy
from security.policies.lockout.rules import DEFAULT_RULES, LockoutRules
from security.policies.lockout.selectors import lockout_rules_for, lockout_rules_for_domain
from security.policies.lockout.services import lockout_policy_update
from security.signin.ceiling import account_failures_count
from tests.factories import PASSWORD
from tests.security.signin_support import post_signin, totp_from_page

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def test_defaults_and_the_page_shows_and_saves_them(two_tenants, signed_in):
    assert (DEFAULT_RULES.ceiling, DEFAULT_RULES.ceiling_window) == (30, timedelta(hours=12))
    client = signed_in(two_tenants.a.owner)
    page = client.get("/policies/lockout/").content.decode()
    assert re.search(r'data-testid="policy-ceiling">30<', page)
    assert re.search(r'data-testid="policy-ceiling-hours">12 hours<', page)
    response = client.post("/policies/lockout/", {"failure_limit": "5", "cooloff_minutes": "15",
                                                   "account_ceiling": "60", "ceiling_hours": "24"})
    assert response.status_code == 302
    rules = lockout_rules_for(tenant=two_tenants.a.tenant)
    assert (rules.ceiling, rules.ceiling_window) == (60, timedelta(hours=24))
    assert lockout_rules_for_domain(domain="acme.example").ceiling == 60
    assert lockout_rules_for(tenant=two_tenants.b.tenant).ceiling == 30


def test_the_auditor_reads_the_ceiling_without_a_form(two_tenants, signed_in):
    page = signed_in(two_tenants.a.auditor).get("/policies/lockout/").content.decode()
    assert 'data-testid="policy-ceiling"' in page and 'name="account_ceiling"' not in page


@pytest.mark.parametrize(("ceiling", "hours"), [(0, 12), (-1, 12), (9, 12), (1001, 12), (True, 12),
                                                ("thirty", None), (30, 0), (30, 169), (30, "12h")])
def test_the_service_refuses_bad_values_and_saves_nothing(two_tenants, ceiling, hours):
    a = two_tenants.a
    with pytest.raises(ValidationError):
        lockout_policy_update(tenant=a.tenant, actor=a.owner, failure_limit=5, cooloff_minutes=15,
                              account_ceiling=ceiling, ceiling_hours=hours)
    assert not LockoutPolicy.objects.filter(tenant=a.tenant).exists()


def test_leaving_the_ceiling_out_keeps_the_saved_one(two_tenants):
    a = two_tenants.a
    lockout_policy_update(tenant=a.tenant, actor=a.owner, failure_limit=5, cooloff_minutes=15,
                          account_ceiling=50, ceiling_hours=6)
    lockout_policy_update(tenant=a.tenant, actor=a.owner, failure_limit=4, cooloff_minutes=20)
    row = LockoutPolicy.objects.get(tenant=a.tenant)
    assert (row.failure_limit, row.account_ceiling, row.ceiling_hours) == (4, 50, 6)


def test_rows_edited_behind_the_validators_are_clamped():
    rules = LockoutRules(account_ceiling=0, ceiling_hours=100000)
    assert rules.ceiling == 10 and rules.ceiling_window == timedelta(hours=168)


def test_wrong_codes_count_and_the_second_step_is_throttled_too(two_tenants, make_client):
    """Someone who has the password but not the phone meets the same ceiling at the code step."""
    a = two_tenants.a
    lockout_policy_update(tenant=a.tenant, actor=a.owner, failure_limit=5, cooloff_minutes=15,
                          account_ceiling=10, ceiling_hours=12)
    with time_machine.travel(NOW - timedelta(days=1), tick=True):  # the member enrols a phone
        from security.policies.mfa.services import mfa_policy_update

        mfa_policy_update(tenant=a.tenant, actor=a.owner, requirement="required_all", grace_days=0)
        owner_browser = make_client()
        post_signin(owner_browser, a.member.email, PASSWORD)
        page = owner_browser.get(reverse("signin_mfa_enroll")).content.decode()
        step = re.search(r'name="step" value="([^"]+)"', page).group(1)
        totp = totp_from_page(page)
        assert owner_browser.post(reverse("signin_mfa_enroll"),
                                  {"step": step, "code": totp.now(), "name": "Phone"}).status_code == 302
    with time_machine.travel(NOW, tick=True):
        def wrong_code(host: int) -> None:
            bot = make_client()
            assert post_signin(bot, a.member.email, PASSWORD, ip=f"127.0.0.{host}")["Location"] \
                == reverse("signin_mfa")
            bot.post(reverse("signin_mfa"), {"code": "000000"}, REMOTE_ADDR=f"127.0.0.{host}")

        for host in range(9):
            wrong_code(host // 4 + 1)
        waiting = make_client()  # passed the password while the count was 9
        assert post_signin(waiting, a.member.email, PASSWORD, ip="127.0.0.8")["Location"] == reverse("signin_mfa")
        wrong_code(7)
        assert account_failures_count(user=a.member, rules=lockout_rules_for(tenant=a.tenant)) == 10
        # The ceiling is reached: the waiting browser's code is refused without being checked …
        refused = waiting.post(reverse("signin_mfa"), {"code": totp.now()}, REMOTE_ADDR="127.0.0.8")
        assert refused.status_code == 200 and "_auth_user_id" not in waiting.session
        last = LoginEvent.objects.for_tenant(a.tenant).filter(user=a.member).order_by("-id").first()
        assert last.reason == Reason.ACCOUNT_THROTTLED
        # … and a new browser at the password step.
        assert post_signin(make_client(), a.member.email, PASSWORD, ip="127.0.0.9").status_code == 200
    # The member's own browser passes both steps (after the authenticator's own back-off).
    with time_machine.travel(NOW + timedelta(minutes=15), tick=True):
        assert post_signin(owner_browser, a.member.email, PASSWORD, ip="127.0.0.30")["Location"] \
            == reverse("signin_mfa")
        assert owner_browser.post(reverse("signin_mfa"), {"code": totp.now()},
                                  REMOTE_ADDR="127.0.0.30").status_code == 302

def test_one_bounded_query_that_stops_at_the_ceiling(two_tenants, make_client):
    a = two_tenants.a
    rules = lockout_rules_for(tenant=a.tenant)
    with time_machine.travel(NOW, tick=True):
        for host in range(1, 9):
            bot = make_client()
            for attempt in range(5):
                post_signin(bot, a.member.email, f"guess-{attempt}", ip=f"127.0.0.{host}")
        with CaptureQueriesContext(connection) as queries:
            assert account_failures_count(user=a.member, rules=rules) == rules.ceiling
    assert len(queries) == 1
    sql = queries[0]["sql"]
    assert f"LIMIT {rules.ceiling}" in sql and '"tenant_id" =' in sql and "occurred_at\" <=" in sql
    # The refused attempts were recorded, and are not counted.
    assert LoginEvent.objects.for_tenant(a.tenant).filter(reason=Reason.ACCOUNT_THROTTLED).count() == 10


def test_helpdesk_sees_the_ceiling_and_an_unlock_lifts_it(two_tenants, make_client, signed_in):
    from security.signin.lockout import locked_accounts_list

    a = two_tenants.a
    lockout_policy_update(tenant=a.tenant, actor=a.owner, failure_limit=5, cooloff_minutes=15,
                          account_ceiling=10, ceiling_hours=12)
    with time_machine.travel(NOW, tick=True):
        for host in (1, 2):
            bot = make_client()
            for attempt in range(5):
                post_signin(bot, a.member.email, f"guess-{attempt}", ip=f"127.0.0.{host}")
        rows = locked_accounts_list(tenant=a.tenant, person=a.member)
        ceiling_rows = [row for row in rows if row.ip_address is None]
        assert len(ceiling_rows) == 1 and ceiling_rows[0].failures == 10
        assert ceiling_rows[0].unlocks_at - ceiling_rows[0].last_attempt_at == timedelta(hours=12)
        assert locked_accounts_list(tenant=two_tenants.b.tenant) == []
        # The per-IP buckets expire after their cool-off; the ceiling stays.
    with time_machine.travel(NOW + timedelta(minutes=30), tick=True):
        assert [row.ip_address for row in locked_accounts_list(tenant=a.tenant)] == [None]
        assert post_signin(make_client(), a.member.email, PASSWORD, ip="127.0.0.9").status_code == 200
        helpdesk = make_client()
        assert post_signin(helpdesk, a.helpdesk.email, PASSWORD, ip="127.0.0.40").status_code == 302
        assert a.member.email in helpdesk.get("/people/locked/").content.decode()
        # Unlocking asks for a fresh confirmation of who the helpdesk person is.
        assert helpdesk.post("/me/mfa/confirm/", {"secret": PASSWORD}).status_code == 302
        assert helpdesk.post(f"/people/{a.member.pk}/unlock/").status_code == 302
        assert locked_accounts_list(tenant=a.tenant) == []
        # A new browser signs in again; the failures before the unlock no longer count …
        assert post_signin(make_client(), a.member.email, PASSWORD, ip="127.0.0.9").status_code == 302
        assert account_failures_count(user=a.member, rules=lockout_rules_for(tenant=a.tenant)) == 0
        # … but new ones do.
        post_signin(make_client(), a.member.email, "again", ip="127.0.0.3")
        assert account_failures_count(user=a.member, rules=lockout_rules_for(tenant=a.tenant)) == 1


def test_a_recognised_browser_costs_no_more_queries_than_a_new_one(two_tenants, make_client):
    """New browser: the ceiling's count, and the cookie's row rides in the sign-in's INSERT.
    Returning browser: the cookie's look-up instead of the count."""
    member = two_tenants.a.member
    post_signin(make_client(), two_tenants.a.auditor.email, PASSWORD)  # warm caches
    laptop = make_client()

    def signin_sql() -> list[str]:
        reset_queries()  # each request resets the log: capture from its start
        with CaptureQueriesContext(connection) as captured:
            assert post_signin(laptop, member.email, PASSWORD).status_code == 302
        return [q["sql"] for q in captured]

    first = signin_sql()
    laptop.post("/signout/")
    again = signin_sql()

    def ceiling_counts(sql: list[str]) -> int:
        return sum(q.startswith("SELECT COUNT(*)") and "activity_loginevent" in q for q in sql)

    def cookie_lookups(sql: list[str]) -> int:
        return sum(q.startswith("SELECT") and 'FROM "security_devicecookie"' in q for q in sql)

    assert (ceiling_counts(first), cookie_lookups(first)) == (1, 0)
    assert (ceiling_counts(again), cookie_lookups(again)) == (0, 1)
    assert sum("INSERT" in q and "security_devicecookie" in q for q in first) == 1
    assert not any("security_devicecookie" in q and "INSERT" in q for q in again)
    assert len(again) <= len(first)
