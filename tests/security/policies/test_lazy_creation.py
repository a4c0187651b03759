"""Policies are created by the first save, never by reading a page."""

from __future__ import annotations

import pytest
from django.contrib.contenttypes.models import ContentType

from activity.models import AuditLogEntry
from security.models import (
    LockoutPolicy,
    MfaPolicy,
    NetworkPolicy,
    PasswordPolicy,
    SessionPolicy,
    SignInHoursPolicy,
)

pytestmark = pytest.mark.django_db

PAGES = {
    "/policies/network/": NetworkPolicy,
    "/policies/hours/": SignInHoursPolicy,
    "/policies/password/": PasswordPolicy,
    "/policies/password/compliance/": PasswordPolicy,
    "/policies/mfa/": MfaPolicy,
    "/policies/lockout/": LockoutPolicy,
    "/policies/sessions/": SessionPolicy,
}
FIRST_SAVE = {
    "/policies/network/": {"entries": "192.0.2.0/24 HQ", "mode": "monitor", "scope": "everyone"},
    "/policies/hours/": {**{f"day_{d}": "" for d in range(7)}, "day_0": "09:00-17:00",
                         "mode": "monitor", "scope": "everyone"},
    "/policies/password/": {"profile": "classic", "on_noncompliant": "change_now"},
    "/policies/mfa/": {"requirement": "required_admins", "grace_days": "7"},
    "/policies/lockout/": {"failure_limit": "4", "cooloff_minutes": "15", "account_ceiling": "30",
                           "ceiling_hours": "12"},
    "/policies/sessions/": {"idle_timeout_minutes": "30", "absolute_lifetime_hours": "12"},
}


@pytest.mark.parametrize("role", ["owner", "admin", "auditor"])
@pytest.mark.parametrize("path", list(PAGES))
def test_reading_a_policy_page_writes_no_row(two_tenants, signed_in, path, role):
    client = signed_in(two_tenants.a.by_role(role))
    entries = AuditLogEntry.objects.count()
    two_tenants.a.tenant.refresh_from_db()
    version = two_tenants.a.tenant.policy_version
    assert client.get(path).status_code == 200
    assert not PAGES[path].objects.exists()
    assert AuditLogEntry.objects.count() == entries
    two_tenants.a.tenant.refresh_from_db()
    assert two_tenants.a.tenant.policy_version == version


@pytest.mark.parametrize("path", list(FIRST_SAVE))
def test_the_first_save_creates_the_row_as_one_change(two_tenants, signed_in, path):
    model = PAGES[path]
    client = signed_in(two_tenants.a.admin)
    client.get(path)
    response = client.post(path, FIRST_SAVE[path])
    assert response.status_code == 302, response.content.decode()[:2000]
    row = model.objects.get(tenant=two_tenants.a.tenant)
    assert row.updated_by == two_tenants.a.admin
    audit = AuditLogEntry.objects.filter(content_type=ContentType.objects.get_for_model(model),
                                         object_pk=str(row.pk))
    assert [e.action for e in audit] == [AuditLogEntry.Action.UPDATE]  # the defaults are not a change
    assert not model.objects.filter(tenant=two_tenants.b.tenant).exists()
