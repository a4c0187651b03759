"""Every page, rendered in Simplified Chinese, has no English sentence left in it.

The walk is the project's own (``tests/urlwalk.py``): every parameterless route as every role,
the signed-out pages, and the pages of one object of each kind (a person, a sign-in, an alert, a
webhook ...), built as the cross-tenant walk builds them. A page that answers with something
other than HTML (a CSV, a redirect) is not read here.
"""

from __future__ import annotations

import pytest

from accounts.mailclients.models import MailClientPassword
from accounts.mfa.models import EncryptedTOTPDevice
from accounts.models import User
from tenants.models import Tenant
from tenants.roles import Role
from tests.factories import PASSWORD
from tests.i18n.visible import english_sentences
from tests.mailadmin.test_cross_tenant_urls import ROUTE_KINDS, _objects, _url
from tests.security.signin_support import post_signin
from tests.urlwalk import capability_of, console_routes

pytestmark = pytest.mark.django_db

# English still on a page because its source has no translatable label yet, each with where it
# comes from. Only these exact phrases pass; any other English sentence fails the walk.
KNOWN_GAPS = {
    # activity/audit_text.py (in progress): change keys written by people/offboarding/services.py
    # without an EXPLICIT_LABELS entry, so the audit trail shows the key itself.
    "Mfa devices removed",
    "Password reset links revoked",
    "Mail client passwords",
}

# Routes a GET does not render as a page a person reads.
NOT_PAGES = {"signout/", "healthz", "readyz", "mailauth/policy", "signin/passkey-i18n.js"}


def _pages() -> list[str]:
    return sorted("/" + route for route, _pattern in console_routes()
                  if "<" not in route and route not in NOT_PAGES)


def _public_pages() -> list[str]:
    return sorted("/" + route for route, pattern in console_routes()
                  if "<" not in route and route not in NOT_PAGES
                  and capability_of(pattern) == "public")


def _data_values(*tenants: Tenant) -> list[str]:
    """What the test's people typed (names, addresses, device names): shown as they wrote it."""
    values = [t.name for t in tenants]
    for person in User.objects.filter(tenant__in=tenants):
        values.extend([person.display_name, person.email])
    values.extend(EncryptedTOTPDevice.objects.filter(user__tenant__in=tenants)
                  .values_list("name", flat=True))
    values.extend(MailClientPassword.objects.filter(tenant__in=tenants).values_list("name", flat=True))
    return values


def _read(client, path: str, data_values: list[str], **headers: str) -> list[str] | None:
    response = client.get(path, follow=False, **headers)
    if response.status_code != 200 or "text/html" not in response.get("Content-Type", ""):
        return None
    page = response.content.decode()
    assert '<html lang="zh-hans">' in page, f"{path} was not rendered in Chinese"
    english = english_sentences(page, data_values=data_values)
    return [sentence for sentence in english if sentence not in KNOWN_GAPS]


@pytest.fixture
def chinese(two_tenants):
    Tenant.objects.filter(pk__in=[two_tenants.a.tenant.pk, two_tenants.b.tenant.pk]).update(
        language="zh-hans")
    for tenant_set in (two_tenants.a, two_tenants.b):
        tenant_set.tenant.refresh_from_db()
    return two_tenants


def test_signed_out_pages_have_no_english_sentence(client, chinese):
    """Signed out, the browser's language decides (a Chinese browser sends zh-CN)."""
    found = {}
    for path in _public_pages():
        english = _read(client, path, [], HTTP_ACCEPT_LANGUAGE="zh-CN,zh;q=0.9,en;q=0.5")
        if english:
            found[path] = english
    assert found == {}


@pytest.mark.parametrize("role", Role.values)
def test_every_page_of_every_role_has_no_english_sentence(role, chinese, make_client):
    """Signed in, the company's default language decides, whatever the browser says."""
    world = _objects(chinese.a, make_client)
    actor = chinese.a.by_role(role)
    client = make_client()
    assert post_signin(client, actor.email, PASSWORD).status_code == 302
    values = _data_values(chinese.a.tenant)
    paths = _pages() + [_url(route, getattr(world, kind).pk) for route, kind in ROUTE_KINDS.items()
                        if hasattr(world, kind)]
    found, read = {}, 0
    for path in paths:
        english = _read(client, path, values)
        if english is None:
            continue
        read += 1
        if english:
            found[path] = english
    assert read >= 5, "the walk read almost no page"
    assert found == {}
