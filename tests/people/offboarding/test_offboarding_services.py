"""Offboarding: every door closes at once, on the day it is due, exactly once; refusals change
nothing; an owner's reactivation makes the person enrol a new second factor."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.core.exceptions import ValidationError
from django.test import TestCase
from django.urls import reverse
from django.utils import timezone
from django_otp import devices_for_user

from accounts.mailclients.models import MailClientPassword
from accounts.mailclients.services import mail_client_password_create
from accounts.mfa import services as mfa
from accounts.models import User
from activity.models import AuditLogEntry, LoginEvent, Outcome, Reason
from people.offboarding.services import (
    offboardings_due_carry_out,
    person_offboard,
    person_offboard_cancel,
    person_offboarded_reactivate,
)
from people.offboarding.tasks import offboardings_due_task
from people.services import person_invite
from security.models import DeviceCookie, UserSession
from security.recovery.models import PasswordReset
from security.recovery.services import password_reset_send
from security.signin.device_cookies import COOKIE_NAME
from tests.accounts.test_mfa_support import code_for, enroll
from tests.factories import PASSWORD
from tests.security.signin_support import post_signin, totp_from_page

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "Granite-Lantern-Orbit-77"


def _entries(person):
    return AuditLogEntry.objects.filter(object_pk=str(person.pk),
                                        changes__has_key="offboarding").order_by("id")


def _refused(client, email, password=PASSWORD):
    response = post_signin(client, email, password)
    return response.status_code == 200 and "/signin/" in response.wsgi_request.path


def test_offboarding_closes_every_door_the_person_held(two_tenants, make_client):
    a = two_tenants.a
    person = a.member
    laptop, phone = make_client(), make_client()
    assert post_signin(laptop, person.email, PASSWORD).status_code == 302
    assert post_signin(phone, person.email, PASSWORD).status_code == 302
    assert laptop.cookies[COOKIE_NAME].value and phone.cookies[COOKIE_NAME].value
    with time_machine.travel(timezone.now(), tick=False) as clock:
        _device, secret = enroll(person)
        backup = mfa.backup_codes_regenerate(user=person)
        mail_client_password_create(user=person, name="Thunderbird")
        reset = password_reset_send(tenant=a.tenant, actor=a.helpdesk, person=person)
        bystander = make_client()  # Globex's member keeps their session
        assert post_signin(bystander, two_tenants.b.member.email, PASSWORD).status_code == 302

        person_offboard(tenant=a.tenant, actor=a.admin, person=person, reason="Left the company")

        # Every cookie the person held (session, device cookie) now leads to the sign-in page...
        for replayed in (laptop, phone):
            response = replayed.get("/me/")
            assert response.status_code == 302 and response["Location"].startswith(reverse("signin"))
            # ...and their browser's device cookie plus the right password sign in no more.
            assert _refused(replayed, person.email)
        assert not UserSession.objects.filter(user=person).exists()
        assert not DeviceCookie.objects.filter(user=person).exists()
        # Every authenticator code and backup code fails (a fresh code: not a replay).
        clock.shift(90)
        assert mfa.mfa_verify(user=person, code=code_for(secret)) is None
        assert all(mfa.mfa_verify(user=person, code=code) is None for code in backup)
        assert list(devices_for_user(person, confirmed=None)) == []
    assert not MailClientPassword.objects.filter(user=person, revoked_at__isnull=True).exists()
    assert bystander.get("/me/").status_code == 200
    assert laptop.get(reset.path).status_code != 200  # the reset link is dead too
    assert PasswordReset.objects.get(pk=reset.reset.pk).revoked_at is not None

    person.refresh_from_db()
    assert person.status == User.Status.OFFBOARDED and person.offboard_reason == "Left the company"
    signouts = LoginEvent.objects.for_tenant(a.tenant).filter(user=person, outcome=Outcome.SIGNOUT)
    assert sorted(signouts.values_list("reason", flat=True)) == [Reason.ENDED_BY_ADMIN] * 2
    entry = _entries(person).get()
    assert entry.actor == a.admin and entry.tenant == a.tenant
    assert entry.changes["status"] == ["active", "offboarded"]
    assert entry.changes["offboard_reason"] == ["", "Left the company"]
    assert entry.changes["sessions_ended"] == ["", "2"]
    assert entry.changes["mfa_devices_removed"] == ["", "2"]
    assert entry.changes["mail_client_passwords_revoked"] == ["", "1"]


def test_an_offboarded_persons_invitation_links_are_dead(two_tenants, client):
    a = two_tenants.a
    with TestCase.captureOnCommitCallbacks(execute=True):
        first = person_invite(tenant=a.tenant, actor=a.admin, email="leaver@acme.example",
                              display_name="Leaver", role="member")
    assert client.get(first.path).status_code == 200
    mail.outbox.clear()

    person_offboard(tenant=a.tenant, actor=a.admin, person=first.invitation.user, reason="Offer withdrawn")

    assert client.get(first.path).status_code == 410
    response = client.post(first.path, {"display_name": "x", "password1": NEW_PASSWORD,
                                        "password2": NEW_PASSWORD})
    assert response.status_code == 410
    first.invitation.refresh_from_db()
    assert first.invitation.revoked_at is not None
    assert User.objects.get(pk=first.invitation.user_id).status == User.Status.OFFBOARDED
    assert mail.outbox == []  # nobody is told to set up two-step sign-in again


def test_a_scheduled_offboarding_waits_then_runs_from_the_beat_task_exactly_once(two_tenants, make_client):
    a = two_tenants.a
    person = a.member
    when = timezone.now() + timedelta(days=3)
    person_offboard(tenant=a.tenant, actor=a.admin, person=person, reason="Contract ends",
                    effective_at=when)
    person.refresh_from_db()
    assert person.status == User.Status.ACTIVE and person.offboard_at == when
    assert person.offboard_requested_by == a.admin
    assert offboardings_due_task() == 0  # not due yet
    browser = make_client()
    assert post_signin(browser, person.email, PASSWORD).status_code == 302  # works until then

    with time_machine.travel(when + timedelta(minutes=1)):
        assert offboardings_due_task() == 1
        assert offboardings_due_task() == 0  # the second run finds nothing left to do
        assert offboardings_due_carry_out() == 0
    person.refresh_from_db()
    assert person.status == User.Status.OFFBOARDED
    assert browser.get("/me/")["Location"].startswith(reverse("signin"))
    scheduled, carried_out = _entries(person)
    assert scheduled.changes["offboarding"] == ["", "scheduled"] and scheduled.actor == a.admin
    assert carried_out.changes["offboarding"] == ["", "carried out"]
    assert carried_out.changes["requested_by"] == ["", a.admin.email]
    assert carried_out.actor == a.admin and carried_out.additional_data == {"scheduled": True}


def test_a_cancelled_offboarding_never_runs_and_is_audited(two_tenants):
    a = two_tenants.a
    when = timezone.now() + timedelta(days=1)
    person_offboard(tenant=a.tenant, actor=a.admin, person=a.member, reason="Moving on",
                    effective_at=when)
    person_offboard_cancel(tenant=a.tenant, actor=a.owner, person=a.member)
    with time_machine.travel(when + timedelta(days=1)):
        assert offboardings_due_carry_out() == 0
    a.member.refresh_from_db()
    assert a.member.status == User.Status.ACTIVE and a.member.offboard_at is None
    cancelled = _entries(a.member).last()
    assert cancelled.changes["offboarding"] == ["scheduled", "cancelled"] and cancelled.actor == a.owner
    with pytest.raises(ValidationError) as exc:
        person_offboard_cancel(tenant=a.tenant, actor=a.owner, person=a.member)
    assert exc.value.code == "not_scheduled"


def test_a_scheduled_offboarding_of_who_became_the_last_owner_is_not_carried_out(two_tenants):
    a = two_tenants.a
    second = User.objects.create_user("second.owner@acme.example", PASSWORD, tenant=a.tenant,
                                      role="owner")
    when = timezone.now() + timedelta(hours=1)
    person_offboard(tenant=a.tenant, actor=second, person=a.owner, reason="Retiring", effective_at=when)
    User.objects.filter(pk=second.pk).update(status=User.Status.SUSPENDED)
    with time_machine.travel(when + timedelta(minutes=5)):
        assert offboardings_due_carry_out() == 0
    a.owner.refresh_from_db()
    assert a.owner.status == User.Status.ACTIVE and a.owner.offboard_at is None
    assert "last active owner" in _entries(a.owner).last().changes["offboarding"][1]


@pytest.mark.parametrize(("actor_role", "target_role", "code"), [
    ("admin", "admin_self", "self"),
    ("helpdesk", "member", "capability"),
    ("auditor", "member", "capability"),
    ("member", "member_other", "capability"),
    ("admin", "owner", "rank"),
    ("owner", "owner_self", "self"),
])
def test_refusals_change_nothing(two_tenants, actor_role, target_role, code):
    a = two_tenants.a
    actor = a.by_role(actor_role)
    if target_role.endswith("_self"):
        target = actor
    elif target_role == "member_other":
        target = User.objects.create_user("other@acme.example", PASSWORD, tenant=a.tenant)
    else:
        target = a.by_role(target_role)
    before = AuditLogEntry.objects.count()
    with pytest.raises(ValidationError) as exc:
        person_offboard(tenant=a.tenant, actor=actor, person=target, reason="No")
    assert exc.value.code == code
    assert str(exc.value.messages[0])
    target.refresh_from_db()
    assert target.status == User.Status.ACTIVE and target.offboard_at is None
    assert AuditLogEntry.objects.count() == before


def test_the_last_active_owner_cannot_be_offboarded_even_by_another_owner_being_suspended(two_tenants):
    a = two_tenants.a
    other = User.objects.create_user("co.owner@acme.example", PASSWORD, tenant=a.tenant, role="owner",
                                     status=User.Status.SUSPENDED)
    with pytest.raises(ValidationError) as exc:
        person_offboard(tenant=a.tenant, actor=other, person=a.owner, reason="Takeover")
    # A suspended owner holds the capability on paper but is not an active owner to fall back on.
    assert exc.value.code == "last_owner"
    a.owner.refresh_from_db()
    assert a.owner.status == User.Status.ACTIVE


def test_bad_input_is_refused_with_a_translated_message(two_tenants):
    a = two_tenants.a
    cases = [
        ({"reason": "   "}, "reason"),
        ({"reason": "x" * 501}, "reason_length"),
        ({"reason": "ok", "effective_at": timezone.now() + timedelta(days=400)}, "date_too_far"),
        ({"reason": "ok", "effective_at": timezone.now().replace(tzinfo=None) + timedelta(days=1)},
         "naive_date"),
    ]
    for kwargs, code in cases:
        with pytest.raises(ValidationError) as exc:
            person_offboard(tenant=a.tenant, actor=a.admin, person=a.member, **kwargs)
        assert exc.value.code == code
    with pytest.raises(ValidationError) as exc:
        person_offboard(tenant=a.tenant, actor=a.admin, person=two_tenants.b.member, reason="x")
    assert exc.value.code == "tenant"
    person_offboard(tenant=a.tenant, actor=a.admin, person=a.member, reason="Gone")
    with pytest.raises(ValidationError) as exc:
        person_offboard(tenant=a.tenant, actor=a.admin, person=a.member, reason="Gone again")
    assert exc.value.code == "offboarded"


def test_a_date_in_the_past_offboards_now(two_tenants):
    a = two_tenants.a
    person_offboard(tenant=a.tenant, actor=a.admin, person=a.member, reason="Left yesterday",
                    effective_at=timezone.now() - timedelta(days=1))
    a.member.refresh_from_db()
    assert a.member.status == User.Status.OFFBOARDED


def test_only_an_owner_reactivates_and_the_person_enrols_a_new_second_factor(two_tenants, client):
    from security.policies.mfa.services import mfa_policy_update

    a = two_tenants.a
    # A policy with a long grace period would let an ordinary person in without a second factor.
    mfa_policy_update(tenant=a.tenant, actor=a.owner, requirement="required_all", grace_days=30)
    enroll(a.member)
    person_offboard(tenant=a.tenant, actor=a.admin, person=a.member, reason="Left")
    with pytest.raises(ValidationError) as exc:
        person_offboarded_reactivate(tenant=a.tenant, actor=a.admin, person=a.member)
    assert exc.value.code == "capability"
    assert User.objects.get(pk=a.member.pk).status == User.Status.OFFBOARDED

    person_offboarded_reactivate(tenant=a.tenant, actor=a.owner, person=a.member)
    a.member.refresh_from_db()
    assert a.member.status == User.Status.ACTIVE and a.member.must_change_password
    assert a.member.offboard_at is None and a.member.offboard_reason == ""
    assert not mfa.mfa_user_has_device(user=a.member)
    entry = AuditLogEntry.objects.filter(object_pk=str(a.member.pk), changes__has_key="reactivation").get()
    assert entry.actor == a.owner and entry.changes["status"] == ["offboarded", "active"]

    # The sign-in cannot complete without a new authenticator, then a new password.
    assert post_signin(client, a.member.email, PASSWORD)["Location"] == reverse("signin_mfa_enroll")
    assert client.get("/me/")["Location"].startswith(reverse("signin"))
    page = client.get(reverse("signin_mfa_enroll")).content.decode()
    step = re.search(r'name="step" value="([^"]+)"', page).group(1)
    done = client.post(reverse("signin_mfa_enroll"),
                       {"step": step, "code": totp_from_page(page).now(), "name": "New phone"})
    assert done["Location"] == reverse("password_change")
    assert mfa.mfa_user_has_device(user=a.member)


def test_reactivating_someone_who_never_accepted_invites_them_again(two_tenants, client):
    a = two_tenants.a
    with TestCase.captureOnCommitCallbacks(execute=True):
        issued = person_invite(tenant=a.tenant, actor=a.owner, email="late@acme.example",
                               display_name="", role="member")
    person = issued.invitation.user
    person_offboard(tenant=a.tenant, actor=a.owner, person=person, reason="Did not start")
    mail.outbox.clear()
    with TestCase.captureOnCommitCallbacks(execute=True):
        person_offboarded_reactivate(tenant=a.tenant, actor=a.owner, person=person)
    person.refresh_from_db()
    assert person.status == User.Status.INVITED
    assert client.get(issued.path).status_code == 410  # the old link stays dead
    assert len(mail.outbox) == 1 and "/invitation/" in mail.outbox[0].body
