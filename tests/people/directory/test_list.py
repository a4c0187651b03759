"""The people list: each column sorts, each filter narrows, keyset pages walk the whole tenant
once in a stable order, every control is labelled, and the page's query count does not grow with
the tenant (3,000 people)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import User
from security.policies.password.models import PasswordPolicy, PasswordState
from tenants.roles import Role
from tests.accounts.test_mfa_support import enroll
from tests.factories import UserFactory
from tests.people.directory.support import (
    emails_in,
    lock_out,
    open_alert,
    signed_in_at,
    unlabelled_controls,
)

pytestmark = pytest.mark.django_db

URL = "/people/"


@pytest.fixture
def acme(two_tenants):
    """Acme's five role people plus four with distinct facts (names sort a < b < c < d)."""
    a = two_tenants.a
    domain = "acme.example"
    people = {
        "anna": UserFactory(tenant=a.tenant, email=f"anna@{domain}", display_name="Anna Zhou",
                            role=Role.MEMBER),
        "bo": UserFactory(tenant=a.tenant, email=f"bo@{domain}", display_name="bo Li",
                          role=Role.HELPDESK, status=User.Status.SUSPENDED),
        "chen": UserFactory(tenant=a.tenant, email=f"chen@{domain}", display_name="",
                            role=Role.MEMBER, status=User.Status.INVITED),
        "dai": UserFactory(tenant=a.tenant, email=f"zz-dai@{domain}", display_name="Dai Wen",
                           role=Role.AUDITOR),
    }
    enroll(people["anna"])
    signed_in_at(people["anna"], ago=timedelta(days=3))
    signed_in_at(people["anna"], ago=timedelta(hours=2))
    signed_in_at(people["anna"], ago=timedelta(minutes=5), outcome="failure")  # not a sign-in
    signed_in_at(people["dai"], ago=timedelta(days=1))
    lock_out(people["bo"])
    open_alert(people["dai"], 1)
    open_alert(people["dai"], 2)
    open_alert(people["anna"])
    return two_tenants, people


def _mine(emails: list[str], people: dict[str, User]) -> list[str]:
    wanted = {p.email for p in people.values()}
    return [e for e in emails if e in wanted]


@pytest.mark.parametrize(("params", "expected"), [
    ({}, ["anna", "bo", "chen", "dai"]),  # by name: the address stands in for an empty name
    ({"sort": "name", "dir": "desc"}, ["dai", "chen", "bo", "anna"]),
    ({"sort": "email"}, ["anna", "bo", "chen", "dai"]),
    ({"sort": "role"}, ["dai", "bo", "anna", "chen"]),  # auditor, helpdesk, member (then id)
    ({"sort": "status"}, ["chen", "anna", "dai", "bo"]),  # invited, active, suspended
    # Descending: ties by id descending too, so a page reversed is the reversed order.
    ({"sort": "mfa", "dir": "desc"}, ["anna", "dai", "chen", "bo"]),
    ({"sort": "mfa"}, ["bo", "chen", "dai", "anna"]),
    ({"sort": "last_signin", "dir": "desc"}, ["anna", "dai", "chen", "bo"]),
    ({"sort": "locked", "dir": "desc"}, ["bo", "dai", "chen", "anna"]),
    ({"sort": "alerts", "dir": "desc"}, ["dai", "anna", "chen", "bo"]),
])
def test_each_column_sorts(acme, signed_in, params, expected):
    tenants, people = acme
    client = signed_in(tenants.a.admin)
    response = client.get(URL, params)
    assert response.status_code == 200
    assert _mine(emails_in(response.content.decode()), people) == [people[k].email for k in expected]


def test_rows_show_methods_last_signin_lock_and_alerts(acme, signed_in):
    tenants, people = acme
    body = signed_in(tenants.a.admin).get(URL, {"q": "anna"}).content.decode()
    assert emails_in(body) == [people["anna"].email]
    assert "Authenticator app, Backup codes" in body
    last = (timezone.now() - timedelta(hours=2)).strftime("%Y-%m-%d")
    assert f'data-testid="last-signin"><time datetime="{last}' in body
    body = signed_in(tenants.a.admin).get(URL, {"q": "bo@"}).content.decode()
    assert "Locked out" in body and 'data-testid="last-signin"><span class="muted">Never' in body


@pytest.mark.parametrize(("params", "expected"), [
    ({"role": "helpdesk"}, {"bo", "helpdesk"}),
    ({"status": "suspended"}, {"bo"}),
    ({"status": "invited"}, {"chen"}),
    ({"locked": "1"}, {"bo"}),
    ({"q": "ZHOU"}, {"anna"}),  # by name, any case
    ({"q": "zz-dai@"}, {"dai"}),  # by address
    ({"mfa": "none"}, {"bo", "chen", "dai", *Role.values}),  # all but Anna
])
def test_each_filter_narrows(acme, signed_in, params, expected):
    tenants, people = acme
    everyone = {**people, **{role: tenants.a.by_role(role) for role in Role.values}}
    body = signed_in(tenants.a.admin).get(URL, params).content.decode()
    assert set(emails_in(body)) == {everyone[k].email for k in expected}


