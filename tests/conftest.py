from __future__ import annotations

from dataclasses import dataclass

import pytest
from django.test import Client, TestCase

from accounts.models import User
from tenants.models import Tenant
from tenants.roles import Role
from tests.factories import PASSWORD, TenantFactory, UserFactory


@dataclass
class TenantSet:
    tenant: Tenant
    owner: User
    admin: User
    auditor: User
    helpdesk: User
    member: User

    def by_role(self, role: str) -> User:
        return getattr(self, role)


def _tenant_set(name: str) -> TenantSet:
    tenant = TenantFactory(name=name, slug=name.lower(), domain=f"{name.lower()}.example")
    people = {
        role: UserFactory(tenant=tenant, role=role, email=f"{role}@{name.lower()}.example")
        for role in Role.values
    }
    return TenantSet(tenant=tenant, **people)


@dataclass
class TwoTenants:
    a: TenantSet
    b: TenantSet


@pytest.fixture
def two_tenants(db: None) -> TwoTenants:
    """Acme and Globex with one person per role: every test checks the other stays invisible."""
    return TwoTenants(a=_tenant_set("Acme"), b=_tenant_set("Globex"))


@pytest.fixture
def signed_in(client: Client):
    def sign_in(user: User) -> Client:
        response = client.post("/signin/", {"email": user.email, "password": PASSWORD})
        assert response.status_code == 302, response.content[:500]
        return client

    return sign_in



class CommittingClient(Client):
    """The test client, with each request's on_commit callbacks (e-mails) run as in production.

    Tests run inside one transaction that never commits; without this, work deferred to commit
    would silently never happen.
    """

    def request(self, **request: object):  # type: ignore[override]
        with TestCase.captureOnCommitCallbacks(execute=True):
            return super().request(**request)


@pytest.fixture
def client() -> Client:
    return CommittingClient()


@pytest.fixture
def make_client():
    return CommittingClient
