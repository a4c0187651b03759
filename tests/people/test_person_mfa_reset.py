"""people.services.person_mfa_reset: scoped to the tenant, checked, audited and e-mailed."""

from __future__ import annotations

import pytest
from django.core import mail
from django.core.exceptions import ValidationError

from accounts.mfa import services
from accounts.mfa.models import BackupCodeDevice
from activity.models import AuditLogEntry
from people.services import person_mfa_reset
from tests.accounts.test_mfa_support import enroll


def test_mfa_reset_is_scoped_audited_and_mailed(two_tenants, django_capture_on_commit_callbacks):
    a, b = two_tenants.a, two_tenants.b
    enroll(a.member)
    services.backup_codes_regenerate(user=a.member)
    enroll(b.member)
    mail.outbox.clear()
    with pytest.raises(ValidationError) as exc:
        person_mfa_reset(tenant=a.tenant, actor=a.helpdesk, person=b.member)
    assert exc.value.code == "tenant"
    with pytest.raises(ValidationError) as exc:
        person_mfa_reset(tenant=b.tenant, actor=a.admin, person=b.member)
    assert exc.value.code == "capability"
    with pytest.raises(ValidationError) as exc:
        person_mfa_reset(tenant=a.tenant, actor=a.member, person=a.member)
    assert exc.value.code == "capability"
    with pytest.raises(ValidationError) as exc:
        person_mfa_reset(tenant=a.tenant, actor=a.helpdesk, person=a.admin)
    assert exc.value.code == "rank"
    assert services.mfa_user_has_device(user=b.member)

    with django_capture_on_commit_callbacks(execute=True):
        removed = person_mfa_reset(tenant=a.tenant, actor=a.helpdesk, person=a.member)
    assert removed == 2
    assert not services.mfa_user_has_device(user=a.member)
    assert not BackupCodeDevice.objects.filter(user=a.member).exists()
    assert services.mfa_user_has_device(user=b.member)
    entry = AuditLogEntry.objects.for_tenant(a.tenant).filter(object_pk=str(a.member.pk)).latest("pk")
    assert entry.actor == a.helpdesk and "mfa" in entry.changes_dict
    # Globex's trail has its member's own enrolment, never Acme's reset.
    assert not AuditLogEntry.objects.for_tenant(b.tenant).filter(changes__icontains="reset").exists()
    assert [m.to for m in mail.outbox] == [[a.member.email]]
    assert "reset" in mail.outbox[0].subject.lower()
