"""Webhooks against a receiver started by the test, and the SSRF checks at save and at delivery."""

from __future__ import annotations

import json
import time
from datetime import timedelta

import pytest
from django.test import override_settings
from django.utils import timezone

from notifications import ssrf
from notifications.delivery import deliver_due
from notifications.models import DeliveryAttempt, Status, WebhookDelivery, WebhookEndpoint
from notifications.services import webhook_endpoint_create, webhook_event_enqueue
from tests.notifications.support import verify, webhook_receiver

pytestmark = pytest.mark.django_db

worker_mode = override_settings(NOTIFICATIONS_DELIVER_ON_COMMIT=False)
PUBLIC = "93.184.216.34"


@pytest.fixture
def dns(monkeypatch):
    """Controls what host names resolve to; unknown names do not resolve."""
    table: dict[str, list[str]] = {}

    def resolve(host, port):
        if host in table:
            return table[host]
        if host == "localhost":
            return ["127.0.0.1"]
        raise OSError("no such host")

    monkeypatch.setattr(ssrf, "resolve", resolve)
    ssrf._console_cache.clear()
    yield table
    ssrf._console_cache.clear()


def _endpoint(tenant, actor, url, events=("alert.opened",)):
    endpoint, secret = webhook_endpoint_create(tenant=tenant, actor=actor, url=url,
                                               description="SIEM", event_types=list(events))
    return endpoint, secret


@worker_mode
def test_deliveries_are_signed_as_the_readme_documents(two_tenants):
    a = two_tenants.a
    with webhook_receiver([204]) as receiver:
        _endpoint_row, secret = _endpoint(a.tenant, a.admin, receiver.url)
        assert webhook_event_enqueue(tenant=a.tenant, event_type="alert.opened",
                                     payload={"alert": 42, "rule": "new_country"},
                                     idempotency_key="alert:42:opened") == 1
        assert receiver.requests == []  # nothing is sent before the worker runs
        assert deliver_due().sent == 1
    assert len(receiver.requests) == 1
    headers, body = receiver.requests[0]
    delivery = WebhookDelivery.objects.for_tenant(a.tenant).get()
    assert verify(secret=secret, headers=headers, body=body)
    assert not verify(secret=secret, headers=headers, body=body.replace(b"42", b"43"))
    assert not verify(secret="another-secret", headers=headers, body=body)
    assert headers["X-Mailadmin-Event"] == "alert.opened"
    assert headers["X-Mailadmin-Delivery"] == str(delivery.pk)
    assert abs(int(headers["X-Mailadmin-Timestamp"]) - time.time()) < 300
    assert headers["Content-Type"] == "application/json"
    event = json.loads(body)
    assert event["type"] == "alert.opened" and event["tenant"] == "acme"
    assert event["data"] == {"alert": 42, "rule": "new_country"}
    delivery.refresh_from_db()
    assert delivery.status == Status.SENT and delivery.last_status_code == 204


@worker_mode
def test_a_500_is_retried_with_the_same_delivery_id_until_it_succeeds(two_tenants):
    a = two_tenants.a
    with webhook_receiver([500, 200]) as receiver:
        _endpoint(a.tenant, a.admin, receiver.url)
        webhook_event_enqueue(tenant=a.tenant, event_type="alert.opened", payload={"alert": 1},
                              idempotency_key="alert:1:opened")
        assert deliver_due().retried == 1
        delivery = WebhookDelivery.objects.for_tenant(a.tenant).get()
        assert (delivery.status, delivery.last_status_code) == (Status.PENDING, 500)
        assert deliver_due().claimed == 0  # not before its backoff
        assert deliver_due(now=delivery.next_attempt_at).sent == 1
        assert deliver_due(now=timezone.now() + timedelta(days=1)).claimed == 0
    assert len(receiver.requests) == 2
    assert len({h["X-Mailadmin-Delivery"] for h, _b in receiver.requests}) == 1
    codes = list(DeliveryAttempt.objects.for_tenant(a.tenant).filter(webhook_delivery=delivery)
                 .order_by("at").values_list("response_code", "ok"))
    assert codes == [(500, False), (200, True)]


@worker_mode
def test_redirects_are_not_followed(two_tenants):
    a = two_tenants.a
    with webhook_receiver([302]) as receiver:
        _endpoint(a.tenant, a.admin, receiver.url)
        webhook_event_enqueue(tenant=a.tenant, event_type="alert.opened", payload={},
                              idempotency_key="k")
        deliver_due()
    delivery = WebhookDelivery.objects.for_tenant(a.tenant).get()
    assert delivery.status == Status.PENDING and "redirect" in delivery.last_error
    assert len(receiver.requests) == 1


