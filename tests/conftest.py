from __future__ import annotations

from dataclasses import dataclass

import pytest
from django.test import Client, TestCase

import mailadmin.celery  # noqa: F401  # the app shared tasks bind to, as the worker loads it
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


@pytest.fixture(autouse=True)
def _fresh_policy_rules_cache():
    """Policy rules are cached per process by tenant policy version; versions restart with each
    test's fresh tenants, so each test starts (and ends) with an empty cache."""
    from security.policies.cache import rules_cache_clear

    rules_cache_clear()
    yield
    rules_cache_clear()


@pytest.fixture(autouse=True)
def _default_language():
    """Each test starts in the default language. A request in Chinese leaves Chinese active in
    the thread (LocaleMiddleware activates per request and never deactivates), so a test calling
    a service or validator directly would read the previous test's language."""
    from django.conf import settings
    from django.utils import translation

    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.activate(settings.LANGUAGE_CODE)


@pytest.fixture(autouse=True, scope="session")
def _fast_password_hashing():
    """Argon2 costs ~50 ms per hash by design; the suite hashes thousands of times. Tests run on
    a fast hasher; ``test_argon2_is_the_production_hasher`` covers the real configuration, and the
    browser and embedded smoke tests use it end to end."""
    from django.test import override_settings

    with override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]):
        yield
