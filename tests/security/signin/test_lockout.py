from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from axes.models import AccessAttempt
from django.core.exceptions import ValidationError
from django.test import RequestFactory

from activity.models import AuditLogEntry
from people.services import person_unlock
from security.policies.lockout.rules import DEFAULT_RULES
from security.policies.lockout.services import lockout_policy_update
from security.signin import lockout
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def tenant_lockout_settings(settings):
    """The settings lines the integrator adds (see security.signin.lockout's header)."""
    settings.AXES_FAILURE_LIMIT = "security.signin.lockout.failure_limit"
    settings.AXES_COOLOFF_TIME = "security.signin.lockout.cooloff"
    settings.AXES_USE_ATTEMPT_EXPIRATION = True


def attempt(client, email: str, password: str) -> int:
    return client.post("/signin/", {"email": email, "password": password}).status_code


def test_callables_resolve_the_tenant_from_the_mail_domain(two_tenants):
    lockout_policy_update(tenant=two_tenants.a.tenant, actor=two_tenants.a.admin,
                                  failure_limit=3, cooloff_minutes=40)
    factory = RequestFactory()
    request = factory.post("/signin/", {"email": "Nobody@ACME.example"})
    assert lockout.failure_limit(request, {"email": "Nobody@ACME.example"}) == 3
    assert lockout.cooloff(request) == timedelta(minutes=40)
    other = factory.post("/signin/", {"email": "x@globex.example"})
    assert lockout.failure_limit(other, None) == 5 and lockout.cooloff(other) == timedelta(minutes=15)
    unknown = factory.post("/signin/", {"email": "x@elsewhere.test"})
    assert lockout.cooloff(unknown) == DEFAULT_RULES.cooloff
    assert lockout.cooloff(None) == DEFAULT_RULES.cooloff


def test_rules_are_looked_up_once_per_request(two_tenants, django_assert_num_queries):
    request = RequestFactory().post("/signin/", {"email": "member@acme.example"})
    with django_assert_num_queries(1):
        for _ in range(5):
            lockout.failure_limit(request, {"email": "member@acme.example"})
            lockout.cooloff(request)


def test_per_tenant_limit_through_the_real_signin(two_tenants, make_client):
    a, b = two_tenants.a, two_tenants.b
    lockout_policy_update(tenant=a.tenant, actor=a.admin, failure_limit=3, cooloff_minutes=15)
    acme, globex = make_client(), make_client()
    for _ in range(3):
        assert attempt(acme, a.member.email, "wrong password!") == 200
        assert attempt(globex, b.member.email, "wrong password!") == 200
    # Acme's limit is 3: the right password is now refused, with the same page as a wrong one.
    refused = acme.post("/signin/", {"email": a.member.email, "password": PASSWORD})
    assert refused.status_code == 200 and "_auth_user_id" not in acme.session
    # Globex keeps the default 5: three failures do not lock.
    assert attempt(globex, b.member.email, PASSWORD) == 302


def test_case_variants_share_one_bucket(two_tenants, make_client):
    a = two_tenants.a
    lockout_policy_update(tenant=a.tenant, actor=a.admin, failure_limit=3, cooloff_minutes=15)
    client = make_client()
    for variant in ("MEMBER@acme.example", "Member@Acme.Example", " member@ACME.EXAMPLE "):
        attempt(client, variant, "wrong password!")
    assert set(AccessAttempt.objects.values_list("username", flat=True)) == {"member@acme.example"}
    assert attempt(client, "member@acme.example", PASSWORD) == 200


def test_cooloff_ends_by_itself(two_tenants, make_client):
    a = two_tenants.a
    lockout_policy_update(tenant=a.tenant, actor=a.admin, failure_limit=3, cooloff_minutes=10)
    client = make_client()
    with time_machine.travel(NOW, tick=False):
        for _ in range(3):
            attempt(client, a.member.email, "wrong password!")
        assert attempt(client, a.member.email, PASSWORD) == 200
    with time_machine.travel(NOW + timedelta(minutes=9), tick=False):
        assert attempt(client, a.member.email, PASSWORD) == 200
    with time_machine.travel(NOW + timedelta(minutes=20), tick=False):
        assert attempt(client, a.member.email, PASSWORD) == 302


