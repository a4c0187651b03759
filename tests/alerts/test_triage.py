"""Triage actions: who may act, what each writes (status, timeline, audit, webhook), bad input."""

from __future__ import annotations

import pytest

from activity.models import AuditLogEntry
from alerts.models import Alert, AlertActivity, RuleSetting, Trust
from alerts.services import (
    TrustRequest,
    alert_acknowledge,
    alert_assign,
    alert_resolve,
    alerts_bulk_apply,
    trust_revoke,
)
from notifications.models import OutboxMessage, WebhookDelivery, WebhookEndpoint
from tests.alerts.triage_support import make_alert, quiet_detector, signin  # noqa: F401

pytestmark = pytest.mark.django_db


def _entries(alert: Alert) -> list[dict]:
    return [e.changes_dict if hasattr(e, "changes_dict") else e.changes
            for e in AuditLogEntry.objects.filter(object_pk=str(alert.pk),
                                                  content_type__model="alert").order_by("pk")]


@pytest.mark.parametrize("role", ["owner", "admin"])
def test_security_admins_acknowledge_then_resolve_with_timeline_and_audit(
        role, two_tenants, signed_in):
    a = two_tenants.a
    alert = make_alert(a.member)
    client = signed_in(a.by_role(role))
    response = client.post(f"/alerts/{alert.pk}/act/", {"action": "acknowledge",
                                                         "note": "Calling them"})
    assert response.status_code == 302
    alert.refresh_from_db()
    assert alert.status == "acknowledged"
    response = client.post(f"/alerts/{alert.pk}/act/", {"action": "resolve", "note": "Confirmed"})
    assert response.status_code == 302
    alert.refresh_from_db()
    assert alert.status == "resolved" and alert.resolved_at is not None
    steps = list(AlertActivity.objects.filter(alert=alert, kind="status")
                 .values_list("from_status", "to_status", "note", "actor"))
    actor = a.by_role(role).pk
    assert steps == [("open", "acknowledged", "Calling them", actor),
                     ("acknowledged", "resolved", "Confirmed", actor)]
    audit = _entries(alert)
    assert [entry["status"] for entry in audit] == [["open", "acknowledged"],
                                                    ["acknowledged", "resolved"]]
    page = client.get(f"/alerts/{alert.pk}/").content.decode()
    assert "Calling them" in page and "Confirmed" in page


@pytest.mark.parametrize("role", ["auditor", "helpdesk", "member"])
def test_other_roles_cannot_act(role, two_tenants, signed_in):
    a = two_tenants.a
    alert = make_alert(a.member)
    client = signed_in(a.by_role(role))
    for action in ("acknowledge", "resolve", "false_positive", "note"):
        response = client.post(f"/alerts/{alert.pk}/act/", {"action": action, "note": "x"})
        assert response.status_code == 403
    assert client.post("/alerts/bulk/", {"action": "resolve", "alerts": [alert.pk],
                                         "confirm": "1"}).status_code == 403
    alert.refresh_from_db()
    assert alert.status == "open"
    assert not AlertActivity.objects.filter(alert=alert).exclude(kind="opened").exists()


def test_auditor_reads_but_sees_no_triage_form(two_tenants, signed_in):
    a = two_tenants.a
    alert = make_alert(a.member)
    client = signed_in(a.auditor)
    page = client.get(f"/alerts/{alert.pk}/")
    assert page.status_code == 200
    assert b'data-testid="triage"' not in page.content
    assert client.get("/alerts/").status_code == 200


@pytest.mark.parametrize("role", ["helpdesk", "member"])
def test_roles_without_alerts_view_cannot_read(role, two_tenants, signed_in):
    a = two_tenants.a
    alert = make_alert(a.member)
    client = signed_in(a.by_role(role))
    assert client.get("/alerts/").status_code == 403
    assert client.get(f"/alerts/{alert.pk}/").status_code == 403


def test_another_tenants_alert_is_404_for_get_and_post(two_tenants, signed_in):
    theirs = make_alert(two_tenants.b.member)
    client = signed_in(two_tenants.a.owner)
    assert client.get(f"/alerts/{theirs.pk}/").status_code == 404
    assert client.post(f"/alerts/{theirs.pk}/act/", {"action": "resolve"}).status_code == 404
    response = client.post("/alerts/bulk/", {"action": "resolve", "alerts": [theirs.pk],
                                             "confirm": "1"})
    assert response.status_code == 302
    theirs.refresh_from_db()
    assert theirs.status == "open"
    assert not AlertActivity.objects.filter(alert=theirs, kind="status").exists()


