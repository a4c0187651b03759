from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.core.exceptions import ValidationError

from activity.models import Reason
from security.policies.sessions.rules import SessionRules, session_state
from security.policies.sessions.selectors import session_policy_get, session_rules_for
from security.policies.sessions.services import session_policy_update

START = datetime(2026, 3, 29, 0, 30, tzinfo=UTC)  # a DST night in Europe: UTC arithmetic is unaffected
RULES = SessionRules(idle_timeout_minutes=60, absolute_lifetime_hours=12)


def test_an_active_session_within_both_limits_is_allowed():
    now = START + timedelta(hours=3)
    assert session_state(START, now - timedelta(minutes=59, seconds=59), now, RULES).allowed


def test_idle_timeout_boundary():
    now = START + timedelta(hours=3)
    decision = session_state(START, now - timedelta(minutes=60), now, RULES)
    assert not decision.allowed and decision.reason == Reason.SESSION_IDLE_TIMEOUT


def test_absolute_lifetime_ends_even_an_active_session():
    now = START + timedelta(hours=12)
    decision = session_state(START, now, now, RULES)
    assert decision.reason == Reason.SESSION_LIFETIME_ENDED
    assert session_state(START, now, now - timedelta(seconds=1), RULES).allowed


def test_lifetime_wins_when_both_passed():
    now = START + timedelta(days=2)
    assert session_state(START, START, now, RULES).reason == Reason.SESSION_LIFETIME_ENDED


def test_defaults():
    assert SessionRules() == SessionRules(idle_timeout_minutes=60, absolute_lifetime_hours=12)


@pytest.mark.django_db
def test_update_and_isolation(two_tenants):
    a, b = two_tenants.a, two_tenants.b
    session_policy_update(tenant=a.tenant, actor=a.owner, idle_timeout_minutes=15,
                                  absolute_lifetime_hours=8)
    assert session_rules_for(tenant=a.tenant) == SessionRules(15, 8)
    assert session_rules_for(tenant=b.tenant) == SessionRules()


@pytest.mark.django_db
@pytest.mark.parametrize(("idle", "lifetime"), [
    (4, 12), (1441, 24), (60, 0), (60, 721), ("x", 12), (None, 12), (600, 2), (True, 12),
])
def test_bad_values_change_nothing(two_tenants, idle, lifetime):
    a = two_tenants.a
    with pytest.raises(ValidationError):
        session_policy_update(tenant=a.tenant, actor=a.admin, idle_timeout_minutes=idle,
                                      absolute_lifetime_hours=lifetime)
    policy = session_policy_get(tenant=a.tenant)
    assert (policy.idle_timeout_minutes, policy.absolute_lifetime_hours) == (60, 12)
