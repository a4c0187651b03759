"""Unlock, reset two-step sign-in and resend an invitation: each shows what it will do on a
confirmation page, needs the acting admin's fresh confirmation of who they are, and is audited."""

from __future__ import annotations

import time

import pytest
import time_machine

from accounts.mfa import services as mfa_services
from accounts.mfa.models import EncryptedTOTPDevice
from accounts.mfa.services import mfa_user_has_device
from activity.models import AuditLogEntry
from people.services import person_invite
from security.policies.lockout.services import lockout_policy_update
from security.signin.lockout import locked_accounts_list
from tenants.models import Invitation
from tests.factories import PASSWORD
from tests.security.signin_support import post_signin

pytestmark = pytest.mark.django_db

STALE = mfa_services.RECENT_AUTH_SECONDS + 5


def _lock(two_tenants, make_client, person):
    lockout_policy_update(tenant=two_tenants.a.tenant, actor=two_tenants.a.owner, failure_limit=3,
                          cooloff_minutes=60)
    for _ in range(3):
        post_signin(make_client(), person.email, "wrong")


def _enrol(tenant, person):
    EncryptedTOTPDevice.objects.create(tenant=tenant, user=person, name="Phone", key=b"0" * 20,
                                       confirmed=True)


def _confirm_page(client, path):
    response = client.get(path)
    assert response.status_code == 200
    page = response.content.decode()
    assert 'data-testid="confirmation-effects"' in page and 'data-testid="confirm"' in page
    return page


def test_unlock_asks_for_confirmation_first_and_the_button_unlocks(two_tenants, reauthed, make_client):
    a = two_tenants.a
    _lock(two_tenants, make_client, a.member)
    helpdesk = reauthed(a.helpdesk)
    page = _confirm_page(helpdesk, f"/people/{a.member.pk}/unlock/")
    assert f"Unlock {a.member}?" in page and "can sign in again at once" in page
    assert [row.person for row in locked_accounts_list(tenant=a.tenant)] == [a.member]  # GET did nothing

    response = helpdesk.post(f"/people/{a.member.pk}/unlock/")
    assert response["Location"] == "/people/locked/"
    assert locked_accounts_list(tenant=a.tenant) == []
    assert AuditLogEntry.objects.filter(tenant=a.tenant, object_pk=str(a.member.pk), actor=a.helpdesk,
                                        changes__lockout=["locked", "unlocked"]).exists()
    assert post_signin(make_client(), a.member.email, PASSWORD).status_code == 302


def test_a_stale_confirmation_unlocks_nothing_until_the_admin_confirms_it_is_them(
        two_tenants, reauthed, make_client):
    a = two_tenants.a
    _lock(two_tenants, make_client, a.member)
    helpdesk = reauthed(a.helpdesk)
    path = f"/people/{a.member.pk}/unlock/"
    with time_machine.travel(time.time() + STALE):
        response = helpdesk.post(path, {"back": "person"})
        assert response.status_code == 302 and response["Location"].startswith("/me/mfa/confirm/")
        assert [row.person for row in locked_accounts_list(tenant=a.tenant)] == [a.member]
        confirm = helpdesk.get(response["Location"]).content.decode()
        assert "This change needs a fresh confirmation that it is you." in confirm
        # Confirming comes back to the confirmation page (a GET), not to the unlock itself.
        response = helpdesk.post(response["Location"], {"secret": PASSWORD})
        assert response["Location"] == path
        page = _confirm_page(helpdesk, path)
        assert f"Unlock {a.member}?" in page and 'name="back" value="person"' in page
        assert [row.person for row in locked_accounts_list(tenant=a.tenant)] == [a.member]
        # Its button unlocks and comes back to the person.
        assert helpdesk.post(path, {"back": "person"})["Location"] == f"/people/{a.member.pk}/"
        assert locked_accounts_list(tenant=a.tenant) == []


