from __future__ import annotations

import pytest

from security.policies.base import Mode
from security.policies.hours.models import SignInHoursPolicy
from security.policies.hours.selectors import hours_policy_get
from security.policies.network.models import NetworkPolicy
from tests.security.policies.test_access_pages import (
    HOURS,
    MONDAY_EVENING,
    MONDAY_MORNING,
    audit_of,
    hours_form,
)

pytestmark = pytest.mark.django_db


# --- Hours page ---------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["owner", "admin"])
def test_owner_and_admin_save_hours(two_tenants, signed_in, role, time_machine):
    time_machine.move_to(MONDAY_MORNING, tick=False)
    tenant = two_tenants.a.tenant
    tenant.timezone = "Europe/Berlin"
    tenant.save()
    client = signed_in(two_tenants.a.by_role(role))
    page = client.get(HOURS).content.decode()
    assert 'data-testid="tenant-timezone">Europe/Berlin<' in page
    response = client.post(HOURS, hours_form(Mode.ENFORCE, day_0="8:00-18:00; 20:00 - 22:00",
                                             day_4="09:00-12:00, 22:00-02:00", day_6="00:00-24:00"))
    assert response.status_code == 302 and response["Location"] == HOURS
    policy = SignInHoursPolicy.objects.get(tenant=tenant)
    assert policy.mode == Mode.ENFORCE and policy.updated_by == two_tenants.a.by_role(role)
    assert policy.schedule == [
        {"day": 0, "start": "08:00", "end": "18:00"}, {"day": 0, "start": "20:00", "end": "22:00"},
        {"day": 4, "start": "09:00", "end": "12:00"}, {"day": 4, "start": "22:00", "end": "02:00"},
        {"day": 6, "start": "00:00", "end": "24:00"},
    ]
    page = client.get(HOURS).content.decode()
    assert 'value="08:00-18:00, 20:00-22:00"' in page
    assert 'data-testid="open-now"><span class="badge active">' in page  # 11:00 in Berlin


def test_hours_self_lockout_asks_for_confirmation(two_tenants, signed_in, time_machine):
    client = signed_in(two_tenants.a.admin)
    time_machine.move_to(MONDAY_EVENING, tick=False)
    data = hours_form(Mode.ENFORCE, day_0="09:00-17:00")
    warned = client.post(HOURS, data)
    assert warned.status_code == 200
    assert 'data-testid="self-lockout-warning"' in warned.content.decode()
    assert hours_policy_get(tenant=two_tenants.a.tenant).mode == Mode.OFF
    # Scoped to members only, the admin is not covered: saved without a question.
    assert client.post(HOURS, {**data, "scope": "members"}).status_code == 302
    assert client.post(HOURS, {**data, "confirm_self_lockout": "on"}).status_code == 302
    policy = SignInHoursPolicy.objects.get()
    assert (policy.mode, policy.scope) == (Mode.ENFORCE, "everyone")


@pytest.mark.parametrize(("days", "mode", "message"), [
    ({"day_0": "09:00-12:00, 11:00-13:00"}, Mode.MONITOR, "overlaps"),
    ({"day_4": "22:00-02:00", "day_5": "01:00-03:00"}, Mode.MONITOR, "overlaps"),
    ({"day_0": "09:00-09:00"}, Mode.MONITOR, "starts and ends at the same time"),
    ({"day_0": "9am-5pm"}, Mode.MONITOR, "is not a time such as 09:00"),
    ({"day_0": "25:00-26:00"}, Mode.MONITOR, "is not a time such as 09:00"),
    ({"day_0": "09:00"}, Mode.MONITOR, "is not a range of times"),
    ({"day_0": "09:00-10:00-11:00"}, Mode.MONITOR, "is not a range of times"),
    ({}, Mode.ENFORCE, "would stop everyone it applies to"),
    ({"day_0": "x" * 10_240}, Mode.MONITOR, "at most 400 characters"),
    ({"day_0": "09:00-10:00, " * 40}, Mode.MONITOR, "at most 400 characters"),
    ({"day_0": "09:00-10:00, " * 3}, Mode.MONITOR, "overlaps"),
    ({"day_0": ", ".join(f"{h:02d}:00-{h:02d}:30" for h in range(24)) + ", 23:40-23:50"}, Mode.MONITOR,
     "more than 24 intervals"),
    ({"day_0": "\x1b\u202e"}, Mode.MONITOR, "is not a range of times"),
    ({"day_0": "09:00-10:00\x00"}, Mode.MONITOR, "Null characters are not allowed"),
    ({"day_0": "09:00-17:00"}, "later", "Select a valid choice"),
])
def test_bad_hours_input_is_a_form_error_and_saves_nothing(two_tenants, signed_in, days, mode, message):
    client = signed_in(two_tenants.a.owner)
    response = client.post(HOURS, hours_form(mode, **days))
    assert response.status_code == 200
    assert message in response.content.decode()
    policy = hours_policy_get(tenant=two_tenants.a.tenant)
    assert policy.mode == Mode.OFF and policy.schedule == []


def test_other_tenants_hours_are_never_shown(two_tenants, signed_in, make_client):
    globex = make_client()
    globex.post("/signin/", {"email": two_tenants.b.owner.email, "password": "Correct-horse-battery-9"})
    assert globex.post(HOURS, hours_form(day_2="03:17-04:29")).status_code == 302
    for role in ("owner", "auditor"):
        body = signed_in(two_tenants.a.by_role(role)).get(HOURS).content.decode()
        assert "03:17" not in body
    assert hours_policy_get(tenant=two_tenants.a.tenant).mode == Mode.OFF


def test_each_hours_change_is_in_the_tenants_audit_trail(two_tenants, signed_in):
    tenant = two_tenants.a.tenant
    client = signed_in(two_tenants.a.owner)
    client.get(HOURS)
    assert audit_of(tenant, SignInHoursPolicy) == []
    client.post(HOURS, hours_form(day_0="09:00-17:00"))
    client.post(HOURS, hours_form(day_0="09:00-18:00"))
    client.post(HOURS, hours_form(day_0="09:00-18:00"))  # unchanged: no entry
    log = audit_of(tenant, SignInHoursPolicy)
    assert len(log) == 2 and all(e.actor_id == two_tenants.a.owner.pk for e in log)
    assert "schedule" in log[1].changes
    assert audit_of(two_tenants.b.tenant, NetworkPolicy) == audit_of(two_tenants.b.tenant, SignInHoursPolicy) == []
