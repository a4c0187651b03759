"""Navigation and views agree, for every role: every link shown opens, and every page with a
navigation entry that the role may open is shown."""

from __future__ import annotations

import re

import pytest
from django.urls import NoReverseMatch, reverse

from mailadmin.context_processors import NAVIGATION
from tenants.roles import Role

pytestmark = pytest.mark.django_db

_NAV = re.compile(r'<nav class="sidebar"[^>]*>(.*?)</nav>', re.S)


def _nav_links(body: str) -> list[str]:
    match = _NAV.search(body)
    assert match, body[:2000]
    return re.findall(r'<a href="([^"]+)"', match.group(1))


def _entries() -> list[str]:
    urls = []
    for _title, links in NAVIGATION:
        for name, _label, _cap in links:
            try:
                urls.append(reverse(name))
            except NoReverseMatch:  # not mounted in this deployment: never shown either
                continue
    return urls


def _shown(client) -> list[str]:
    response = client.get("/me/", follow=True)
    assert response.status_code == 200
    return _nav_links(response.content.decode())


@pytest.mark.parametrize("role", Role.values)
def test_every_link_shown_opens_for_that_role(two_tenants, signed_in, role):
    client = signed_in(two_tenants.a.by_role(role))
    shown = _shown(client)
    assert shown, f"{role} sees no navigation at all"
    refused = {url: client.get(url).status_code for url in shown}
    assert {url: code for url, code in refused.items() if code != 200} == {}


@pytest.mark.parametrize("role", Role.values)
def test_every_page_with_an_entry_the_role_may_open_is_shown(two_tenants, signed_in, role):
    client = signed_in(two_tenants.a.by_role(role))
    shown = set(_shown(client))
    opens = {url for url in _entries() if client.get(url).status_code == 200}
    assert opens - shown == set(), f"{role} may open these pages but the navigation hides them"
    assert shown <= opens


def test_auditors_see_the_locked_accounts_they_may_read(two_tenants, signed_in):
    client = signed_in(two_tenants.a.auditor)
    assert reverse("locked_accounts") in _shown(client)
    body = client.get(reverse("locked_accounts")).content.decode()
    assert "/unlock/" not in body  # reading, not unlocking