def test_unlocking_someone_not_locked_says_so(two_tenants, reauthed):
    helpdesk = reauthed(two_tenants.a.helpdesk)
    response = helpdesk.post(f"/people/{two_tenants.a.member.pk}/unlock/", follow=True)
    assert f"{two_tenants.a.member} is not locked out." in response.content.decode()


def test_mfa_reset_confirmation_then_reset(two_tenants, reauthed):
    a = two_tenants.a
    _enrol(a.tenant, a.member)
    helpdesk = reauthed(a.helpdesk)
    page = _confirm_page(helpdesk, f"/people/{a.member.pk}/reset-mfa/")
    assert f"Reset two-step sign-in of {a.member}?" in page and a.member.email in page
    assert mfa_user_has_device(user=a.member)

    with time_machine.travel(time.time() + STALE):
        response = helpdesk.post(f"/people/{a.member.pk}/reset-mfa/")
        assert response["Location"].startswith("/me/mfa/confirm/")
        assert mfa_user_has_device(user=a.member)

    response = helpdesk.post(f"/people/{a.member.pk}/reset-mfa/", follow=True)
    assert "Two-step sign-in was reset for" in response.content.decode()
    assert not mfa_user_has_device(user=a.member)
    assert AuditLogEntry.objects.filter(tenant=a.tenant, object_pk=str(a.member.pk), actor=a.helpdesk,
                                        changes__mfa=["enrolled", "reset"]).exists()


def test_resend_invitation_confirmation_then_a_new_link(two_tenants, reauthed):
    a = two_tenants.a
    issued = person_invite(tenant=a.tenant, actor=a.admin, email="nina.new@acme.example",
                           display_name="Nina New", role="member")
    person = issued.invitation.user
    admin = reauthed(a.admin)
    page = _confirm_page(admin, f"/people/{person.pk}/resend/")
    assert "Send Nina New a new invitation?" in page and "nina.new@acme.example" in page
    assert Invitation.objects.filter(user=person).count() == 1

    with time_machine.travel(time.time() + STALE):
        assert admin.post(f"/people/{person.pk}/resend/")["Location"].startswith("/me/mfa/confirm/")
        assert Invitation.objects.filter(user=person).count() == 1

    response = admin.post(f"/people/{person.pk}/resend/", follow=True)
    assert "A new invitation was sent to Nina New." in response.content.decode()
    assert Invitation.objects.filter(user=person).count() == 2


@pytest.mark.parametrize("action", ["unlock", "reset-mfa", "resend"])
def test_another_tenants_person_is_a_404_on_the_confirmation_page_too(two_tenants, reauthed, action):
    admin = reauthed(two_tenants.a.admin)
    assert admin.get(f"/people/{two_tenants.b.member.pk}/{action}/").status_code == 404
    assert admin.post(f"/people/{two_tenants.b.member.pk}/{action}/").status_code == 404


@pytest.mark.parametrize("action", ["unlock", "reset-mfa", "resend"])
def test_roles_without_the_capability_get_403_on_the_confirmation_page(two_tenants, reauthed, action):
    auditor = reauthed(two_tenants.a.auditor)
    assert auditor.get(f"/people/{two_tenants.a.member.pk}/{action}/").status_code == 403


def test_the_person_pages_destructive_buttons_open_their_confirmation_first(two_tenants, reauthed):
    """Even just after confirming who they are, pressing "Reset two-step sign-in" on the person
    page shows what will happen; nothing changes until they confirm."""
    import re

    a = two_tenants.a
    _enrol(a.tenant, a.member)
    admin = reauthed(a.admin)
    page = admin.get(f"/people/{a.member.pk}/").content.decode()
    for testid, path in (("action-reset-mfa", f"/people/{a.member.pk}/reset-mfa/"),):
        form = re.search(r'<form method="(\w+)" action="([^"]+)"[^>]*>\s*<button[^>]*data-testid="'
                         + testid + '"', page)
        assert form, testid
        method, action = form.groups()
        assert (method, action) == ("get", path)
        _confirm_page(admin, action)
    assert mfa_user_has_device(user=a.member)  # nothing changed yet
