"""Securing an account after a compromise: sessions end, device cookies stop counting, and the
next sign-in proves a second factor and chooses a new password."""

from __future__ import annotations

import re

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from accounts.mailclients.models import MailClientPassword
from accounts.mailclients.services import mail_client_password_create
from accounts.models import User
from activity.models import AuditLogEntry, LoginEvent, Outcome, Reason
from activity.services import session_reference
from security.models import DeviceCookie, UserSession
from security.signin.compromise import account_secure_after_compromise
from security.signin.device_cookies import COOKIE_NAME
from tests.factories import PASSWORD
from tests.security.signin_support import post_signin, totp_from_page

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "Granite-Lantern-Orbit-77"


def _enrol_at_signin(client):
    page = client.get(reverse("signin_mfa_enroll")).content.decode()
    totp = totp_from_page(page)
    step = re.search(r'name="step" value="([^"]+)"', page).group(1)
    response = client.post(reverse("signin_mfa_enroll"), {"step": step, "code": totp.now(), "name": "Phone"})
    assert response.status_code == 302, response.content.decode()[-2000:]
    return response, totp


def test_every_session_ends_and_each_sign_out_is_recorded(two_tenants, make_client):
    a = two_tenants.a
    laptop, phone = make_client(), make_client()
    assert post_signin(laptop, a.member.email, PASSWORD).status_code == 302
    assert post_signin(phone, a.member.email, PASSWORD).status_code == 302
    keys = {laptop.session.session_key, phone.session.session_key}
    other = make_client()  # Globex's member is untouched
    assert post_signin(other, two_tenants.b.member.email, PASSWORD).status_code == 302

    account_secure_after_compromise(user=a.member, actor=a.member, reason="this_wasnt_me")

    for replayed in (laptop, phone):  # the old session cookies now lead to the sign-in page
        response = replayed.get("/me/")
        assert response.status_code == 302 and response["Location"].startswith(reverse("signin"))
    assert not UserSession.objects.filter(user=a.member).exists()
    assert other.get("/me/").status_code == 200
    signouts = LoginEvent.objects.for_tenant(a.tenant).filter(user=a.member, outcome=Outcome.SIGNOUT)
    assert sorted(signouts.values_list("reason", "session_ref")) == sorted(
        (Reason.ACCOUNT_SECURED, session_reference(key)) for key in keys)
    entry = AuditLogEntry.objects.filter(tenant=a.tenant, object_pk=str(a.member.pk)).latest("id")
    assert entry.changes["reason"] == ["", "this_wasnt_me"]
    assert entry.changes["sessions_ended"] == ["", "2"]
    assert entry.actor == a.member


def test_next_sign_in_enrols_a_second_factor_then_forces_a_new_password(two_tenants, client):
    a = two_tenants.a
    account_secure_after_compromise(user=a.member, reason="this_wasnt_me")
    assert User.objects.get(pk=a.member.pk).must_change_password

    # No authenticator yet: the sign-in cannot complete without enrolling one (policy or not).
    response = post_signin(client, a.member.email, PASSWORD)
    assert response["Location"] == reverse("signin_mfa_enroll")
    response, _totp = _enrol_at_signin(client)
    assert response["Location"] == reverse("password_change")
    page = client.get("/me/", follow=True)
    assert page.redirect_chain[-1][0] == reverse("password_change")
    assert "secured" in page.content.decode()

    # The same password again is refused, and changes nothing.
    again = client.post(reverse("password_change"), {"old_password": PASSWORD, "new_password1": PASSWORD,
                                                     "new_password2": PASSWORD})
    assert again.status_code == 200 and "different" in again.content.decode()
    assert User.objects.get(pk=a.member.pk).must_change_password

    client.post(reverse("password_change"), {"old_password": PASSWORD, "new_password1": NEW_PASSWORD,
                                             "new_password2": NEW_PASSWORD})
    assert not User.objects.get(pk=a.member.pk).must_change_password
    assert client.get("/me/").status_code == 200
    client.post("/signout/")
    # Next time: the authenticator is challenged as usual, and no forced change any more.
    assert post_signin(client, a.member.email, NEW_PASSWORD)["Location"] == reverse("signin_mfa")


def test_device_cookies_are_revoked(two_tenants, client):
    a = two_tenants.a
    post_signin(client, a.member.email, PASSWORD)
    assert client.cookies[COOKIE_NAME].value
    assert DeviceCookie.objects.filter(user=a.member).count() == 1
    account_secure_after_compromise(user=a.member, reason="offboarding")
    assert not DeviceCookie.objects.filter(user=a.member).exists()


@pytest.mark.parametrize("who", ["member", "helpdesk", "auditor", "other_tenant_admin"])
def test_only_the_person_or_a_manager_of_their_company_may_secure_it(two_tenants, who):
    a = two_tenants.a
    target = a.admin
    actor = two_tenants.b.admin if who == "other_tenant_admin" else getattr(a, who)
    with pytest.raises(ValidationError):
        account_secure_after_compromise(user=target, actor=actor, reason="this_wasnt_me")
    assert not User.objects.get(pk=target.pk).must_change_password
    # The owner manages admins; the admin secures their own account.
    account_secure_after_compromise(user=target, actor=a.owner, reason="this_wasnt_me")
    account_secure_after_compromise(user=target, actor=target, reason="this_wasnt_me")
    assert User.objects.get(pk=target.pk).must_change_password


def test_a_reason_is_required(two_tenants):
    with pytest.raises(ValidationError):
        account_secure_after_compromise(user=two_tenants.a.member, reason="   ")
    assert not User.objects.get(pk=two_tenants.a.member.pk).must_change_password


def test_a_sign_in_waiting_at_the_second_factor_still_must_change_the_password(two_tenants, client):
    """Someone with the password, half-way through enrolling their own authenticator when the
    person reports the compromise, ends up on the password change page, not in the console."""
    a = two_tenants.a
    from security.policies.mfa.services import mfa_policy_update

    mfa_policy_update(tenant=a.tenant, actor=a.owner, requirement="required_all", grace_days=0)
    assert post_signin(client, a.member.email, PASSWORD)["Location"] == reverse("signin_mfa_enroll")
    account_secure_after_compromise(user=a.member, actor=a.member, reason="this_wasnt_me")
    response, _totp = _enrol_at_signin(client)
    assert response["Location"] == reverse("password_change")
    assert client.get("/me/")["Location"] == reverse("password_change")


def test_mail_client_passwords_are_revoked(two_tenants):
    person = two_tenants.a.by_role("member")
    mail_client_password_create(user=person, name="Phone")

    account_secure_after_compromise(user=person, reason="this_wasnt_me")

    active = MailClientPassword.objects.for_tenant(two_tenants.a.tenant).filter(
        user=person, revoked_at__isnull=True)
    assert not active.exists()