def test_password_expired_filter_follows_the_policy(acme, signed_in):
    tenants, people = acme
    tenant = tenants.a.tenant
    now = timezone.now()
    PasswordState.objects.create(tenant=tenant, user=people["anna"], changed_at=now - timedelta(days=100))
    PasswordState.objects.create(tenant=tenant, user=people["dai"], changed_at=now - timedelta(days=10))
    client = signed_in(tenants.a.admin)
    body = client.get(URL, {"password": "expired"}).content.decode()
    assert emails_in(body) == [] and 'data-testid="no-expiry"' in body  # passwords never expire
    PasswordPolicy.objects.create(tenant=tenant, expiry_days=90)
    body = client.get(URL, {"password": "expired"}).content.decode()
    assert emails_in(body) == [people["anna"].email]
    assert 'data-testid="password-expired"' in body


def test_other_tenant_stays_invisible(acme, signed_in):
    tenants, _people = acme
    body = signed_in(tenants.b.admin).get(URL, {"q": "acme"}).content.decode()
    assert emails_in(body) == []
    body = signed_in(tenants.b.admin).get(URL).content.decode()
    assert all(e.endswith("@globex.example") for e in emails_in(body)) and emails_in(body)


def test_every_control_is_labelled(acme, signed_in):
    tenants, _people = acme
    body = signed_in(tenants.a.admin).get(URL).content.decode()
    assert "<label" in body and 'for="select-' in body
    assert unlabelled_controls(body) == []
    assert "Search by name or e-mail" in body


def _walk(client, params: dict[str, str]) -> list[list[str]]:
    pages, query = [], dict(params)
    for _ in range(20):
        response = client.get(URL, query)
        assert response.status_code == 200
        pages.append(emails_in(response.content.decode()))
        cursor = response.context["page"].next_cursor
        if not cursor:
            return pages
        query = {**params, "cursor": cursor}
    raise AssertionError("the pages never ended")


@pytest.mark.parametrize("params", [{}, {"sort": "role"}, {"sort": "status", "dir": "desc"},
                                    {"sort": "last_signin", "dir": "desc"}])
def test_keyset_pages_walk_everyone_once_in_a_stable_order(two_tenants, signed_in, params):
    a = two_tenants.a
    User.objects.bulk_create([
        User(tenant=a.tenant, email=f"p{i:03d}@acme.example", display_name=f"Same Name {i % 3}",
             role=[Role.MEMBER, Role.HELPDESK][i % 2],
             status=[User.Status.ACTIVE, User.Status.INVITED][i % 2], password="!")
        for i in range(120)])
    client = signed_in(a.admin)
    pages = _walk(client, params)
    flat = [e for page in pages for e in page]
    assert len(pages) == 3 and [len(p) for p in pages] == [50, 50, 25]
    assert len(flat) == len(set(flat)) == User.objects.for_tenant(a.tenant).count()
    # The second page again, and back from it: the same people in the same order.
    first = client.get(URL, params)
    second = client.get(URL, {**params, "cursor": first.context["page"].next_cursor})
    assert emails_in(second.content.decode()) == pages[1]
    back = client.get(URL, {**params, "cursor": second.context["page"].prev_cursor})
    assert emails_in(back.content.decode()) == pages[0]


def test_a_tampered_or_foreign_cursor_shows_the_first_page(two_tenants, signed_in):
    client = signed_in(two_tenants.a.admin)
    first = emails_in(client.get(URL).content.decode())
    for cursor in ["garbage", "x" * 5000]:
        response = client.get(URL, {"cursor": cursor})
        assert response.status_code == 200 and emails_in(response.content.decode()) == first
    assert "not valid any more" in response.content.decode()


def test_bad_filter_values_are_ignored_not_an_error(two_tenants, signed_in):
    client = signed_in(two_tenants.a.admin)
    response = client.get(URL, {"role": "emperor", "sort": "salary", "dir": "sideways", "mfa": "x"})
    assert response.status_code == 200
    assert len(emails_in(response.content.decode())) == 5


def _page_queries(client, params=None) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(URL, params or {})
    assert response.status_code == 200
    return len(queries)


# Queries of a page, whatever the tenant's size (measured on PostgreSQL when written: session,
# session index, person and tenant, the lockout policy and its buckets, the ceiling, locked people,
# the retention window, the password policy, the page, then one per fact of its rows).
PAGE_QUERIES_MAX = 18


@pytest.mark.parametrize("params", [{}, {"sort": "last_signin", "dir": "desc"},
                                    {"sort": "alerts", "dir": "desc", "mfa": "none"}])
def test_a_3000_person_tenant_renders_a_page_in_a_bounded_number_of_queries(
        two_tenants, signed_in, params):
    a = two_tenants.a
    client = signed_in(a.admin)
    client.get(URL, params)  # the first request after signing in also touches the session
    small = _page_queries(client, params)
    people = User.objects.bulk_create([
        User(tenant=a.tenant, email=f"bulk{i:04d}@acme.example", display_name=f"Bulk {i:04d}",
             role=Role.MEMBER, password="!") for i in range(3000)])
    for person in people[:60]:
        signed_in_at(person, ago=timedelta(hours=1))
        open_alert(person)
    for person in people[:5]:
        enroll(person)
    large = _page_queries(client, params)
    assert large == small
    assert large <= PAGE_QUERIES_MAX
    response = client.get(URL, params)
    assert len(emails_in(response.content.decode())) == 50
    later = client.get(URL, {**params, "cursor": response.context["page"].next_cursor})
    with CaptureQueriesContext(connection) as queries:
        client.get(URL, {**params, "cursor": response.context["page"].next_cursor})
    assert len(queries) == large
    assert len(emails_in(later.content.decode())) == 50
