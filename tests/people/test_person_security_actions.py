from __future__ import annotations

import pytest

from activity.models import AuditLogEntry
from security.policies.lockout.services import lockout_policy_update
from tests.factories import PASSWORD
from tests.security.signin_support import post_signin

pytestmark = pytest.mark.django_db


def _lock(two_tenants, make_client, person):
    lockout_policy_update(tenant=two_tenants.a.tenant, actor=two_tenants.a.owner, failure_limit=3,
                          cooloff_minutes=60)
    for _ in range(3):
        post_signin(make_client(), person.email, "wrong")


def test_helpdesk_sees_the_lock_and_unlocks_from_the_person_page(two_tenants, reauthed, make_client):
    member = two_tenants.a.member
    _lock(two_tenants, make_client, member)
    helpdesk = reauthed(two_tenants.a.helpdesk)
    page = helpdesk.get(f"/people/{member.pk}/").content.decode()
    assert "Locked out" in page and f"/people/{member.pk}/unlock/" in page
    response = helpdesk.post(f"/people/{member.pk}/unlock/", {"back": "person"})
    assert response["Location"] == f"/people/{member.pk}/"
    assert post_signin(make_client(), member.email, PASSWORD).status_code == 302
    assert AuditLogEntry.objects.filter(tenant=two_tenants.a.tenant, object_pk=str(member.pk),
                                        changes__lockout=["locked", "unlocked"]).exists()


def test_reset_mfa_removes_devices_and_is_audited(two_tenants, reauthed):
    from accounts.mfa.models import EncryptedTOTPDevice
    from accounts.mfa.services import mfa_user_has_device

    member = two_tenants.a.member
    EncryptedTOTPDevice.objects.create(tenant=two_tenants.a.tenant, user=member, name="Phone",
                                       key=b"0" * 20, confirmed=True)
    assert mfa_user_has_device(user=member)
    helpdesk = reauthed(two_tenants.a.helpdesk)
    assert "Reset two-step sign-in" in helpdesk.get(f"/people/{member.pk}/").content.decode()
    helpdesk.post(f"/people/{member.pk}/reset-mfa/")
    assert not mfa_user_has_device(user=member)
    assert AuditLogEntry.objects.filter(tenant=two_tenants.a.tenant, object_pk=str(member.pk),
                                        actor=two_tenants.a.helpdesk).exists()


def test_reset_mfa_of_another_tenant_or_higher_rank_is_refused(two_tenants, reauthed):
    helpdesk = reauthed(two_tenants.a.helpdesk)
    assert helpdesk.post(f"/people/{two_tenants.b.member.pk}/reset-mfa/").status_code == 404
    response = helpdesk.post(f"/people/{two_tenants.a.admin.pk}/reset-mfa/", follow=True)
    assert "cannot manage" in response.content.decode()
    auditor = reauthed(two_tenants.a.auditor)
    assert auditor.post(f"/people/{two_tenants.a.member.pk}/reset-mfa/").status_code == 403
