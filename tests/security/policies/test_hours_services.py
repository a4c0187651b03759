from __future__ import annotations

from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError

from security.policies.base import Mode
from security.policies.hours.models import SignInHoursPolicy
from security.policies.hours.rules import HoursScope, window_open
from security.policies.hours.selectors import hours_policy_get, hours_rules_for
from security.policies.hours.services import hours_policy_update
from tests.security.policies.test_hours import BERLIN, MON, TUE, iv, local, utc

# --- Services -----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_update_stores_normalised_schedule_and_rules_use_tenant_zone(two_tenants):
    tenant = two_tenants.a.tenant
    tenant.timezone = BERLIN
    tenant.save()
    monday_noon_berlin = local(BERLIN, 2026, 3, 2, 12, 0)
    policy = hours_policy_update(
        tenant=tenant, actor=two_tenants.a.owner, schedule=[iv(TUE, "9:00", "17:00"), iv(MON, "08:00", "18:00")],
        mode=Mode.ENFORCE, scope=HoursScope.EVERYONE, confirm_self_lockout=False, now=monday_noon_berlin)
    policy.refresh_from_db()
    assert policy.schedule == [iv(MON, "08:00", "18:00"), iv(TUE, "09:00", "17:00")]
    assert policy.updated_by == two_tenants.a.owner
    built = hours_rules_for(tenant=tenant)
    assert built.tz == ZoneInfo(BERLIN)
    assert window_open(utc(2026, 3, 2, 7, 0), built)  # 08:00 Berlin
    assert not window_open(utc(2026, 3, 2, 6, 59), built)
    assert hours_rules_for(tenant=two_tenants.b.tenant).mode == Mode.OFF


@pytest.mark.django_db
def test_self_lockout_needs_confirmation(two_tenants):
    tenant, admin = two_tenants.a.tenant, two_tenants.a.admin
    evening = utc(2026, 3, 2, 20, 0)
    args = {"tenant": tenant, "schedule": [iv(MON, "09:00", "17:00")], "mode": Mode.ENFORCE, "now": evening}
    with pytest.raises(ValidationError) as caught:
        hours_policy_update(actor=admin, scope=HoursScope.EVERYONE, confirm_self_lockout=False, **args)
    assert caught.value.code == "self_lockout"
    assert hours_policy_get(tenant=tenant).mode == Mode.OFF
    # Members-only scope does not cover the admin: no confirmation needed.
    hours_policy_update(actor=admin, scope=HoursScope.MEMBERS, confirm_self_lockout=False, **args)
    hours_policy_update(actor=admin, scope=HoursScope.EVERYONE, confirm_self_lockout=True, **args)
    policy = SignInHoursPolicy.objects.get(tenant=tenant)
    assert (policy.mode, policy.scope) == (Mode.ENFORCE, HoursScope.EVERYONE)


@pytest.mark.django_db
def test_invalid_update_changes_nothing(two_tenants):
    tenant, owner = two_tenants.a.tenant, two_tenants.a.owner
    hours_policy_update(tenant=tenant, actor=owner, schedule=[iv(MON, "09:00", "17:00")], mode=Mode.MONITOR,
                        scope=HoursScope.EVERYONE, confirm_self_lockout=False)
    for bad in ({"schedule": [iv(MON, "09:00", "12:00"), iv(MON, "11:00", "13:00")]},
                {"schedule": []}, {"mode": "later"}, {"scope": "cats"}):
        args = {"schedule": [iv(TUE, "09:00", "17:00")], "mode": Mode.ENFORCE, "scope": HoursScope.EVERYONE, **bad}
        with pytest.raises(ValidationError):
            hours_policy_update(tenant=tenant, actor=owner, confirm_self_lockout=True, **args)
    policy = SignInHoursPolicy.objects.get(tenant=tenant)
    assert policy.mode == Mode.MONITOR and policy.schedule == [iv(MON, "09:00", "17:00")]


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["auditor", "helpdesk", "member"])
def test_only_policy_managers_may_change_it(two_tenants, role):
    """The service checks POLICY_MANAGE itself, whatever the caller (defect 5)."""
    a = two_tenants.a
    with pytest.raises(ValidationError) as caught:
        hours_policy_update(tenant=a.tenant, actor=a.by_role(role), schedule=[iv(MON, "09:00", "17:00")],
                            mode=Mode.MONITOR, scope=HoursScope.EVERYONE, confirm_self_lockout=True)
    assert caught.value.code == "capability"
    assert hours_rules_for(tenant=a.tenant).mode == Mode.OFF
    assert not SignInHoursPolicy.objects.exclude(mode=Mode.OFF).exists()
