"""End to end: every attempt through /signin/ is decided by policy and leaves one LoginEvent."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse

from accounts.models import User
from activity.models import Outcome, Reason
from activity.services import session_reference
from security.models import UserSession
from security.policies.hours.services import hours_policy_update
from security.policies.lockout.services import lockout_policy_update
from security.policies.mfa.services import mfa_policy_update
from security.policies.network.services import network_policy_update
from security.policies.password.services import password_policy_update
from security.policies.sessions.services import session_policy_update
from tests.factories import PASSWORD
from tests.security.signin_support import (
    CHROME_WINDOWS,
    SAFARI_IPHONE,
    events,
    only_new_event,
    post_signin,
    totp_from_page,
)
from tests.urlwalk import console_routes

pytestmark = pytest.mark.django_db


def test_success_records_ip_browser_os_device_country(two_tenants, client):
    member = two_tenants.a.member
    response = post_signin(client, member.email.upper(), PASSWORD, ua=SAFARI_IPHONE)
    assert response.status_code == 302
    event = only_new_event(two_tenants.a.tenant, 0)
    assert (event.outcome, event.reason) == (Outcome.SUCCESS, Reason.PASSWORD_OK)
    assert event.user == member and event.attempted_login == member.email
    assert event.ip == "8.8.8.8" and event.country == "US"
    assert event.browser_family == "Mobile Safari" and event.os_family == "iOS"
    assert event.device_type == "mobile" and event.mfa_method == ""
    key = client.session.session_key
    assert event.session_ref == session_reference(key) and len(event.session_ref) == 8
    assert key not in str(event.__dict__) and PASSWORD not in str(event.__dict__)
    session = UserSession.objects.get(user=member)
    assert session.device_type == "mobile" and session.country == "US"
    assert events(two_tenants.b.tenant) == []


def test_session_key_rotates_at_sign_in(two_tenants, client):
    client.get("/signin/")
    client.cookies["sessionid"] = "attackerchosenkey0000000000000000"
    post_signin(client, two_tenants.a.member.email, PASSWORD)
    assert client.cookies["sessionid"].value != "attackerchosenkey0000000000000000"


@pytest.mark.parametrize(("who", "reason"), [
    ("wrong_password", Reason.BAD_CREDENTIALS),
    ("unknown", Reason.UNKNOWN_ACCOUNT),
    ("suspended", Reason.ACCOUNT_SUSPENDED),
    ("invited", Reason.ACCOUNT_INVITED),
])
def test_refusals_before_the_password_are_recorded_with_their_reason(two_tenants, client, who, reason):
    member = two_tenants.a.member
    email, password = member.email, PASSWORD
    if who == "wrong_password":
        password = "not-the-password"
    elif who == "unknown":
        email = "nobody@acme.example"
    else:
        User.objects.filter(pk=member.pk).update(status=who)
    response = post_signin(client, email, password)
    assert response.status_code == 200
    assert "The e-mail address or password is incorrect" in response.content.decode()
    event = only_new_event(two_tenants.a.tenant, 0)
    assert (event.outcome, event.reason) == (Outcome.FAILURE, reason)
    assert event.attempted_login == email
    assert "_auth_user_id" not in client.session


def test_unknown_domain_is_refused_without_a_row_anywhere(two_tenants, client):
    response = post_signin(client, "someone@unknown.example", PASSWORD)
    assert response.status_code == 200
    assert events(two_tenants.a.tenant) == [] and events(two_tenants.b.tenant) == []


def test_lockout_after_tenant_limit_then_right_password_refused(two_tenants, client, time_machine):
    owner = two_tenants.a.owner
    lockout_policy_update(tenant=two_tenants.a.tenant, actor=owner, failure_limit=3, cooloff_minutes=10)
    member = two_tenants.a.member
    for variant in (member.email, member.email.upper(), member.email.title()):
        post_signin(client, variant, "wrong")
    response = post_signin(client, member.email, PASSWORD)
    assert "_auth_user_id" not in client.session
    assert "The e-mail address or password is incorrect" in response.content.decode()
    assert events(two_tenants.a.tenant)[-1].reason == Reason.LOCKED_OUT
    time_machine.move_to(datetime.now(tz=ZoneInfo("UTC")) + timedelta(minutes=11))
    assert post_signin(client, member.email, PASSWORD).status_code == 302


def test_network_enforce_denies_after_password_and_says_why(two_tenants, client):
    owner = two_tenants.a.owner
    network_policy_update(tenant=two_tenants.a.tenant, actor=owner, entries=[("203.0.113.0/24", "HQ")],
                          mode="enforce", scope="everyone", confirm_self_lockout=True, actor_ip="203.0.113.5")
    response = post_signin(client, two_tenants.a.member.email, PASSWORD, ip="198.51.100.7")
    assert "not allowed from this network" in response.content.decode()
    event = only_new_event(two_tenants.a.tenant, 0)
    assert (event.outcome, event.reason, event.ip) == (Outcome.DENIED, Reason.NETWORK_DENIED, "198.51.100.7")
    assert post_signin(client, two_tenants.a.member.email, PASSWORD, ip="203.0.113.77").status_code == 302


def test_network_monitor_lets_through_and_records_would_deny(two_tenants, client):
    network_policy_update(tenant=two_tenants.a.tenant, actor=two_tenants.a.owner,
                          entries=[("2001:db8::/32", "VPN")], mode="monitor", scope="everyone",
                          confirm_self_lockout=True, actor_ip="2001:db8::1")
    assert post_signin(client, two_tenants.a.member.email, PASSWORD, ip="198.51.100.7").status_code == 302
    event = only_new_event(two_tenants.a.tenant, 0)
    assert (event.outcome, event.reason) == (Outcome.SUCCESS, Reason.NETWORK_MONITOR)


def _business_hours(tenant, owner, mode="enforce"):
    tenant.timezone = "Asia/Shanghai"
    tenant.save()
    schedule = [{"day": d, "start": "09:00", "end": "18:00"} for d in range(5)]
    hours_policy_update(tenant=tenant, actor=owner, schedule=schedule, mode=mode, scope="everyone",
                        confirm_self_lockout=True)


def test_hours_enforce_denies_outside_window(two_tenants, client, time_machine):
    _business_hours(two_tenants.a.tenant, two_tenants.a.owner)
    # Saturday 10:00 in Shanghai.
    time_machine.move_to(datetime(2026, 11, 28, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai")))
    response = post_signin(client, two_tenants.a.member.email, PASSWORD)
    assert "not allowed at this time" in response.content.decode()
    assert events(two_tenants.a.tenant)[-1].reason == Reason.HOURS_DENIED
    # Monday 10:00 is fine.
    time_machine.move_to(datetime(2026, 11, 30, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai")))
    assert post_signin(client, two_tenants.a.member.email, PASSWORD).status_code == 302


def test_open_session_ends_when_the_hours_window_closes(two_tenants, client, time_machine):
    _business_hours(two_tenants.a.tenant, two_tenants.a.owner)
    time_machine.move_to(datetime(2026, 11, 30, 17, 50, tzinfo=ZoneInfo("Asia/Shanghai")), tick=False)
    post_signin(client, two_tenants.a.member.email, PASSWORD)
    assert client.get("/me/").status_code == 200
    time_machine.move_to(datetime(2026, 11, 30, 18, 5, tzinfo=ZoneInfo("Asia/Shanghai")), tick=False)
    response = client.get("/me/", follow=True)
    assert "sign-in hours have ended" in response.content.decode()
    assert events(two_tenants.a.tenant)[-1].reason == Reason.HOURS_WINDOW_CLOSED


def test_idle_and_absolute_session_limits(two_tenants, client, time_machine):
    session_policy_update(tenant=two_tenants.a.tenant, actor=two_tenants.a.owner,
                          idle_timeout_minutes=30, absolute_lifetime_hours=2)
    start = datetime(2026, 11, 30, 9, 0, tzinfo=ZoneInfo("UTC"))
    time_machine.move_to(start, tick=False)
    post_signin(client, two_tenants.a.member.email, PASSWORD)
    time_machine.move_to(start + timedelta(minutes=25), tick=False)
    assert client.get("/me/").status_code == 200
    time_machine.move_to(start + timedelta(minutes=60), tick=False)
    assert client.get("/me/").status_code == 302
    assert events(two_tenants.a.tenant)[-1].reason == Reason.SESSION_IDLE_TIMEOUT
    # Absolute lifetime: active every 20 minutes, still ends after 2 hours.
    time_machine.move_to(start + timedelta(hours=3), tick=False)
    post_signin(client, two_tenants.a.member.email, PASSWORD)
    for minutes in range(20, 121, 20):
        time_machine.move_to(start + timedelta(hours=3, minutes=minutes), tick=False)
        response = client.get("/me/")
    assert response.status_code == 302
    assert events(two_tenants.a.tenant)[-1].reason == Reason.SESSION_LIFETIME_ENDED


def test_signout_is_recorded(two_tenants, client):
    post_signin(client, two_tenants.a.member.email, PASSWORD)
    client.post("/signout/", REMOTE_ADDR="8.8.8.8", HTTP_USER_AGENT=CHROME_WINDOWS)
    event = events(two_tenants.a.tenant)[-1]
    assert (event.outcome, event.reason) == (Outcome.SIGNOUT, Reason.SIGNED_OUT)
    assert not UserSession.objects.filter(user=two_tenants.a.member).exists()
    assert client.get("/me/").status_code == 302


def test_noncompliant_password_must_be_changed_now(two_tenants, client):
    password_policy_update(tenant=two_tenants.a.tenant, actor=two_tenants.a.owner, profile="custom",
                           on_noncompliant="change_now", min_length=30, max_length=256)
    response = post_signin(client, two_tenants.a.member.email, PASSWORD)
    assert response["Location"] == reverse("password_change")
    assert client.get("/me/")["Location"] == reverse("password_change")
    new = "a very long passphrase that is thirty plus"
    client.post("/me/password/", {"old_password": PASSWORD, "new_password1": new, "new_password2": new})
    assert client.get("/me/").status_code == 200


def _mfa_required(two_tenants):
    mfa_policy_update(tenant=two_tenants.a.tenant, actor=two_tenants.a.owner,
                      requirement="required_all", grace_days=0)


def test_required_mfa_forces_enrolment_then_verifies(two_tenants, client, time_machine):
    _mfa_required(two_tenants)
    member = two_tenants.a.member
    response = post_signin(client, member.email, PASSWORD)
    assert response["Location"] == reverse("signin_mfa_enroll")
    event = only_new_event(two_tenants.a.tenant, 0)
    assert (event.outcome, event.reason) == (Outcome.CHALLENGE, Reason.MFA_ENROLLMENT_REQUIRED)
    assert "_auth_user_id" not in client.session
    page = client.get(reverse("signin_mfa_enroll")).content.decode()
    totp = totp_from_page(page)
    step = __import__("re").search(r'name="step" value="([^"]+)"', page).group(1)
    response = client.post(reverse("signin_mfa_enroll"), {"step": step, "code": totp.now(), "name": "Phone"})
    assert response.status_code == 302, response.content.decode()[-3000:]
    assert client.get("/me/").status_code == 200
    event = events(two_tenants.a.tenant)[-1]
    assert (event.outcome, event.mfa_method) == (Outcome.SUCCESS, "totp")
    client.post("/signout/")

    # Next time: a challenge, a wrong code (counted), then the right one.
    assert post_signin(client, member.email, PASSWORD)["Location"] == reverse("signin_mfa")
    before = len(events(two_tenants.a.tenant))
    wrong = client.post(reverse("signin_mfa"), {"code": "000000"})
    assert "not valid" in wrong.content.decode()
    assert only_new_event(two_tenants.a.tenant, before).reason == Reason.MFA_FAILED
    # A person retries half a minute later (the device throttles instant retries), with a new code.
    time_machine.move_to(datetime.now(tz=ZoneInfo("UTC")) + timedelta(seconds=31))
    ok = client.post(reverse("signin_mfa"), {"code": totp.now()})
    assert ok.status_code == 302
    assert events(two_tenants.a.tenant)[-1].reason == Reason.MFA_VERIFIED


def test_pre_mfa_session_reaches_only_enrol_verify_and_signout(two_tenants, client):
    _mfa_required(two_tenants)
    post_signin(client, two_tenants.a.admin.email, PASSWORD)
    reachable = []
    for route, _pattern in console_routes():
        path = "/" + route.replace("<int:pk>", str(two_tenants.a.member.pk)).replace("<str:token>", "x")
        for method in ("get", "post"):
            response = getattr(client, method)(path)
            if response.status_code == 200:
                reachable.append((method, path))
    # The passkey script's translations are public, the same for everyone.
    # "Forgot password?" is a signed-out page: open to everyone, it signs nobody in.
    allowed = {"/signin/", "/signin/mfa/enroll/", "/healthz", "/readyz", "/invitation/x/",
               "/signin/passkey-i18n.js", "/signin/forgot/", "/signin/forgot/sent/"}
    assert {path for _m, path in reachable} <= allowed, reachable
    assert "_auth_user_id" not in client.session


def test_grace_period_banner_counts_down_until_enrolment(two_tenants, client):
    mfa_policy_update(tenant=two_tenants.a.tenant, actor=two_tenants.a.owner,
                      requirement="required_all", grace_days=7)
    response = post_signin(client, two_tenants.a.member.email, PASSWORD)
    assert response.status_code == 302 and response["Location"] != reverse("signin_mfa_enroll")
    page = client.get("/me/").content.decode()
    assert 'data-testid="mfa-grace-banner"' in page and "within 7 days" in page
    event = events(two_tenants.a.tenant)[-1]
    assert (event.outcome, event.reason) == (Outcome.SUCCESS, Reason.PASSWORD_OK)


def test_a_policy_change_applies_to_the_very_next_attempt(two_tenants, make_client):
    """Rules are cached per process by tenant policy version: a change must not wait for a TTL."""
    member = two_tenants.a.member
    assert post_signin(make_client(), member.email, PASSWORD, ip="198.51.100.7").status_code == 302
    network_policy_update(tenant=two_tenants.a.tenant, actor=two_tenants.a.owner,
                          entries=[("203.0.113.0/24", "HQ")], mode="enforce", scope="everyone",
                          confirm_self_lockout=True, actor_ip="203.0.113.5")
    response = post_signin(make_client(), member.email, PASSWORD, ip="198.51.100.7")
    assert "not allowed from this network" in response.content.decode()
    session_policy_update(tenant=two_tenants.a.tenant, actor=two_tenants.a.owner,
                          idle_timeout_minutes=5, absolute_lifetime_hours=1)
    from security.policies.cache import _cache

    assert ("network", two_tenants.a.tenant.pk) in _cache
    two_tenants.a.tenant.refresh_from_db()
    assert _cache[("network", two_tenants.a.tenant.pk)][0] < two_tenants.a.tenant.policy_version
