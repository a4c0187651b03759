"""Using a reset link: the tenant's password rules, single use, expiry, tampering, every session
ended, lockout lifted, nobody signed in, and the second factor still asked at the next sign-in."""

from __future__ import annotations

import re
import secrets
from datetime import timedelta

import pytest
import time_machine
from axes.models import AccessAttempt
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from accounts.mailclients.models import MailClientPassword
from accounts.mailclients.services import mail_client_password_create
from accounts.mfa.models import EncryptedTOTPDevice
from accounts.models import User
from activity.models import AuditLogEntry, LoginEvent, Outcome, Reason
from security.models import DeviceCookie, PasswordReset, UserSession
from security.policies.mfa.services import mfa_policy_update
from security.policies.password.services import password_policy_update
from security.signin.compromise import account_secure_after_compromise
from tests.factories import PASSWORD
from tests.security.signin_support import CHROME_WINDOWS, post_signin

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "Granite-Lantern-Orbit-77"


def _link_for(client, person: User) -> str:
    client.post("/signin/forgot/", {"email": person.email}, REMOTE_ADDR="8.8.8.8")
    body = [m for m in mail.outbox if m.to == [person.email]][-1].body
    return re.search(r"http://[^\s]+(/signin/reset/\d+/[^\s/]+/)", body).group(1)


def _use(client, link: str, password: str = NEW_PASSWORD, *, confirm: str | None = None, **extra):
    data = {"new_password": password, "confirm_password": confirm or password, **extra}
    return client.post(link, data, REMOTE_ADDR="8.8.4.4", HTTP_USER_AGENT=CHROME_WINDOWS)


def _invalid(response) -> bool:
    return response.status_code == 400 and "This link is no longer valid" in response.content.decode()


def _steps(person: User) -> list[str]:
    return [e.changes["password_reset"][1]
            for e in AuditLogEntry.objects.filter(object_pk=str(person.pk)).order_by("id")
            if "password_reset" in (e.changes or {})]


def test_the_new_password_works_the_old_one_does_not_and_nobody_is_signed_in(two_tenants, client):
    a = two_tenants.a
    link = _link_for(client, a.member)
    page = client.get(link)
    assert page.status_code == 200 and a.member.email in page.content.decode()
    response = _use(client, link)
    assert response.status_code == 302 and response["Location"] == reverse("signin")
    assert "_auth_user_id" not in client.session
    assert client.get("/me/").status_code == 302  # still signed out
    assert post_signin(client, a.member.email, PASSWORD).status_code == 200  # old one refused
    assert post_signin(client, a.member.email, NEW_PASSWORD).status_code == 302
    assert _steps(a.member) == ["link requested and sent", "link used, password changed"]
    used = AuditLogEntry.objects.filter(object_pk=str(a.member.pk)).latest("id")
    assert used.additional_data["ip"] == "8.8.4.4" and used.tenant_id == a.tenant.pk
    # The person is told by e-mail that their password changed.
    assert "password was changed" in mail.outbox[-1].subject


def test_a_link_works_once(two_tenants, client, make_client):
    a = two_tenants.a
    link = _link_for(client, a.member)
    assert _use(client, link).status_code == 302
    again = make_client()
    assert _invalid(again.get(link))
    assert _invalid(_use(again, link, "Another-Fresh-Secret-88"))
    assert post_signin(again, a.member.email, NEW_PASSWORD).status_code == 302
    assert _steps(a.member)[-2:] == ["link refused", "link refused"]


def test_an_expired_link_changes_nothing_and_is_recorded(two_tenants, client):
    a = two_tenants.a
    link = _link_for(client, a.member)
    with time_machine.travel(timezone.now() + timedelta(minutes=61)):
        assert _invalid(client.get(link))
        assert _invalid(_use(client, link))
    assert User.objects.get(pk=a.member.pk).check_password(PASSWORD)
    entry = AuditLogEntry.objects.filter(object_pk=str(a.member.pk)).latest("id")
    assert entry.changes["password_reset"][1] == "link refused"
    assert entry.changes["reason"][1] == "expired"
    # Before the hour is up it still works.
    with time_machine.travel(timezone.now() + timedelta(minutes=59)):
        assert _use(client, link).status_code == 302


@pytest.mark.parametrize("tamper", ["token", "id", "short", "long"])
def test_a_tampered_link_is_the_same_invalid_page(two_tenants, client, tamper):
    a = two_tenants.a
    link = _link_for(client, a.member)
    _, _, _, reset_id, token, _ = link.split("/")
    bad = {"token": f"/signin/reset/{reset_id}/{token[:-2]}xx/",
           "id": f"/signin/reset/{int(reset_id) + 1}/{token}/",
           "short": f"/signin/reset/{reset_id}/x/",
           "long": f"/signin/reset/{reset_id}/{secrets.token_urlsafe(200)}/"}[tamper]
    assert _invalid(client.get(bad))
    assert _invalid(_use(client, bad))
    assert User.objects.get(pk=a.member.pk).check_password(PASSWORD)
    assert PasswordReset.objects.get().used_at is None
    assert _use(client, link).status_code == 302  # the real link still works


def test_another_tenants_link_id_with_this_token_is_invalid(two_tenants, client):
    a, b = two_tenants.a, two_tenants.b
    mine = _link_for(client, a.member)
    theirs = _link_for(client, b.member)
    forged = "/".join([*theirs.split("/")[:4], mine.split("/")[4], ""])
    assert _invalid(client.get(forged))


