"""The e-mail log: what the console sent for the company, and what it is still trying to send."""

from __future__ import annotations

import pytest
from django.test import override_settings

from notifications.delivery import deliver_due
from notifications.models import OutboxMessage, Status
from notifications.services import email_enqueue
from tenants.roles import Role
from tests.notifications.support import FlakyBackend

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("_worker_mode")]


@pytest.fixture
def _worker_mode():
    with override_settings(NOTIFICATIONS_DELIVER_ON_COMMIT=False):
        yield


def _enqueue(tenant, n, **extra):
    return email_enqueue(tenant=tenant, to=f"person{n}@{tenant.slug}.example",
                         subject=f"Subject {n}", body=f"secret link {n}",
                         idempotency_key=f"log:{n}", kind="test", **extra)


@pytest.mark.parametrize("role", Role.values)
def test_owners_admins_and_auditors_read_the_email_log(role, two_tenants, signed_in):
    client = signed_in(two_tenants.a.by_role(role))
    allowed = role in (Role.OWNER, Role.ADMIN, Role.AUDITOR)
    assert client.get("/notifications/emails/").status_code == (200 if allowed else 403)


@override_settings(MAILERS={"default": {"BACKEND": "tests.notifications.support.FlakyBackend"}})
def test_the_log_shows_status_and_errors_but_no_bodies_and_nothing_of_another_tenant(
        two_tenants, signed_in):
    FlakyBackend.failures, FlakyBackend.sent = 1, []
    refused = _enqueue(two_tenants.a.tenant, 1)
    deliver_due()  # refused once: pending with the server's answer
    _enqueue(two_tenants.a.tenant, 2)
    deliver_due()
    _enqueue(two_tenants.b.tenant, 3)
    client = signed_in(two_tenants.a.auditor)
    page = client.get("/notifications/emails/").content.decode()
    assert "person1@acme.example" in page and "person2@acme.example" in page
    assert "451" in page and "Pending" in page and "Delivered" in page
    assert "secret link" not in page
    assert "globex" not in page
    failed_only = client.get("/notifications/emails/", {"status": "pending"}).content.decode()
    assert f'data-message="{refused.pk}"' in failed_only and "person2@" not in failed_only
    bad = client.get("/notifications/emails/", {"status": "nonsense", "before": "x"})
    assert bad.status_code == 200


def test_the_log_pages_by_keyset(two_tenants, signed_in):
    for n in range(55):
        _enqueue(two_tenants.a.tenant, n)
    client = signed_in(two_tenants.a.admin)
    ids = list(OutboxMessage.objects.for_tenant(two_tenants.a.tenant).order_by("-pk")
               .values_list("pk", flat=True))
    first = client.get("/notifications/emails/").content.decode()
    assert f'data-message="{ids[49]}"' in first and f'data-message="{ids[50]}"' not in first
    assert f"before={ids[49]}" in first
    second = client.get("/notifications/emails/", {"before": ids[49]}).content.decode()
    assert f'data-message="{ids[50]}"' in second and f'data-message="{ids[49]}"' not in second
    assert OutboxMessage.objects.filter(status=Status.PENDING).count() == 55
