from __future__ import annotations

import pytest

from tests.factories import PASSWORD
from tests.security.signin_support import post_signin

pytestmark = pytest.mark.django_db


def test_dashboard_shows_this_tenants_real_figures(two_tenants, signed_in, make_client):
    post_signin(make_client(), two_tenants.a.member.email, "wrong")
    post_signin(make_client(), two_tenants.a.member.email, PASSWORD)
    post_signin(make_client(), two_tenants.b.member.email, "wrong")  # Globex: not counted
    page = signed_in(two_tenants.a.owner).get("/dashboard/").content.decode()
    assert 'data-testid="people-total">5<' in page
    assert 'data-testid="signins-failure">1<' in page
    # the member's success, plus the owner's own sign-in just now
    assert 'data-testid="signins-success">2<' in page
    assert 'data-testid="mfa-enrolled">0/5 (0 %)<' in page
    assert 'data-testid="locked-now">0<' in page
    assert "globex" not in page.lower()