def test_a_short_cooloff_elsewhere_does_not_unlock_this_tenant(two_tenants, make_client):
    a, b = two_tenants.a, two_tenants.b
    lockout_policy_update(tenant=a.tenant, actor=a.admin, failure_limit=3, cooloff_minutes=60)
    lockout_policy_update(tenant=b.tenant, actor=b.admin, failure_limit=3, cooloff_minutes=1)
    with time_machine.travel(NOW, tick=False):
        for _ in range(3):
            attempt(make_client(), a.member.email, "wrong password!")
    with time_machine.travel(NOW + timedelta(minutes=5), tick=False):
        attempt(make_client(), b.member.email, "wrong password!")  # Globex's 1-minute clean-up
        assert attempt(make_client(), a.member.email, PASSWORD) == 200


def test_unlock_from_console_is_audited(two_tenants, make_client, signed_in):
    a = two_tenants.a
    lockout_policy_update(tenant=a.tenant, actor=a.admin, failure_limit=3, cooloff_minutes=15)
    attacker = make_client()
    for _ in range(3):
        attempt(attacker, a.member.email, "wrong password!")
    # A Globex member locked too: Acme's helpdesk must not see them.
    for _ in range(5):
        attempt(attacker, two_tenants.b.member.email, "wrong password!")

    helpdesk = signed_in(a.helpdesk)
    page = helpdesk.get("/people/locked/").content.decode()
    assert a.member.email in page and two_tenants.b.member.email not in page
    assert [row.person for row in lockout.locked_accounts_list(tenant=a.tenant)] == [a.member]

    # Unlocking asks for a fresh confirmation of who the helpdesk person is.
    assert helpdesk.post("/me/mfa/confirm/", {"secret": PASSWORD}).status_code == 302
    response = helpdesk.post(f"/people/{a.member.pk}/unlock/")
    assert response.status_code == 302
    assert lockout.locked_accounts_list(tenant=a.tenant) == []
    entry = AuditLogEntry.objects.for_tenant(a.tenant).get(object_pk=str(a.member.pk),
                                                           changes__lockout__isnull=False)
    assert entry.actor == a.helpdesk and entry.changes == {"lockout": ["locked", "unlocked"]}
    assert attempt(make_client(), a.member.email, PASSWORD) == 302
    # The other tenant's person stays locked, and their id is a 404 here.
    assert helpdesk.post(f"/people/{two_tenants.b.member.pk}/unlock/").status_code == 404
    assert [row.person for row in lockout.locked_accounts_list(tenant=two_tenants.b.tenant)] == [
        two_tenants.b.member]


def test_unlock_rules(two_tenants):
    a = two_tenants.a
    with pytest.raises(ValidationError, match="not locked"):
        person_unlock(tenant=a.tenant, actor=a.admin, person=a.member)
    with pytest.raises(ValidationError):  # helpdesk acts on members only
        person_unlock(tenant=a.tenant, actor=a.helpdesk, person=a.admin)
    with pytest.raises(ValidationError):
        person_unlock(tenant=a.tenant, actor=a.auditor, person=a.member)
    with pytest.raises(ValidationError):
        person_unlock(tenant=a.tenant, actor=a.admin, person=two_tenants.b.member)
    assert not AuditLogEntry.objects.filter(changes__lockout__isnull=False).exists()


def test_locked_list_query_count(two_tenants, make_client, django_assert_max_num_queries):
    a = two_tenants.a
    for person in (a.member, a.auditor, a.helpdesk):
        for _ in range(5):
            attempt(make_client(), person.email, "wrong password!")
    with django_assert_max_num_queries(4):
        rows = lockout.locked_accounts_list(tenant=a.tenant)
        assert {r.person.email for r in rows} == {a.member.email, a.auditor.email, a.helpdesk.email}


def test_locked_list_of_one_person(two_tenants, make_client):
    a, b = two_tenants.a, two_tenants.b
    for person in (a.member, a.auditor, b.member):
        for _ in range(5):
            attempt(make_client(), person.email, "wrong password!")
    assert [r.person for r in lockout.locked_accounts_list(tenant=a.tenant, person=a.member)] == [
        a.member]
    assert lockout.locked_accounts_list(tenant=a.tenant, person=a.admin) == []
    # Another tenant's person is nobody here, locked or not.
    assert lockout.locked_accounts_list(tenant=a.tenant, person=b.member) == []