@worker_mode
def test_the_request_goes_to_the_address_that_was_checked(two_tenants, dns):
    """The name is resolved once, checked, and that address is connected to (no second lookup)."""
    a = two_tenants.a
    with webhook_receiver([200]) as receiver:
        port = receiver.url.split(":")[2].split("/")[0]
        dns["hooks.customer.test"] = ["127.0.0.2"]
        url = f"http://hooks.customer.test:{port}/in"
        _endpoint(a.tenant, a.admin, url)
        webhook_event_enqueue(tenant=a.tenant, event_type="alert.opened", payload={},
                              idempotency_key="k")
        assert deliver_due().sent == 1
    headers, _body = receiver.requests[0]
    assert headers["Host"] == f"hooks.customer.test:{port}"


@worker_mode
def test_a_name_that_now_resolves_privately_is_refused_at_delivery(two_tenants, dns):
    a = two_tenants.a
    with webhook_receiver([200]) as receiver:
        port = receiver.url.split(":")[2].split("/")[0]
        dns["hooks.customer.test"] = [PUBLIC]
        url = f"http://hooks.customer.test:{port}/in"
        with override_settings(WEBHOOKS_ALLOW_PRIVATE_NETWORKS=False):
            endpoint, _secret = _endpoint(a.tenant, a.admin, url)  # public at save
            dns["hooks.customer.test"] = ["127.0.0.2"]  # ...and private a moment later
            webhook_event_enqueue(tenant=a.tenant, event_type="alert.opened", payload={},
                                  idempotency_key="k")
            report = deliver_due()
    assert report.failed == 1  # refused for good, not retried
    assert receiver.requests == []
    delivery = WebhookDelivery.objects.for_tenant(a.tenant).get(endpoint=endpoint)
    assert delivery.status == Status.FAILED and "127.0.0.2" in delivery.last_error


@worker_mode
def test_a_disabled_endpoint_gets_nothing(two_tenants):
    a = two_tenants.a
    with webhook_receiver([200]) as receiver:
        endpoint, _secret = _endpoint(a.tenant, a.admin, receiver.url)
        webhook_event_enqueue(tenant=a.tenant, event_type="alert.opened", payload={},
                              idempotency_key="k")
        WebhookEndpoint.objects.filter(pk=endpoint.pk).update(active=False)
        assert deliver_due().failed == 1
    assert receiver.requests == []


# --- The checks at save ----------------------------------------------------------------------------

REFUSED = [
    ("https://127.0.0.1/hook", {}, "private"),
    ("http://169.254.169.254/latest/meta-data/", {"WEBHOOKS_ALLOW_HTTP": True}, "169.254.169.254"),
    ("http://169.254.169.254/latest/meta-data/", {}, "https://"),
    ("http://10.0.0.1/", {"WEBHOOKS_ALLOW_HTTP": True}, "private"),
    ("https://192.168.1.10/", {}, "private"),
    ("https://100.64.0.1/", {}, "private"),  # CGNAT
    ("https://[::1]/", {}, "private"),
    ("https://[::ffff:127.0.0.1]/", {}, "private"),
    ("https://[64:ff9b::a00:1]/", {}, "private"),  # NAT64 of 10.0.0.1
    ("https://[2002:a9fe:a9fe::1]/", {}, "private"),  # 6to4 of 169.254.169.254
    ("https://[fd00::1]/", {}, "private"),  # unique local
    ("https://0.0.0.0/", {}, "private"),
    ("https://224.0.0.1/", {}, "private"),
    ("https://localhost/hook", {}, "private"),  # a name that resolves to loopback
    ("https://rebind.customer.test/", {}, "private"),  # a name with one private address
    ("ftp://x/", {}, "https://"),
    ("javascript:alert(1)", {}, "https://"),
    ("https://user:pw@hooks.customer.test/", {}, "user name"),
    ("https://nowhere.invalid/", {}, "does not resolve"),
    ("https://testserver/hook", {"WEBHOOKS_ALLOW_PRIVATE_NETWORKS": True}, "this console"),
    ("https://console-alias.customer.test/", {"WEBHOOKS_ALLOW_PRIVATE_NETWORKS": True},
     "this console"),  # another name for the console's address
]


