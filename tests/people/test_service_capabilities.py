"""The people services check the actor's capability and tenant themselves, whoever calls them
(a view, a command, a task): a refusal raises ValidationError(code=…) and changes nothing."""

from __future__ import annotations

import pytest
from django.core import mail
from django.core.exceptions import ValidationError

from accounts.models import User
from people import services
from tenants.models import Invitation
from tenants.roles import Role

pytestmark = pytest.mark.django_db

# Roles without the capability each service needs (PEOPLE_INVITE, PEOPLE_SUSPEND).
CANNOT_INVITE = [Role.AUDITOR, Role.HELPDESK, Role.MEMBER]
CANNOT_SUSPEND = [Role.AUDITOR, Role.MEMBER]


def _invited(tenant_set, email: str) -> User:
    issued = services.person_invite(tenant=tenant_set.tenant, actor=tenant_set.owner, email=email,
                                    display_name="New Person", role=Role.MEMBER)
    return issued.invitation.user


def _refused(code: str, call, **kwargs) -> None:
    with pytest.raises(ValidationError) as caught:
        call(**kwargs)
    assert caught.value.code == code, caught.value.messages


# --- invitation_resend -------------------------------------------------------------------------


def test_resend_of_another_tenants_person_is_refused(two_tenants, django_capture_on_commit_callbacks):
    globex_person = _invited(two_tenants.b, "new@globex.example")
    links = Invitation.objects.filter(user=globex_person).count()
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        _refused("tenant", services.invitation_resend, tenant=two_tenants.a.tenant,
                 actor=two_tenants.a.owner, person=globex_person)
    assert Invitation.objects.filter(user=globex_person).count() == links
    assert mail.outbox == []


def test_resend_by_another_tenants_admin_is_refused(two_tenants):
    person = _invited(two_tenants.a, "new@acme.example")
    links = Invitation.objects.filter(user=person).count()
    _refused("capability", services.invitation_resend, tenant=two_tenants.a.tenant,
             actor=two_tenants.b.owner, person=person)
    assert Invitation.objects.filter(user=person).count() == links


@pytest.mark.parametrize("role", CANNOT_INVITE)
def test_resend_needs_the_invite_capability(two_tenants, role):
    person = _invited(two_tenants.a, "new@acme.example")
    links = Invitation.objects.filter(user=person).count()
    _refused("capability", services.invitation_resend, tenant=two_tenants.a.tenant,
             actor=two_tenants.a.by_role(role), person=person)
    assert Invitation.objects.filter(user=person).count() == links


def test_resend_by_an_admin_issues_a_new_link(two_tenants):
    person = _invited(two_tenants.a, "new@acme.example")
    issued = services.invitation_resend(tenant=two_tenants.a.tenant, actor=two_tenants.a.admin,
                                        person=person)
    assert issued.invitation.user_id == person.pk
    assert Invitation.objects.filter(user=person, revoked_at__isnull=True).get() == issued.invitation


# --- person_invite -----------------------------------------------------------------------------


@pytest.mark.parametrize("role", CANNOT_INVITE)
def test_invite_needs_the_invite_capability(two_tenants, role):
    _refused("capability", services.person_invite, tenant=two_tenants.a.tenant,
             actor=two_tenants.a.by_role(role), email="new@acme.example", display_name="",
             role=Role.MEMBER)
    assert not User.objects.filter(email="new@acme.example").exists()


def test_invite_into_another_tenant_is_refused(two_tenants):
    _refused("capability", services.person_invite, tenant=two_tenants.a.tenant,
             actor=two_tenants.b.owner, email="new@acme.example", display_name="", role=Role.MEMBER)
    assert not User.objects.filter(email="new@acme.example").exists()


# --- person_suspend / person_reactivate --------------------------------------------------------


@pytest.mark.parametrize("role", CANNOT_SUSPEND)
def test_suspend_needs_the_suspend_capability(two_tenants, role):
    member = two_tenants.a.member
    actor = two_tenants.a.by_role(role)
    target = member if actor.pk != member.pk else two_tenants.a.helpdesk
    _refused("capability", services.person_suspend, tenant=two_tenants.a.tenant, actor=actor,
             person=target)
    target.refresh_from_db()
    assert target.status == User.Status.ACTIVE


def test_suspend_by_another_tenants_admin_is_refused(two_tenants):
    member = two_tenants.a.member
    _refused("capability", services.person_suspend, tenant=two_tenants.a.tenant,
             actor=two_tenants.b.owner, person=member)
    member.refresh_from_db()
    assert member.status == User.Status.ACTIVE


def test_suspend_of_another_tenants_person_is_refused(two_tenants):
    globex_member = two_tenants.b.member
    _refused("tenant", services.person_suspend, tenant=two_tenants.a.tenant,
             actor=two_tenants.a.owner, person=globex_member)
    globex_member.refresh_from_db()
    assert globex_member.status == User.Status.ACTIVE


def _suspended(two_tenants) -> User:
    member = two_tenants.a.member
    services.person_suspend(tenant=two_tenants.a.tenant, actor=two_tenants.a.admin, person=member)
    return member


def test_reactivate_needs_the_suspend_capability(two_tenants):
    member = _suspended(two_tenants)
    _refused("capability", services.person_reactivate, tenant=two_tenants.a.tenant,
             actor=two_tenants.a.auditor, person=member)
    member.refresh_from_db()
    assert member.status == User.Status.SUSPENDED


def test_reactivate_by_another_tenants_admin_is_refused(two_tenants):
    member = _suspended(two_tenants)
    _refused("capability", services.person_reactivate, tenant=two_tenants.a.tenant,
             actor=two_tenants.b.owner, person=member)
    member.refresh_from_db()
    assert member.status == User.Status.SUSPENDED


def test_helpdesk_suspends_and_reactivates_a_member(two_tenants):
    member = _suspended(two_tenants)
    services.person_reactivate(tenant=two_tenants.a.tenant, actor=two_tenants.a.helpdesk, person=member)
    member.refresh_from_db()
    assert member.status == User.Status.ACTIVE
