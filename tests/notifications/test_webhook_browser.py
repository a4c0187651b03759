"""An admin adds a webhook in the browser, keeps its secret, sends a test event, deletes it."""

from __future__ import annotations

import pytest
from django.test import override_settings
from playwright.sync_api import Page, expect

from notifications import ssrf
from notifications.models import WebhookEndpoint
from tests.browser.conftest import browser_type_launch_args, page  # noqa: F401  # fixtures
from tests.factories import PASSWORD
from tests.notifications.support import verify, webhook_receiver

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_admin_adds_a_webhook_sends_a_test_event_and_deletes_it(live_server, page: Page,  # noqa: F811
                                                                 monkeypatch):
    from tests.conftest import _tenant_set

    acme = _tenant_set("Acme")
    base = live_server.url
    page.goto(base + "/signin/")
    page.get_by_label("E-mail address").fill(acme.admin.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()

    with webhook_receiver([200]) as receiver:
        port = receiver.url.split(":")[2].split("/")[0]
        monkeypatch.setattr(ssrf, "resolve", lambda host, _port: (
            ["127.0.0.2"] if host == "hooks.acme.test" else ["127.0.0.1"]))
        ssrf._console_cache.clear()
        page.get_by_role("link", name="Webhooks").click()
        expect(page.get_by_text("No webhooks yet.")).to_be_visible()
        page.get_by_role("link", name="Add a webhook").click()
        # First a private address: a form error, nothing saved.
        page.get_by_label("URL").fill("http://10.0.0.1/")
        page.get_by_label("An alert was opened").check()
        with override_settings(WEBHOOKS_ALLOW_PRIVATE_NETWORKS=False):
            page.get_by_role("button", name="Add webhook").click()
            expect(page.get_by_text("private, loopback or otherwise internal")).to_be_visible()
        assert not WebhookEndpoint.objects.exists()
        page.get_by_label("URL").fill(f"http://hooks.acme.test:{port}/in")
        page.get_by_label("Description").fill("Our SIEM")
        page.get_by_role("button", name="Add webhook").click()
        expect(page.get_by_role("heading", name="The webhook is added")).to_be_visible()
        secret = page.locator("[data-secret]").inner_text()
        assert secret.startswith("whsec_")
        page.get_by_role("link", name="Done").click()
        expect(page.locator("[data-secret]")).to_have_count(0)

        page.get_by_role("button", name="Send test event").first.click()
        expect(page.get_by_text("A test event is queued")).to_be_visible()
        page.reload()  # embedded mode delivered it right after the request's commit
        expect(page.locator("[data-delivery]").get_by_text("Delivered", exact=True)).to_be_visible()
    headers, body = receiver.requests[0]
    assert headers["X-Mailadmin-Event"] == "webhook.test"
    assert verify(secret=secret, headers=headers, body=body)

    page.get_by_role("link", name="Back to the webhook").click()
    page.get_by_role("link", name="Delete").click()
    expect(page.get_by_text("This cannot be undone.")).to_be_visible()
    page.get_by_role("button", name="Delete webhook").click()
    expect(page.get_by_text("The webhook and its delivery log are deleted.")).to_be_visible()
    assert not WebhookEndpoint.objects.exists()