@pytest.mark.parametrize(("url", "overrides", "message"), REFUSED)
def test_internal_and_non_https_urls_are_form_errors_and_nothing_is_saved(
        url, overrides, message, two_tenants, signed_in, dns):
    dns["rebind.customer.test"] = [PUBLIC, "10.1.2.3"]
    dns["hooks.customer.test"] = [PUBLIC]
    dns["testserver"] = ["198.51.100.20"]
    dns["console-alias.customer.test"] = ["198.51.100.20"]
    client = signed_in(two_tenants.a.admin)
    with override_settings(**overrides):
        response = client.post("/notifications/webhooks/new/",
                               {"url": url, "event_types": ["alert.opened"]})
    assert response.status_code == 200
    assert message in response.content.decode()
    assert 'class="field has-error"' in response.content.decode()
    assert not WebhookEndpoint.objects.exists()


@pytest.mark.parametrize("url", ["https://hooks.customer.test/mailadmin",
                                 "https://93.184.216.34:8443/in?token=abc",
                                 "https://[2606:4700:4700::1111]/in"])
def test_a_public_https_url_is_saved(url, two_tenants, signed_in, dns):
    dns["hooks.customer.test"] = [PUBLIC]
    client = signed_in(two_tenants.a.admin)
    response = client.post("/notifications/webhooks/new/",
                           {"url": url, "event_types": ["alert.opened"]})
    assert response.status_code == 200
    endpoint = WebhookEndpoint.objects.for_tenant(two_tenants.a.tenant).get()
    assert endpoint.url == url
    assert endpoint.secret in response.content.decode()


@worker_mode
def test_https_checks_the_certificate_against_the_urls_host(two_tenants, dns, monkeypatch,
                                                             tmp_path):
    """Connected to the checked address, TLS still names and verifies the URL's host."""
    import ssl

    from notifications import webhooks
    from tests.notifications.support import make_test_ca

    ca = make_test_ca(str(tmp_path), ["hooks.customer.test"])

    def trusting_the_test_ca() -> ssl.SSLContext:
        context = ssl.create_default_context()
        context.load_verify_locations(cadata=ca.ca_pem.decode())
        return context

    monkeypatch.setattr(webhooks, "_tls_context", trusting_the_test_ca)
    a = two_tenants.a
    with webhook_receiver([200], tls=ca) as receiver:
        port = receiver.url.split(":")[2].split("/")[0]
        dns["hooks.customer.test"] = ["127.0.0.2"]
        dns["impostor.customer.test"] = ["127.0.0.2"]  # same server, a name its certificate lacks
        good, secret = _endpoint(a.tenant, a.admin, f"https://hooks.customer.test:{port}/in")
        bad, _secret = _endpoint(a.tenant, a.admin, f"https://impostor.customer.test:{port}/in")
        webhook_event_enqueue(tenant=a.tenant, event_type="alert.opened", payload={"n": 1},
                              idempotency_key="tls")
        report = deliver_due()
    assert (report.sent, report.retried) == (1, 1)
    assert len(receiver.requests) == 1
    headers, body = receiver.requests[0]
    assert headers["Host"] == f"hooks.customer.test:{port}"
    assert verify(secret=secret, headers=headers, body=body)
    failed = WebhookDelivery.objects.for_tenant(a.tenant).get(endpoint=bad)
    assert "certificate" in failed.last_error.lower() and failed.last_status_code is None
    assert WebhookDelivery.objects.for_tenant(a.tenant).get(endpoint=good).status == Status.SENT


@worker_mode
def test_deleting_an_endpoint_deletes_its_deliveries_and_attempts_only(two_tenants, dns):
    from notifications.services import webhook_endpoint_delete

    dns["hooks.customer.test"] = [PUBLIC]
    a, b = two_tenants.a, two_tenants.b
    gone, _s = _endpoint(a.tenant, a.admin, "https://hooks.customer.test/gone")
    kept, _s = _endpoint(a.tenant, a.admin, "https://hooks.customer.test/kept")
    theirs, _s = _endpoint(b.tenant, b.admin, "https://hooks.customer.test/theirs")
    for tenant in (a.tenant, b.tenant):
        webhook_event_enqueue(tenant=tenant, event_type="alert.opened", payload={},
                              idempotency_key="e1")
    dns["hooks.customer.test"] = ["10.9.9.9"]  # refused at delivery: an attempt each, no network
    assert deliver_due().failed == 3
    webhook_endpoint_delete(tenant=a.tenant, actor=a.admin, endpoint=gone)
    assert not WebhookDelivery.objects.filter(endpoint_id=gone.pk).exists()
    assert not DeliveryAttempt.objects.filter(webhook_delivery__endpoint_id=gone.pk).exists()
    remaining = DeliveryAttempt.objects.values_list("webhook_delivery__endpoint_id", flat=True)
    assert sorted(remaining) == sorted([kept.pk, theirs.pk])
