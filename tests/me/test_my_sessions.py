from __future__ import annotations

import pytest

from security.models import UserSession
from tests.factories import PASSWORD
from tests.security.signin_support import SAFARI_IPHONE, post_signin

pytestmark = pytest.mark.django_db


# Globex's member signs in from a browser, system and address nobody at Acme uses.
FIREFOX_LINUX = "Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
GLOBEX_IP = "85.214.132.117"


def test_person_sees_and_ends_their_other_sessions(two_tenants, make_client):
    member = two_tenants.a.member
    laptop, phone, globex = make_client(), make_client(), make_client()
    post_signin(laptop, member.email, PASSWORD)
    post_signin(phone, member.email, PASSWORD, ua=SAFARI_IPHONE, ip="81.2.69.160")
    post_signin(globex, two_tenants.b.member.email, PASSWORD, ua=FIREFOX_LINUX, ip=GLOBEX_IP)
    page = laptop.get("/me/sessions/").content.decode()
    assert "Mobile Safari" in page and "81.2.69.160" in page and 'data-testid="current-session"' in page
    # Another tenant's session shows nowhere: not its address, browser, system or id.
    globex_row = UserSession.objects.get(user=two_tenants.b.member)
    assert GLOBEX_IP not in page and "Firefox" not in page and "Ubuntu" not in page
    assert f'name="session" value="{globex_row.pk}"' not in page
    # Its id is refused, and it stays signed in.
    response = laptop.post("/me/sessions/", {"session": globex_row.pk}, follow=True)
    assert "That session does not exist any more." in response.content.decode()
    assert UserSession.objects.filter(pk=globex_row.pk).exists()
    assert globex.get("/me/").status_code == 200
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