def test_the_tenants_password_rules_apply_and_a_refusal_changes_nothing(two_tenants, client):
    a = two_tenants.a
    password_policy_update(tenant=a.tenant, actor=a.admin, profile="custom",
                           on_noncompliant="change_now", min_length=30, max_length=256)
    link = _link_for(client, a.member)
    page = client.get(link).content.decode()
    assert "30" in page  # the rule is shown as help
    response = _use(client, link)  # 24 characters
    assert response.status_code == 200 and 'class="error"' in response.content.decode()
    mismatch = _use(client, link, "Quiet-river-stones-under-winter-moon-2026", confirm="something else entirely!!")
    assert "The two passwords differ." in mismatch.content.decode()
    assert User.objects.get(pk=a.member.pk).check_password(PASSWORD)
    assert PasswordReset.objects.get().used_at is None
    assert _use(client, link, "Quiet-river-stones-under-winter-moon-2026").status_code == 302


def test_every_session_device_cookie_and_lockout_ends(two_tenants, make_client):
    a = two_tenants.a
    laptop, phone, other = make_client(), make_client(), make_client()
    assert post_signin(laptop, a.member.email, PASSWORD).status_code == 302
    assert post_signin(phone, a.member.email, PASSWORD).status_code == 302
    assert post_signin(other, two_tenants.b.member.email, PASSWORD).status_code == 302
    assert DeviceCookie.objects.filter(user=a.member).count() == 2
    attacker = make_client()
    for _ in range(5):
        post_signin(attacker, a.member.email, "wrong password!", ip="203.0.113.9")
    assert AccessAttempt.objects.filter(username=a.member.email).exists()
    mail_client_password_create(user=a.member, name="Phone mail")

    stranger = make_client()
    _use(stranger, _link_for(stranger, a.member))

    for replayed in (laptop, phone):
        response = replayed.get("/me/")
        assert response.status_code == 302 and response["Location"].startswith(reverse("signin"))
    assert not UserSession.objects.filter(user=a.member).exists()
    assert other.get("/me/").status_code == 200  # Globex's member is untouched
    assert not DeviceCookie.objects.filter(user=a.member).exists()
    assert not AccessAttempt.objects.filter(username=a.member.email).exists()
    signouts = LoginEvent.objects.for_tenant(a.tenant).filter(user=a.member, outcome=Outcome.SIGNOUT)
    assert set(signouts.values_list("reason", flat=True)) == {Reason.ACCOUNT_SECURED}
    assert signouts.count() == 2
    # Mail-client passwords stay unless the person says someone else may know the password.
    assert MailClientPassword.objects.filter(user=a.member, revoked_at__isnull=True).count() == 1


def test_the_person_may_also_revoke_their_mail_client_passwords(two_tenants, client):
    a = two_tenants.a
    mail_client_password_create(user=a.member, name="Phone mail")
    _use(client, _link_for(client, a.member), sign_out_mail_clients="on")
    assert not MailClientPassword.objects.filter(user=a.member, revoked_at__isnull=True).exists()
    entry = AuditLogEntry.objects.filter(object_pk=str(a.member.pk)).latest("id")
    assert "password was changed" in mail.outbox[-1].subject
    used = [e for e in AuditLogEntry.objects.filter(object_pk=str(a.member.pk))
            if (e.changes or {}).get("password_reset", ["", ""])[1] == "link used, password changed"]
    assert used[0].changes["mail_client_passwords_revoked"] == ["", "1"]
    assert entry is not None


def test_a_secured_account_reset_clears_the_forced_change_but_not_the_old_password(two_tenants, client):
    a = two_tenants.a
    account_secure_after_compromise(user=a.member, reason="this_wasnt_me")
    link = _link_for(client, a.member)
    same = _use(client, link, PASSWORD)
    assert same.status_code == 200 and "different" in same.content.decode()
    assert _use(client, link).status_code == 302
    assert not User.objects.get(pk=a.member.pk).must_change_password


def test_the_second_factor_is_still_required_after_a_reset(two_tenants, client):
    a = two_tenants.a
    EncryptedTOTPDevice.objects.create(tenant=a.tenant, user=a.member, name="Phone", confirmed=True,
                                       key=secrets.token_hex(20))
    _use(client, _link_for(client, a.member))
    response = post_signin(client, a.member.email, NEW_PASSWORD)
    assert response["Location"] == reverse("signin_mfa")
    assert client.get("/me/").status_code == 302  # not signed in before the code


def test_enrolment_is_still_required_after_a_reset_under_the_policy(two_tenants, client):
    a = two_tenants.a
    mfa_policy_update(tenant=a.tenant, actor=a.admin, requirement="required_all", grace_days=0)
    _use(client, _link_for(client, a.member))
    response = post_signin(client, a.member.email, NEW_PASSWORD)
    assert response["Location"] == reverse("signin_mfa_enroll")


def test_a_person_suspended_after_the_request_cannot_use_the_link(two_tenants, client):
    a = two_tenants.a
    link = _link_for(client, a.member)
    User.objects.filter(pk=a.member.pk).update(status=User.Status.SUSPENDED)
    assert _invalid(client.get(link))
    assert User.objects.get(pk=a.member.pk).check_password(PASSWORD)
