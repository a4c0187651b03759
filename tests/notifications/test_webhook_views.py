"""The webhook pages as each role sees them, with the other tenant kept out."""

from __future__ import annotations

import pytest
from django.test import override_settings

from activity.models import AuditLogEntry
from notifications import ssrf
from notifications.delivery import deliver_due
from notifications.events import TEST_EVENT
from notifications.models import Status, WebhookDelivery, WebhookEndpoint
from notifications.services import webhook_endpoint_create
from tenants.roles import Role
from tests.notifications.support import verify, webhook_receiver

pytestmark = pytest.mark.django_db

PUBLIC = "93.184.216.34"


@pytest.fixture(autouse=True)
def dns(monkeypatch):
    table = {"hooks.customer.test": [PUBLIC], "siem.customer.test": [PUBLIC]}

    def resolve(host, port):
        if host in table:
            return table[host]
        raise OSError("no such host")

    monkeypatch.setattr(ssrf, "resolve", resolve)
    ssrf._console_cache.clear()
    yield table
    ssrf._console_cache.clear()


def _endpoint(tenant_set, url="https://hooks.customer.test/in"):
    return webhook_endpoint_create(tenant=tenant_set.tenant, actor=tenant_set.owner, url=url,
                                   description="SIEM", event_types=["alert.opened"])


@pytest.mark.parametrize("role", Role.values)
def test_only_owners_and_admins_open_the_webhook_pages(role, two_tenants, signed_in):
    endpoint, _secret = _endpoint(two_tenants.a)
    client = signed_in(two_tenants.a.by_role(role))
    allowed = role in (Role.OWNER, Role.ADMIN)
    for url in ("/notifications/webhooks/", "/notifications/webhooks/new/",
                f"/notifications/webhooks/{endpoint.pk}/",
                f"/notifications/webhooks/{endpoint.pk}/deliveries/",
                f"/notifications/webhooks/{endpoint.pk}/delete/"):
        assert client.get(url).status_code == (200 if allowed else 403), url
    response = client.post(f"/notifications/webhooks/{endpoint.pk}/delete/")
    assert response.status_code == (302 if allowed else 403)
    assert WebhookEndpoint.objects.filter(pk=endpoint.pk).exists() is not allowed


def test_the_list_shows_this_tenants_webhooks_only(two_tenants, signed_in):
    _endpoint(two_tenants.a, "https://hooks.customer.test/acme")
    _endpoint(two_tenants.b, "https://siem.customer.test/globex")
    page = signed_in(two_tenants.a.admin).get("/notifications/webhooks/").content.decode()
    assert "https://hooks.customer.test/acme" in page
    assert "globex" not in page


def test_the_secret_is_shown_once_at_creation_and_never_audited(two_tenants, signed_in):
    client = signed_in(two_tenants.a.admin)
    response = client.post("/notifications/webhooks/new/", {
        "url": "https://hooks.customer.test/in", "description": "Our SIEM",
        "event_types": ["alert.opened", "alert.updated"]})
    assert response.status_code == 200
    endpoint = WebhookEndpoint.objects.for_tenant(two_tenants.a.tenant).get()
    assert endpoint.secret in response.content.decode()
    assert endpoint.event_types == ["alert.opened", "alert.updated"]
    assert endpoint.created_by == two_tenants.a.admin
    assert response["Cache-Control"] == "no-store" or "no-store" in response["Cache-Control"]
    for url in ("/notifications/webhooks/", f"/notifications/webhooks/{endpoint.pk}/"):
        assert endpoint.secret not in client.get(url).content.decode()
    entry = AuditLogEntry.objects.filter(tenant=two_tenants.a.tenant,
                                         object_pk=str(endpoint.pk)).get()
    assert entry.actor == two_tenants.a.admin
    assert "url" in entry.changes_dict and "secret" not in entry.changes_dict
    assert endpoint.secret not in str(entry.changes)


def test_editing_saves_and_is_audited_and_bad_input_changes_nothing(two_tenants, signed_in):
    endpoint, _secret = _endpoint(two_tenants.a)
    client = signed_in(two_tenants.a.admin)
    url = f"/notifications/webhooks/{endpoint.pk}/"
    response = client.post(url, {"url": "https://siem.customer.test/v2", "description": "v2",
                                 "event_types": ["alert.updated"], "active": "on"})
    assert response.status_code == 302
    endpoint.refresh_from_db()
    assert (endpoint.url, endpoint.event_types) == ("https://siem.customer.test/v2", ["alert.updated"])
    assert AuditLogEntry.objects.filter(tenant=two_tenants.a.tenant, object_pk=str(endpoint.pk),
                                        action=AuditLogEntry.Action.UPDATE).exists()
    for bad in ({"url": "http://10.0.0.1/", "event_types": ["alert.opened"]},
                {"url": "https://siem.customer.test/v3", "event_types": []},
                {"url": "https://siem.customer.test/v3", "event_types": ["nonsense"]}):
        response = client.post(url, bad)
        assert response.status_code == 200
        assert 'class="errors"' in response.content.decode() or "has-error" in response.content.decode()
        endpoint.refresh_from_db()
        assert endpoint.url == "https://siem.customer.test/v2"