def test_resolved_alert_cannot_be_acknowledged_and_nothing_changes(two_tenants, signed_in):
    alert = make_alert(two_tenants.a.member, status="resolved")
    client = signed_in(two_tenants.a.admin)
    response = client.post(f"/alerts/{alert.pk}/act/", {"action": "acknowledge"})
    assert response.status_code == 400
    assert "cannot be marked" in response.content.decode()
    alert.refresh_from_db()
    assert alert.status == "resolved"
    assert not AlertActivity.objects.filter(alert=alert, kind="status").exists()


def test_unknown_action_and_oversized_note_are_refused(two_tenants, signed_in):
    alert = make_alert(two_tenants.a.member)
    client = signed_in(two_tenants.a.admin)
    assert client.post(f"/alerts/{alert.pk}/act/", {"action": "delete"}).status_code == 400
    assert client.post(f"/alerts/{alert.pk}/act/",
                       {"action": "resolve", "note": "x" * 5000}).status_code == 400
    assert client.post(f"/alerts/{alert.pk}/act/", {"action": "note", "note": " "}).status_code == 400
    alert.refresh_from_db()
    assert alert.status == "open"


def test_assign_only_to_an_admin_of_the_tenant(two_tenants, signed_in):
    a = two_tenants.a
    alert = make_alert(a.member)
    client = signed_in(a.owner)
    assert client.post(f"/alerts/{alert.pk}/act/", {"action": "assign",
                                                     "assignee": a.admin.pk}).status_code == 302
    alert.refresh_from_db()
    assert alert.assignee_id == a.admin.pk
    assert AlertActivity.objects.filter(alert=alert, kind="assigned").count() == 1
    told = OutboxMessage.objects.for_tenant(a.tenant).get(kind="alert_assigned")
    assert told.to == a.admin.email and "assigned an alert to you" in told.body
    for other in (a.member, two_tenants.b.admin):
        response = client.post(f"/alerts/{alert.pk}/act/", {"action": "assign",
                                                             "assignee": other.pk})
        assert response.status_code == 400
    alert.refresh_from_db()
    assert alert.assignee_id == a.admin.pk
    with pytest.raises(Exception, match="assigned only"):
        alert_assign(alert=alert, actor=a.owner, assignee=a.member)


def test_resolving_with_trust_creates_a_revocable_trust(two_tenants, signed_in):
    a = two_tenants.a
    event = signin(a.member)
    alert = make_alert(a.member, event=event)
    client = signed_in(a.admin)
    response = client.post(f"/alerts/{alert.pk}/act/", {
        "action": "false_positive", "trust_country": "on", "trust_network": "on"})
    assert response.status_code == 302
    trusts = Trust.objects.for_tenant(a.tenant).filter(user=a.member, revoked_at__isnull=True)
    assert sorted(trusts.values_list("kind", "value")) == [("country", "DE"),
                                                           ("network", "203.0.113.0/24")]
    listing = client.get("/alerts/trusts/").content.decode()
    assert "203.0.113.0/24" in listing
    trust = trusts.get(kind="country")
    assert client.post(f"/alerts/trusts/{trust.pk}/revoke/").status_code == 302
    trust.refresh_from_db()
    assert trust.revoked_at is not None and trust.revoked_by_id == a.admin.pk
    # The auditor reads the list but may not revoke.
    auditor = signed_in(a.auditor)
    other = trusts.get(kind="network")
    assert auditor.post(f"/alerts/trusts/{other.pk}/revoke/").status_code == 403
    other.refresh_from_db()
    assert other.revoked_at is None


def test_trust_only_with_a_resolution(two_tenants, signed_in):
    a = two_tenants.a
    alert = make_alert(a.member, event=signin(a.member))
    client = signed_in(a.admin)
    response = client.post(f"/alerts/{alert.pk}/act/", {"action": "acknowledge",
                                                         "trust_country": "on"})
    assert response.status_code == 400
    assert not Trust.objects.exists()
    alert.refresh_from_db()
    assert alert.status == "open"


def test_bulk_shows_a_confirmation_then_applies(two_tenants, signed_in):
    a = two_tenants.a
    first, second = make_alert(a.member), make_alert(a.admin)
    done = make_alert(a.member, status="resolved")
    client = signed_in(a.owner)
    response = client.post("/alerts/bulk/", {"action": "acknowledge",
                                             "alerts": [first.pk, second.pk, done.pk]})
    assert response.status_code == 200
    assert b'data-testid="bulk-confirm-table"' in response.content
    for alert in (first, second):
        alert.refresh_from_db()
        assert alert.status == "open"  # nothing changes before the confirmation
    response = client.post("/alerts/bulk/", {"action": "acknowledge", "confirm": "1",
                                             "alerts": [first.pk, second.pk, done.pk]},
                           follow=True)
    assert "2 alerts changed." in response.content.decode()
    assert "1 were skipped" in response.content.decode()
    assert set(Alert.objects.filter(pk__in=[first.pk, second.pk])
               .values_list("status", flat=True)) == {"acknowledged"}


