"""Device cookies: issued after a completed sign-in, bound to the account, revocable, and locked
out on their own after repeated failures (OWASP "device cookies")."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.conf import settings
from django.urls import reverse

from activity.models import LoginEvent, Reason
from security.models import DeviceCookie
from security.policies.lockout.services import lockout_policy_update
from security.policies.mfa.services import mfa_policy_update
from security.signin.compromise import account_secure_after_compromise
from security.signin.device_cookies import COOKIE_NAME
from tests.factories import PASSWORD
from tests.security.signin_support import normalise_page, post_signin, totp_from_page

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
CEILING = 10


@pytest.fixture
def low_ceiling(two_tenants):
    lockout_policy_update(tenant=two_tenants.a.tenant, actor=two_tenants.a.owner, failure_limit=5,
                          cooloff_minutes=15, account_ceiling=CEILING, ceiling_hours=12)


def _reach_ceiling(make_client, email: str) -> None:
    for host in range(1, CEILING // 5 + 1):
        bot = make_client()
        for attempt in range(5):
            post_signin(bot, email, f"guess-{attempt}", ip=f"127.0.0.{host}")


def _last_reason(tenant, user) -> str:
    return LoginEvent.objects.for_tenant(tenant).filter(user=user).order_by("-id").first().reason


def test_issued_once_per_browser_with_safe_attributes(two_tenants, client):
    member = two_tenants.a.member
    assert post_signin(client, member.email, PASSWORD).status_code == 302
    cookie = client.cookies[COOKIE_NAME]
    assert cookie["httponly"] and cookie["samesite"] == "Lax" and cookie["path"] == "/signin/"
    assert bool(cookie["secure"]) == settings.SESSION_COOKIE_SECURE
    assert int(cookie["max-age"]) == 180 * 24 * 3600
    assert str(member.pk) in cookie.value and "guess" not in cookie.value
    row = DeviceCookie.objects.get(user=member)
    assert row.tenant_id == member.tenant_id and row.token_hash not in cookie.value
    client.post("/signout/")
    # The same browser signing in again keeps its cookie: no second row, no new cookie.
    response = post_signin(client, member.email, PASSWORD)
    assert COOKIE_NAME not in response.cookies
    assert DeviceCookie.objects.filter(user=member).count() == 1


def test_only_after_the_second_factor(two_tenants, client):
    mfa_policy_update(tenant=two_tenants.a.tenant, actor=two_tenants.a.owner,
                      requirement="required_all", grace_days=0)
    member = two_tenants.a.member
    response = post_signin(client, member.email, PASSWORD)
    assert response["Location"] == reverse("signin_mfa_enroll")
    assert COOKIE_NAME not in response.cookies and not DeviceCookie.objects.exists()
    page = client.get(reverse("signin_mfa_enroll")).content.decode()
    step = __import__("re").search(r'name="step" value="([^"]+)"', page).group(1)
    done = client.post(reverse("signin_mfa_enroll"),
                       {"step": step, "code": totp_from_page(page).now(), "name": "Phone"})
    assert done.status_code == 302 and done.cookies[COOKIE_NAME].value
    assert DeviceCookie.objects.filter(user=member).count() == 1


def test_a_recognised_browser_passes_the_ceiling_others_do_not(two_tenants, make_client, low_ceiling):
    a = two_tenants.a
    with time_machine.travel(NOW, tick=True):
        laptop, colleague = make_client(), make_client()
        assert post_signin(laptop, a.member.email, PASSWORD, ip="127.0.0.50").status_code == 302
        assert post_signin(colleague, a.admin.email, PASSWORD, ip="127.0.0.51").status_code == 302
        laptop.post("/signout/")
        colleague.post("/signout/")
        _reach_ceiling(make_client, a.member.email)

        # Tampered: a flipped character in the signature is no cookie at all.
        value = laptop.cookies[COOKIE_NAME].value
        tampered = make_client()
        tampered.cookies[COOKIE_NAME] = value[:-1] + ("A" if value[-1] != "A" else "B")
        assert post_signin(tampered, a.member.email, PASSWORD, ip="127.0.0.60").status_code == 200
        assert _last_reason(a.tenant, a.member) == Reason.ACCOUNT_THROTTLED
        # Another person's valid cookie does not vouch for this account.
        assert post_signin(colleague, a.member.email, PASSWORD, ip="127.0.0.51").status_code == 200
        assert _last_reason(a.tenant, a.member) == Reason.ACCOUNT_THROTTLED
        # The refusal looks exactly like a wrong password.
        wrong = post_signin(make_client(), a.auditor.email, "not it", ip="127.0.0.61")
        throttled = post_signin(make_client(), a.member.email, PASSWORD, ip="127.0.0.62")
        assert normalise_page(wrong.content.decode()) == normalise_page(throttled.content.decode())
        # The owner's own browser gets through.
        assert post_signin(laptop, a.member.email, PASSWORD, ip="127.0.0.50").status_code == 302


def test_revoked_by_a_compromise(two_tenants, make_client, low_ceiling):
    a = two_tenants.a
    with time_machine.travel(NOW, tick=True):
        laptop = make_client()
        post_signin(laptop, a.member.email, PASSWORD, ip="127.0.0.50")
        _reach_ceiling(make_client, a.member.email)
        account_secure_after_compromise(user=a.member, actor=a.member, reason="this_wasnt_me")
        assert laptop.cookies[COOKIE_NAME].value  # the browser still holds it, but it is void
        assert post_signin(laptop, a.member.email, PASSWORD, ip="127.0.0.50").status_code == 200
        assert _last_reason(a.tenant, a.member) == Reason.ACCOUNT_THROTTLED


def test_a_stolen_cookie_is_locked_out_after_its_own_failures(two_tenants, make_client, low_ceiling):
    a = two_tenants.a
    with time_machine.travel(NOW, tick=True):
        laptop = make_client()
        post_signin(laptop, a.member.email, PASSWORD, ip="127.0.0.50")
        _reach_ceiling(make_client, a.member.email)
        stolen = make_client()
        stolen.cookies[COOKIE_NAME] = laptop.cookies[COOKIE_NAME].value
        # Past the ceiling, the cookie lets its holder try: each failure counts on the cookie,
        # from whatever address (so per-IP lockout does not hide it).
        for attempt in range(5):
            post_signin(stolen, a.member.email, f"stolen-{attempt}", ip=f"127.0.1.{attempt}")
            assert _last_reason(a.tenant, a.member) == Reason.BAD_CREDENTIALS
        assert DeviceCookie.objects.get(user=a.member).failures == 5
        # Now the cookie no longer counts: the next try is refused before the password,
        # and that holds for the laptop too until the window has passed.
        post_signin(stolen, a.member.email, "stolen-6", ip="127.0.1.9")
        assert _last_reason(a.tenant, a.member) == Reason.ACCOUNT_THROTTLED
        assert post_signin(laptop, a.member.email, PASSWORD, ip="127.0.0.50").status_code == 200
    with time_machine.travel(NOW + timedelta(hours=12, minutes=30), tick=False):
        assert post_signin(laptop, a.member.email, PASSWORD, ip="127.0.0.50").status_code == 302
        # A completed sign-in forgives the cookie's failures.
        assert DeviceCookie.objects.get(user=a.member).failures == 0


def test_a_cookie_under_its_limit_keeps_working(two_tenants, make_client, low_ceiling):
    a = two_tenants.a
    with time_machine.travel(NOW, tick=True):
        laptop = make_client()
        post_signin(laptop, a.member.email, PASSWORD, ip="127.0.0.50")
        laptop.post("/signout/")
        _reach_ceiling(make_client, a.member.email)
        for attempt in range(4):  # the owner mistypes four times, from the train and at home
            post_signin(laptop, a.member.email, f"typo-{attempt}", ip=f"127.0.2.{attempt}")
        assert post_signin(laptop, a.member.email, PASSWORD, ip="127.0.0.50").status_code == 302


def test_an_expired_cookie_is_ignored(two_tenants, make_client, low_ceiling):
    a = two_tenants.a
    with time_machine.travel(NOW, tick=False):
        laptop = make_client()
        post_signin(laptop, a.member.email, PASSWORD, ip="127.0.0.50")
    with time_machine.travel(NOW + timedelta(days=181), tick=True):
        _reach_ceiling(make_client, a.member.email)
        assert post_signin(laptop, a.member.email, PASSWORD, ip="127.0.0.50").status_code == 200
        assert _last_reason(a.tenant, a.member) == Reason.ACCOUNT_THROTTLED


def test_expired_rows_are_purged_by_the_daily_task(two_tenants, make_client):
    from security.tasks import device_cookies_purge_task

    with time_machine.travel(NOW, tick=False):
        post_signin(make_client(), two_tenants.a.member.email, PASSWORD)
    with time_machine.travel(NOW + timedelta(days=100), tick=False):
        post_signin(make_client(), two_tenants.b.member.email, PASSWORD)
    with time_machine.travel(NOW + timedelta(days=181), tick=False):
        assert device_cookies_purge_task.delay().get() == 1
        assert device_cookies_purge_task.delay().get() == 0  # twice is harmless
    assert list(DeviceCookie.objects.values_list("user", flat=True)) == [two_tenants.b.member.pk]


def test_the_purge_keeps_each_persons_most_recent_browsers(two_tenants, make_client):
    from security.signin.device_cookies import KEEP_PER_PERSON, device_cookies_purge_expired

    member = two_tenants.a.member
    for minute in range(KEEP_PER_PERSON + 3):  # a private window at every sign-in
        with time_machine.travel(NOW + timedelta(minutes=minute), tick=False):
            post_signin(make_client(), member.email, PASSWORD)
    post_signin(make_client(), two_tenants.b.member.email, PASSWORD)
    newest = list(DeviceCookie.objects.filter(user=member).order_by("-last_used_at")
                  .values_list("pk", flat=True)[:KEEP_PER_PERSON])
    assert device_cookies_purge_expired() == 3
    assert sorted(DeviceCookie.objects.filter(user=member).values_list("pk", flat=True)) == sorted(newest)
    assert DeviceCookie.objects.filter(user=two_tenants.b.member).count() == 1
