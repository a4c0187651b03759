"""Signing in again from a browser that is already signed in starts a new session, never a 500."""

from __future__ import annotations

import pytest

from security.models import UserSession
from tests.factories import PASSWORD
from tests.security.signin_support import post_signin

pytestmark = pytest.mark.django_db


def test_the_same_person_signing_in_twice_gets_one_new_session(two_tenants, client):
    person = two_tenants.a.by_role("member")
    assert post_signin(client, person.email, PASSWORD).status_code == 302
    first_key = client.session.session_key

    response = post_signin(client, person.email, PASSWORD)

    assert response.status_code == 302
    assert client.session.session_key != first_key
    keys = list(UserSession.objects.for_tenant(two_tenants.a.tenant).filter(user=person)
                .values_list("session_key", flat=True))
    assert keys == [client.session.session_key]
    assert client.get("/me/").status_code == 200


def test_another_person_signing_in_over_a_session_replaces_it(two_tenants, client):
    first, second = two_tenants.a.by_role("member"), two_tenants.a.by_role("auditor")
    assert post_signin(client, first.email, PASSWORD).status_code == 302

    assert post_signin(client, second.email, PASSWORD).status_code == 302

    sessions = UserSession.objects.for_tenant(two_tenants.a.tenant)
    assert not sessions.filter(user=first).exists()
    assert sessions.filter(user=second).count() == 1