def test_bulk_without_selection_is_a_clear_error(two_tenants, signed_in):
    client = signed_in(two_tenants.a.owner)
    response = client.post("/alerts/bulk/", {"action": "resolve"}, follow=True)
    assert "Select at least one alert." in response.content.decode()


def test_status_changes_enqueue_the_alert_updated_webhook(two_tenants):
    a = two_tenants.a
    WebhookEndpoint.objects.create(tenant=a.tenant, url="https://hooks.example.com/in", secret="s3cret-for-tests",
                                   event_types=["alert.updated"], created_by=a.owner)
    alert = make_alert(a.member)
    alert_acknowledge(alert=alert, actor=a.owner)
    alert_resolve(alert=alert, actor=a.owner)
    deliveries = WebhookDelivery.objects.for_tenant(a.tenant).filter(event_type="alert.updated")
    assert deliveries.count() == 2
    # Record-only alerts tell nobody.
    quiet = make_alert(a.member, mode="record")
    alerts_bulk_apply(tenant=a.tenant, actor=a.owner, alerts=[quiet], action="resolve")
    assert deliveries.count() == 2


def test_trust_request_of_a_wide_network_is_refused(two_tenants):
    a = two_tenants.a
    alert = make_alert(a.member)
    with pytest.raises(Exception, match="too wide"):
        alert_resolve(alert=alert, actor=a.owner,
                      trusts=[TrustRequest(kind="network", value="10.0.0.0/8")])
    alert.refresh_from_db()
    assert alert.status == "open"
    assert not Trust.objects.exists()
    assert trust_revoke  # imported for the revoke test above


GARBAGE = ["", "x", "-1", "0", "99999999999999999999", "1e3", "%00", "<script>", "😀" * 50]


def test_garbage_input_never_500s_and_changes_nothing(two_tenants, signed_in):
    a = two_tenants.a
    alert = make_alert(a.member)
    client = signed_in(a.owner)
    for value in GARBAGE:
        for data in ({"action": value}, {"action": "assign", "assignee": value},
                     {"action": "acknowledge", "trust_country": value or "on"}):
            response = client.post(f"/alerts/{alert.pk}/act/", data)
            unassign = data == {"action": "assign", "assignee": ""}  # "Nobody": valid, no change
            assert response.status_code == (302 if unassign else 400), (data, response.status_code)
        for data in ({"action": value, "alerts": [alert.pk]},
                     {"action": "resolve", "alerts": [value], "confirm": "1"}):
            assert client.post("/alerts/bulk/", data).status_code in (200, 302), data
        for param in ("status", "severity", "rule", "person", "mode", "date_from", "cursor",
                      "size"):
            assert client.get("/alerts/", {param: value}).status_code == 200, (param, value)
            assert client.get("/alerts/export/", {param: value}).status_code in (200, 400)
        assert client.post("/alerts/rules/", {"rule": value}).status_code in (302, 400)
        assert client.post("/alerts/rules/", {"rule": "brute_force", "brute_force-p_failures": value,
                                              "brute_force-mode": value}).status_code == 400
    alert.refresh_from_db()
    assert (alert.status, alert.assignee_id) == ("open", None)
    assert list(AlertActivity.objects.filter(alert=alert).values_list("kind", flat=True)) == [
        "opened"]
    assert not Trust.objects.exists()
    assert not RuleSetting.objects.exists()


def test_securing_the_persons_account_from_the_alert(two_tenants, signed_in, make_client):
    a = two_tenants.a
    laptop = make_client()
    assert laptop.post("/signin/", {"email": a.member.email,
                                    "password": "Correct-horse-battery-9"}).status_code == 302
    alert = make_alert(a.member)
    client = signed_in(a.admin)
    response = client.post(f"/alerts/{alert.pk}/act/", {"action": "secure", "note": "Confirmed"})
    assert response.status_code == 302
    a.member.refresh_from_db()
    assert a.member.must_change_password
    assert laptop.get("/me/").status_code == 302  # their session ended
    assert AlertActivity.objects.filter(alert=alert, kind="note",
                                        note__contains="Account secured").exists()
    # Nobody secures someone above their rank: an admin cannot secure the owner's account.
    above = make_alert(a.owner)
    response = client.post(f"/alerts/{above.pk}/act/", {"action": "secure"})
    assert response.status_code == 400
    a.owner.refresh_from_db()
    assert not a.owner.must_change_password
    assert not AlertActivity.objects.filter(alert=above, kind="note").exists()
