from __future__ import annotations

import pytest

from security.models import UserSession
from tests.factories import PASSWORD
from tests.security.signin_support import SAFARI_IPHONE, post_signin

pytestmark = pytest.mark.django_db


def test_person_sees_and_ends_their_other_sessions(two_tenants, make_client):
    member = two_tenants.a.member
    laptop, phone = make_client(), make_client()
    post_signin(laptop, member.email, PASSWORD)
    post_signin(phone, member.email, PASSWORD, ua=SAFARI_IPHONE, ip="81.2.69.160")
    post_signin(make_client(), two_tenants.b.member.email, PASSWORD)
    page = laptop.get("/me/sessions/").content.decode()
    assert "Mobile Safari" in page and "81.2.69.160" in page and 'data-testid="current-session"' in page
    assert "globex" not in page
    phone_row = UserSession.objects.get(user=member, ip="81.2.69.160")
    laptop.post("/me/sessions/", {"session": phone_row.pk})
    assert phone.get("/me/").status_code == 302  # the phone is signed out
    assert laptop.get("/me/").status_code == 200


def test_cannot_end_someone_elses_session_or_send_garbage(two_tenants, make_client):
    mine, theirs = make_client(), make_client()
    post_signin(mine, two_tenants.a.member.email, PASSWORD)
    post_signin(theirs, two_tenants.b.member.email, PASSWORD)
    other = UserSession.objects.get(user=two_tenants.b.member)
    for value in (other.pk, "x" * 5000, "", "-1"):
        response = mine.post("/me/sessions/", {"session": value}, follow=True)
        assert response.status_code == 200
    assert theirs.get("/me/").status_code == 200
