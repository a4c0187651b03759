from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.core.exceptions import ValidationError

from activity.models import Reason
from security.policies.base import Verdict
from security.policies.mfa.rules import MfaRequirement, MfaRules, grace_days_left, mfa_requirement
from security.policies.mfa.selectors import mfa_policy_get, mfa_rules_for
from security.policies.mfa.services import mfa_policy_update
from tenants.roles import Role

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


def rules(requirement: str, *, grace_days: int = 7, started: datetime | None = None) -> MfaRules:
    return MfaRules(requirement=requirement, grace_days=grace_days, grace_started_at=started)


@pytest.mark.parametrize("requirement", MfaRequirement.values)
@pytest.mark.parametrize("role", Role.values)
def test_a_person_with_a_device_is_always_challenged(requirement, role):
    decision = mfa_requirement(role, True, NOW, rules(requirement, started=NOW))
    assert decision.verdict == Verdict.CHALLENGE and decision.reason == Reason.MFA_CHALLENGE


@pytest.mark.parametrize(("requirement", "role", "required"), [
    (MfaRequirement.OFF, Role.OWNER, False),
    (MfaRequirement.OPTIONAL, Role.ADMIN, False),
    (MfaRequirement.REQUIRED_ADMINS, Role.OWNER, True),
    (MfaRequirement.REQUIRED_ADMINS, Role.ADMIN, True),
    (MfaRequirement.REQUIRED_ADMINS, Role.AUDITOR, False),
    (MfaRequirement.REQUIRED_ADMINS, Role.HELPDESK, False),
    (MfaRequirement.REQUIRED_ADMINS, Role.MEMBER, False),
    (MfaRequirement.REQUIRED_ALL, Role.MEMBER, True),
    (MfaRequirement.REQUIRED_ALL, Role.AUDITOR, True),
])
def test_who_must_enrol_once_grace_is_over(requirement, role, required):
    over = rules(requirement, grace_days=7, started=NOW - timedelta(days=8))
    decision = mfa_requirement(role, False, NOW, over)
    if required:
        assert decision.verdict == Verdict.CHALLENGE and decision.reason == Reason.MFA_ENROLLMENT_REQUIRED
    else:
        assert decision.allowed and decision.reason == "" and decision.grace_days is None


def test_grace_period_counts_down_then_forces_enrolment():
    r = rules(MfaRequirement.REQUIRED_ALL, grace_days=7, started=NOW)
    assert grace_days_left(Role.MEMBER, False, NOW, r) == 7
    assert grace_days_left(Role.MEMBER, False, NOW + timedelta(days=6, hours=1), r) == 1
    decision = mfa_requirement(Role.MEMBER, False, NOW + timedelta(days=6, hours=23), r)
    assert decision.allowed and decision.reason == "" and decision.grace_days == 1
    end = NOW + timedelta(days=7)
    assert grace_days_left(Role.MEMBER, False, end, r) == 0
    assert mfa_requirement(Role.MEMBER, False, end, r).reason == Reason.MFA_ENROLLMENT_REQUIRED
    # No banner for people the requirement does not concern or who have a device.
    assert grace_days_left(Role.MEMBER, True, NOW, r) is None
    assert grace_days_left(Role.MEMBER, False, NOW, rules(MfaRequirement.OPTIONAL)) is None


def test_zero_grace_days_means_enrol_now():
    r = rules(MfaRequirement.REQUIRED_ALL, grace_days=0, started=NOW)
    assert mfa_requirement(Role.MEMBER, False, NOW, r).reason == Reason.MFA_ENROLLMENT_REQUIRED


@pytest.mark.django_db
def test_raising_the_requirement_starts_the_grace_period(two_tenants):
    a = two_tenants.a
    policy = mfa_policy_update(tenant=a.tenant, actor=a.admin,
                                       requirement=MfaRequirement.REQUIRED_ADMINS, grace_days=10, now=NOW)
    assert policy.grace_started_at == NOW and policy.updated_by == a.admin
    later = NOW + timedelta(days=2)
    # Same requirement, different grace: the clock does not restart.
    policy = mfa_policy_update(tenant=a.tenant, actor=a.admin,
                                       requirement=MfaRequirement.REQUIRED_ADMINS, grace_days=5, now=later)
    assert policy.grace_started_at == NOW
    # Raising again (members now concerned) restarts it for them.
    policy = mfa_policy_update(tenant=a.tenant, actor=a.admin,
                                       requirement=MfaRequirement.REQUIRED_ALL, grace_days=5, now=later)
    assert policy.grace_started_at == later
    policy = mfa_policy_update(tenant=a.tenant, actor=a.admin,
                                       requirement=MfaRequirement.OPTIONAL, grace_days=5, now=later)
    assert policy.grace_started_at is None
    assert mfa_rules_for(tenant=two_tenants.b.tenant).requirement == MfaRequirement.OPTIONAL


@pytest.mark.django_db
@pytest.mark.parametrize(("requirement", "grace"), [
    ("always", 7), ("required_all", -1), ("required_all", 91), ("required_all", "soon"), ("", None),
])
def test_bad_input_changes_nothing(two_tenants, requirement, grace):
    a = two_tenants.a
    with pytest.raises(ValidationError):
        mfa_policy_update(tenant=a.tenant, actor=a.admin, requirement=requirement, grace_days=grace)
    policy = mfa_policy_get(tenant=a.tenant)
    assert policy.requirement == MfaRequirement.OPTIONAL and policy.grace_started_at is None


@pytest.mark.django_db
def test_only_policy_managers_of_the_tenant_may_change_it(two_tenants):
    for actor in (two_tenants.a.auditor, two_tenants.a.helpdesk, two_tenants.b.owner):
        with pytest.raises(ValidationError):
            mfa_policy_update(tenant=two_tenants.a.tenant, actor=actor,
                                      requirement=MfaRequirement.REQUIRED_ALL, grace_days=0)
    assert mfa_rules_for(tenant=two_tenants.a.tenant).requirement == MfaRequirement.OPTIONAL
