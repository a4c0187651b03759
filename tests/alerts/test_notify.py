"""Who hears about an alert: "Was this you?", the admins at once or in the digest, webhooks."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re

import pytest
import time_machine
from django.utils import timezone

from alerts.detect import tenant_detect
from alerts.models import Alert
from alerts.notify import alert_opened, alerts_digest_send
from alerts.preferences import ReportLink
from alerts.services import digest_opt_out_set
from notifications.models import OutboxMessage, WebhookDelivery, WebhookEndpoint
from tests.alerts.triage_support import GERMANY, make_alert, quiet_detector, signin  # noqa: F401

US_CHROME = dataclasses.replace(GERMANY, ip="8.8.8.8", country="US")

pytestmark = pytest.mark.django_db


def _mail(tenant, kind: str):
    return OutboxMessage.objects.for_tenant(tenant).filter(kind=kind).order_by("pk")


def test_was_this_you_in_the_persons_language_and_time_zone(two_tenants, client):
    a = two_tenants.a
    member = a.member
    member.timezone = "Asia/Shanghai"
    member.save()
    at = dt.datetime(2026, 11, 30, 19, 12, tzinfo=dt.UTC)  # 03:12 in Shanghai
    alert = make_alert(member, rule="new_country", event=signin(member, at=at))
    alert_opened(alert=alert)
    message = _mail(a.tenant, "alert_was_this_you").get()
    assert message.to == member.email
    assert message.subject == ("New sign-in to your account: Chrome on Windows, Germany, "
                               "03:12 your time")
    link = re.search(r"http://testserver(/alerts/report/\S+/)", message.body).group(1)
    assert "http://testserver/me/signins/" in message.body
    # The link opens a confirmation page for anyone holding it.
    assert client.get(link).status_code == 200
    # Running the notification twice sends nothing twice.
    alert_opened(alert=alert)
    assert _mail(a.tenant, "alert_was_this_you").count() == 1
    assert ReportLink.objects.filter(alert=alert).count() == 1


def test_only_device_country_and_travel_ask_the_person(two_tenants):
    a = two_tenants.a
    for rule in ("brute_force", "unusual_hour", "dormant_account"):
        alert_opened(alert=make_alert(a.member, rule=rule, event=signin(a.member)))
    assert not _mail(a.tenant, "alert_was_this_you").exists()


def test_high_severity_reaches_the_security_admins_at_once(two_tenants):
    a = two_tenants.a
    alert_opened(alert=make_alert(a.member, rule="brute_force", severity="high"))
    assert sorted(_mail(a.tenant, "alert_admin").values_list("to", flat=True)) == sorted(
        [a.owner.email, a.admin.email])
    alert_opened(alert=make_alert(a.member, rule="brute_force", severity="medium"))
    assert _mail(a.tenant, "alert_admin").count() == 2
    assert not _mail(two_tenants.b.tenant, "alert_admin").exists()


def test_record_only_alerts_notify_nobody(two_tenants):
    a = two_tenants.a
    WebhookEndpoint.objects.create(tenant=a.tenant, url="https://hooks.example.com/in",
                                   secret="s3cret-for-tests", event_types=["alert.opened"])
    alert_opened(alert=make_alert(a.member, rule="new_country", severity="high", mode="record",
                                  event=signin(a.member)))
    assert not OutboxMessage.objects.for_tenant(a.tenant).filter(kind__startswith="alert").exists()
    assert not WebhookDelivery.objects.for_tenant(a.tenant).exists()
    alert_opened(alert=make_alert(a.member, rule="new_country", event=signin(a.member)))
    assert WebhookDelivery.objects.for_tenant(a.tenant).filter(event_type="alert.opened").count() == 1


def test_daily_digest_once_per_day_without_opted_out_admins(two_tenants, signed_in):
    a = two_tenants.a
    yesterday = timezone.now() - dt.timedelta(days=1)
    with time_machine.travel(yesterday):
        make_alert(a.member, rule="unusual_hour", severity="low")
        make_alert(a.member, rule="brute_force", severity="high")  # sent at once, not digested
    client = signed_in(a.admin)
    page = client.get("/alerts/digest/")
    assert page.status_code == 200
    assert client.post("/alerts/digest/", {}).status_code == 302  # box unticked: opt out
    alerts_digest_send()
    digests = _mail(a.tenant, "alert_digest")
    assert list(digests.values_list("to", flat=True)) == [a.owner.email]
    body = digests.get().body
    assert "1 alert was opened on" in body and "brute" not in body.lower()
    alerts_digest_send()  # a second run the same day: nothing new
    assert digests.count() == 1
    digest_opt_out_set(user=a.admin, opted_out=False)
    alerts_digest_send()
    assert sorted(digests.values_list("to", flat=True)) == sorted([a.owner.email, a.admin.email])


def test_members_have_no_digest_page(two_tenants, signed_in):
    assert signed_in(two_tenants.a.member).get("/alerts/digest/").status_code == 403


def test_the_profile_shows_the_digest_preference_to_security_admins_only(two_tenants, signed_in):
    a = two_tenants.a
    digest_opt_out_set(user=a.admin, opted_out=True)
    page = signed_in(a.admin).get("/me/").content.decode()
    assert 'data-testid="profile-alert-emails"' in page and "turned the daily digest" in page
    assert 'data-testid="profile-alert-emails"' not in signed_in(a.member).get("/me/").content.decode()


def test_the_detector_asks_the_person_in_their_language_once(two_tenants):
    a = two_tenants.a
    member = a.member
    member.language = "zh-hans"
    member.save()
    WebhookEndpoint.objects.create(tenant=a.tenant, url="https://hooks.example.com/in",
                                   secret="s3cret-for-tests", event_types=["alert.opened"])
    base = timezone.now().replace(hour=14, minute=0, second=0, microsecond=0)
    for days in range(21, 0, -1):
        signin(member, client=US_CHROME, at=base - dt.timedelta(days=days))
    signin(member, at=timezone.now() - dt.timedelta(minutes=1))  # Germany: a new country
    tenant_detect(tenant=a.tenant)
    tenant_detect(tenant=a.tenant)  # a second run finds nothing new
    alert = Alert.objects.for_tenant(a.tenant).get(rule="new_country")
    message = _mail(a.tenant, "alert_was_this_you").get()
    assert (message.to, message.language) == (member.email, "zh-hans")
    assert "德国" in message.subject  # the country, in the person's language
    assert WebhookDelivery.objects.for_tenant(a.tenant).filter(
        event_type="alert.opened", payload__data__id=alert.pk).count() == 1


def test_an_alert_about_an_old_sign_in_emails_nobody_at_once(two_tenants):
    """The detector catching up (an outage, or an existing install's history judged the first
    time) does not ask people "Was this you?" about last month, nor page the admins."""
    a = two_tenants.a
    old = timezone.now() - dt.timedelta(days=3)
    alert_opened(alert=make_alert(a.member, rule="new_country", severity="high", at=old,
                                  event=signin(a.member, at=old)))
    assert not _mail(a.tenant, "alert_was_this_you").exists()
    assert not _mail(a.tenant, "alert_admin").exists()
