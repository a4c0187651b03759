"""The distributed-guessing test (issue 9, "Done when"): 20 source addresses x 5 wrong passwords
against one account. At most the ceiling's number of passwords is checked; the owner's browser,
holding its device cookie, still signs in; a browser without one is refused even with the right
password until the window has passed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.contrib.auth import base_user

from activity.models import LoginEvent, Outcome, Reason
from security.policies.lockout.rules import DEFAULT_RULES
from security.signin.device_cookies import COOKIE_NAME
from tests.factories import PASSWORD
from tests.security.signin_support import post_signin

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
OWNER_IP = "127.0.0.100"


@pytest.fixture
def hashes_checked(monkeypatch):
    """How many times a password was really checked against the account's hash."""
    calls = []
    real = base_user.check_password

    def counting(password, encoded, setter=None, preferred="default"):
        calls.append(encoded)
        return real(password, encoded, setter, preferred)

    monkeypatch.setattr(base_user, "check_password", counting)
    return calls


def test_twenty_addresses_check_at_most_the_ceiling_and_the_owner_still_signs_in(
        two_tenants, make_client, hashes_checked):
    a = two_tenants.a
    victim = a.member
    ceiling = DEFAULT_RULES.ceiling
    assert ceiling == 30 and DEFAULT_RULES.ceiling_window == timedelta(hours=12)

    with time_machine.travel(NOW - timedelta(days=3), tick=False):  # the owner's laptop, earlier
        laptop = make_client()
        assert post_signin(laptop, victim.email, PASSWORD, ip=OWNER_IP).status_code == 302
        assert laptop.cookies[COOKIE_NAME].value
        laptop.post("/signout/")

    with time_machine.travel(NOW, tick=True):
        hashes_checked.clear()
        for host in range(1, 21):
            bot = make_client()
            for attempt in range(5):
                response = post_signin(bot, victim.email, f"guess-{host}-{attempt}", ip=f"127.0.0.{host}")
                assert response.status_code == 200
        rows = LoginEvent.objects.for_tenant(a.tenant).filter(user=victim, outcome=Outcome.FAILURE)
        reasons = list(rows.values_list("reason", flat=True))
        assert len(reasons) == 100
        assert reasons.count(Reason.BAD_CREDENTIALS) == ceiling
        assert reasons.count(Reason.ACCOUNT_THROTTLED) == 100 - ceiling
        # Only the ceiling's passwords met the account's hash (throttled ones hash a dummy).
        assert hashes_checked.count(victim.password) == ceiling

        # A browser without the account's device cookie: refused with the right password, recorded.
        stranger = make_client()
        refused = post_signin(stranger, victim.email, PASSWORD, ip="127.0.0.200")
        assert refused.status_code == 200 and "_auth_user_id" not in stranger.session
        last = LoginEvent.objects.for_tenant(a.tenant).filter(user=victim).order_by("-id").first()
        assert (last.outcome, last.reason, last.ip) == (Outcome.FAILURE, Reason.ACCOUNT_THROTTLED,
                                                        "127.0.0.200")

        # The owner's laptop, with its device cookie, signs in as usual.
        response = post_signin(laptop, victim.email, PASSWORD, ip=OWNER_IP)
        assert response.status_code == 302 and laptop.get("/me/").status_code == 200
        ok = LoginEvent.objects.for_tenant(a.tenant).filter(user=victim).order_by("-id").first()
        assert (ok.outcome, ok.reason) == (Outcome.SUCCESS, Reason.PASSWORD_OK)

    # Twelve hours after the last counted failure the ceiling has lifted by itself.
    with time_machine.travel(NOW + timedelta(hours=11), tick=False):
        assert post_signin(make_client(), victim.email, PASSWORD, ip="127.0.0.201").status_code == 200
    with time_machine.travel(NOW + timedelta(hours=12, minutes=5), tick=False):
        assert post_signin(make_client(), victim.email, PASSWORD, ip="127.0.0.202").status_code == 302


def test_the_ceiling_is_per_account_and_per_tenant(two_tenants, make_client):
    a, b = two_tenants.a, two_tenants.b
    with time_machine.travel(NOW, tick=True):
        for host in range(1, 7):
            bot = make_client()
            for attempt in range(5):
                post_signin(bot, a.member.email, f"guess-{attempt}", ip=f"127.0.0.{host}")
        assert post_signin(make_client(), a.member.email, PASSWORD, ip="127.0.0.99").status_code == 200
        # The colleague and the other company's people are untouched.
        assert post_signin(make_client(), a.auditor.email, PASSWORD, ip="127.0.0.99").status_code == 302
        assert post_signin(make_client(), b.member.email, PASSWORD, ip="127.0.0.99").status_code == 302
