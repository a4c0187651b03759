"""The grey zone on alert evidence and the alerts export (issue 10): evidence older than the
tenant's visible window is hidden and counted by default; owners and auditors may include it, with
the day each row will be deleted, and that access is recorded."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.utils import timezone

from activity.lifetime import retention_rules
from activity.models import AuditLogEntry, ExportEvent
from alerts.models import AlertEvidence
from tests.alerts.triage_support import make_alert, quiet_detector, signin  # noqa: F401

pytestmark = pytest.mark.django_db


def _rows(page: str) -> int:
    return page.count('data-testid="evidence-row"')


def _grey_accesses(tenant) -> list[AuditLogEntry]:
    return list(AuditLogEntry.objects.filter(tenant=tenant, action=AuditLogEntry.Action.ACCESS))


def _alert_with_old_and_new_evidence(a):
    now = timezone.now()
    old = signin(a.member, at=now - dt.timedelta(days=120))
    new = signin(a.member, at=now - dt.timedelta(days=1))
    alert = make_alert(a.member, rule="new_country", event=new)
    AlertEvidence.objects.create(
        tenant=a.tenant, alert=alert, event_id=old.pk, event_kind="signin",
        occurred_at=old.occurred_at, ip="198.51.100.99", country=old.country,
        browser_family=old.browser_family, os_family=old.os_family,
        device_type=old.device_type, user_agent=old.user_agent)
    return alert, old


def test_evidence_past_the_visible_window_is_hidden_and_counted_by_default(two_tenants,
                                                                           signed_in):
    a = two_tenants.a
    alert, _old = _alert_with_old_and_new_evidence(a)
    page = signed_in(a.admin).get(f"/alerts/{alert.pk}/").content.decode()
    assert _rows(page) == 1
    assert "198.51.100.99" not in page
    assert re.search(r'data-testid="grey-hidden">1 older evidence event is hidden', page)
    assert 'data-testid="grey-toggle"' not in page  # admins cannot include it
    refused = signed_in(a.admin).get(f"/alerts/{alert.pk}/", {"grey": "1"})
    assert refused.status_code == 200
    assert "198.51.100.99" not in refused.content.decode()
    assert 'data-testid="grey-refused"' in refused.content.decode()
    assert _grey_accesses(a.tenant) == []


@pytest.mark.parametrize("role", ["owner", "auditor"])
def test_owner_and_auditor_include_it_with_the_deletion_day_and_it_is_recorded(two_tenants,
                                                                               signed_in, role):
    a = two_tenants.a
    alert, old = _alert_with_old_and_new_evidence(a)
    client = signed_in(getattr(a, role))
    plain = client.get(f"/alerts/{alert.pk}/").content.decode()
    assert 'data-testid="grey-toggle"' in plain and "198.51.100.99" not in plain
    assert _grey_accesses(a.tenant) == []
    page = client.get(f"/alerts/{alert.pk}/", {"grey": "1"}).content.decode()
    assert _rows(page) == 2 and "198.51.100.99" in page
    day = retention_rules(tenant=a.tenant).deleted_on(old.occurred_at).isoformat()
    assert re.search(rf'data-testid="deleted-on">{day} <span class="badge pending">', page)
    assert 'data-testid="grey-notice"' in page and 'data-testid="grey-hidden"' not in page
    (entry,) = _grey_accesses(a.tenant)
    assert entry.actor_id == getattr(a, role).pk
    assert entry.additional_data["view"] == "alert_detail"
    assert entry.additional_data["filters"] == {"alert": str(alert.pk)}


def test_an_alert_with_only_visible_evidence_records_no_grey_access(two_tenants, signed_in):
    a = two_tenants.a
    alert = make_alert(a.member, event=signin(a.member))
    page = signed_in(a.owner).get(f"/alerts/{alert.pk}/", {"grey": "1"}).content.decode()
    assert _rows(page) == 1 and 'data-testid="grey-hidden"' not in page
    assert _grey_accesses(a.tenant) == []


def test_export_leaves_out_grey_alerts_unless_an_owner_or_auditor_asks(two_tenants, signed_in):
    a = two_tenants.a
    now = timezone.now()
    recent = make_alert(a.member, rule="brute_force", at=now - dt.timedelta(days=2))
    old_at = now - dt.timedelta(days=100)
    old = make_alert(a.member, rule="brute_force", at=old_at)
    client = signed_in(a.admin)
    body = b"".join(client.get("/alerts/export/").streaming_content).decode()
    lines = body.strip().splitlines()
    assert [int(line.split(",")[0]) for line in lines[1:]] == [recent.pk]
    assert "deleted_on" not in lines[0]
    assert client.get("/alerts/export/", {"grey": "1"}).status_code == 403
    client = signed_in(a.auditor)
    body = b"".join(client.get("/alerts/export/", {"grey": "1"}).streaming_content).decode()
    lines = body.strip().splitlines()
    assert lines[0].endswith(",deleted_on")
    assert [int(line.split(",")[0]) for line in lines[1:]] == [recent.pk, old.pk]
    day = retention_rules(tenant=a.tenant).deleted_on(old_at).isoformat()
    assert lines[1].endswith(",") and lines[2].endswith("," + day)
    events = ExportEvent.objects.for_tenant(a.tenant).filter(dataset="alerts").order_by("id")
    assert [(e.user_id, e.filters, e.row_count) for e in events] == [
        (a.admin.pk, {}, 1), (a.auditor.pk, {"grey": "1"}, 2)]
    listing = client.get("/alerts/", {"status": "any"}).content.decode()
    assert 'data-testid="alerts-export-grey"' in listing