def test_disable_replace_secret_and_delete(two_tenants, signed_in):
    endpoint, secret = _endpoint(two_tenants.a)
    client = signed_in(two_tenants.a.owner)
    base = f"/notifications/webhooks/{endpoint.pk}/"
    assert client.post(base + "disable/").status_code == 302
    endpoint.refresh_from_db()
    assert not endpoint.active
    response = client.post(base + "rotate-secret/")
    endpoint.refresh_from_db()
    assert endpoint.secret != secret and endpoint.secret in response.content.decode()
    confirm = client.get(base + "delete/").content.decode()
    assert "cannot be undone" in confirm
    assert WebhookEndpoint.objects.filter(pk=endpoint.pk).exists()  # a GET deletes nothing
    assert client.post(base + "delete/").status_code == 302
    assert not WebhookEndpoint.objects.filter(pk=endpoint.pk).exists()
    assert AuditLogEntry.objects.filter(tenant=two_tenants.a.tenant, object_pk=str(endpoint.pk),
                                        action=AuditLogEntry.Action.DELETE).exists()


@override_settings(NOTIFICATIONS_DELIVER_ON_COMMIT=False)
def test_send_test_event_goes_through_the_outbox_and_shows_in_the_log(two_tenants, signed_in):
    client = signed_in(two_tenants.a.admin)
    with webhook_receiver([200]) as receiver:
        endpoint, secret = _endpoint(two_tenants.a, receiver.url)
        response = client.post(f"/notifications/webhooks/{endpoint.pk}/test/", follow=True)
        assert response.status_code == 200
        assert "test event is queued" in response.content.decode()
        assert receiver.requests == []  # the request only queued it
        delivery = WebhookDelivery.objects.for_tenant(two_tenants.a.tenant).get()
        assert (delivery.event_type, delivery.status) == (TEST_EVENT, Status.PENDING)
        assert deliver_due().sent == 1
    headers, body = receiver.requests[0]
    assert headers["X-Mailadmin-Event"] == TEST_EVENT
    assert verify(secret=secret, headers=headers, body=body)
    log = client.get(f"/notifications/webhooks/{endpoint.pk}/deliveries/").content.decode()
    assert f'data-delivery="{delivery.pk}"' in log and "Delivered" in log


def test_a_disabled_webhook_cannot_send_a_test_event(two_tenants, signed_in):
    endpoint, _secret = _endpoint(two_tenants.a)
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(active=False)
    response = signed_in(two_tenants.a.admin).post(
        f"/notifications/webhooks/{endpoint.pk}/test/", follow=True)
    assert "disabled" in response.content.decode()
    assert not WebhookDelivery.objects.exists()


def test_another_tenants_webhook_is_a_404_and_stays_untouched(two_tenants, signed_in):
    theirs, _secret = _endpoint(two_tenants.b)
    client = signed_in(two_tenants.a.admin)
    base = f"/notifications/webhooks/{theirs.pk}/"
    for url in (base, base + "deliveries/", base + "delete/"):
        assert client.get(url).status_code == 404
    for url in (base, base + "test/", base + "disable/", base + "rotate-secret/", base + "delete/"):
        assert client.post(url, {"url": "https://hooks.customer.test/x", "event_types":
                                 ["alert.opened"]}).status_code == 404
    theirs_now = WebhookEndpoint.objects.get(pk=theirs.pk)
    assert (theirs_now.url, theirs_now.active, theirs_now.secret) == (theirs.url, True, theirs.secret)
    assert not WebhookDelivery.objects.exists()


def test_the_delivery_log_pages_by_keyset(two_tenants, signed_in):
    from notifications.services import webhook_event_enqueue

    endpoint, _secret = _endpoint(two_tenants.a)
    with override_settings(NOTIFICATIONS_DELIVER_ON_COMMIT=False):
        for n in range(55):
            webhook_event_enqueue(tenant=two_tenants.a.tenant, event_type="alert.opened",
                                  payload={"n": n}, idempotency_key=f"k{n}")
    client = signed_in(two_tenants.a.admin)
    first = client.get(f"/notifications/webhooks/{endpoint.pk}/deliveries/").content.decode()
    ids = list(WebhookDelivery.objects.order_by("-pk").values_list("pk", flat=True))
    assert f'data-delivery="{ids[0]}"' in first and f'data-delivery="{ids[50]}"' not in first
    assert f"?before={ids[49]}" in first
    second = client.get(f"/notifications/webhooks/{endpoint.pk}/deliveries/?before={ids[49]}")
    assert f'data-delivery="{ids[50]}"' in second.content.decode()
    assert f'data-delivery="{ids[49]}"' not in second.content.decode()


def test_the_pages_make_the_same_number_of_queries_for_many_webhooks(two_tenants, signed_in, dns):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from notifications.services import webhook_event_enqueue

    client = signed_in(two_tenants.a.admin)
    endpoint, _secret = _endpoint(two_tenants.a)

    def counts() -> tuple[int, int]:
        with CaptureQueriesContext(connection) as listing:
            assert client.get("/notifications/webhooks/").status_code == 200
        with CaptureQueriesContext(connection) as log:
            assert client.get(f"/notifications/webhooks/{endpoint.pk}/deliveries/").status_code == 200
        return len(listing), len(log)

    with override_settings(NOTIFICATIONS_DELIVER_ON_COMMIT=False):
        webhook_event_enqueue(tenant=two_tenants.a.tenant, event_type="alert.opened",
                              payload={}, idempotency_key="first")
        dns["hooks.customer.test"] = ["10.0.0.5"]  # refused at delivery: attempts, no connection
        deliver_due(now=None)
        counts()  # the first request after signing in also touches the session
        few = counts()
        dns["hooks.customer.test"] = [PUBLIC]
        for n in range(4):
            _endpoint(two_tenants.a, f"https://hooks.customer.test/{n}")
        for n in range(10):
            webhook_event_enqueue(tenant=two_tenants.a.tenant, event_type="alert.opened",
                                  payload={"n": n}, idempotency_key=f"more{n}")
        dns["hooks.customer.test"] = ["10.0.0.5"]
        assert deliver_due(now=None).failed == 50
    assert counts() == few
