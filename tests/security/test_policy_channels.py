"""Which sign-ins a network allowlist or sign-in hours govern: the web console, mail clients, or both.

The pure rules, the policy pages (saved, shown and audited), the web sign-in pipeline and its
session checks, and the mail decision Dovecot asks for (``security.mailauth``), each honouring it.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from django.contrib.contenttypes.models import ContentType

from activity.models import AuditLogEntry, LoginEvent
from security.policies.base import Channel, Channels, Mode, SignInContext
from security.policies.hours import rules as hours
from security.policies.hours.models import SignInHoursPolicy
from security.policies.hours.rules import HoursRules, Interval
from security.policies.network import rules as network
from security.policies.network.models import NetworkAllowEntry, NetworkPolicy
from security.policies.network.rules import NetworkRules, parse_network
from tests.factories import PASSWORD
from tests.mailauth.conftest import SECRET
from tests.security.signin_support import post_signin

pytestmark = pytest.mark.django_db

OFFICE = "192.0.2.0/24"
OUTSIDE_IP = "198.51.100.7"
MONDAY_EVENING = datetime(2026, 3, 2, 20, 0, tzinfo=UTC)  # outside Monday 09:00-17:00 (UTC tenant)


def _ctx(channel: Channel, *, ip: str = OUTSIDE_IP, now: datetime = MONDAY_EVENING) -> SignInContext:
    return SignInContext(ip=ip, now=now, role="member", user_id=1, channel=channel)


@pytest.mark.parametrize(("channels", "web_allowed", "mail_allowed"), [
    (Channels.BOTH, False, False), (Channels.WEB, False, True), (Channels.MAIL, True, False)])
def test_an_enforced_allowlist_refuses_only_the_sign_ins_it_covers(channels, web_allowed, mail_allowed):
    rules = NetworkRules.build(mode=Mode.ENFORCE, scope="everyone", channels=channels,
                               networks=[parse_network(OFFICE)])
    assert network.evaluate(_ctx(Channel.WEB), rules).allowed is web_allowed
    assert network.evaluate(_ctx(Channel.MAIL), rules).allowed is mail_allowed
    # Inside the list everyone is let in, whatever it covers.
    assert network.evaluate(_ctx(Channel.MAIL, ip="192.0.2.9"), rules).allowed


@pytest.mark.parametrize(("channels", "web_flagged", "mail_flagged"), [
    (Channels.BOTH, True, True), (Channels.WEB, True, False), (Channels.MAIL, False, True)])
def test_monitored_hours_flag_only_the_sign_ins_they_cover(channels, web_flagged, mail_flagged):
    rules = HoursRules.build(mode=Mode.MONITOR, scope="everyone", channels=channels, timezone_name="UTC",
                             intervals=[Interval(day=0, start=9 * 60, end=17 * 60)])
    web, mail = hours.evaluate(_ctx(Channel.WEB), rules), hours.evaluate(_ctx(Channel.MAIL), rules)
    assert web.allowed and mail.allowed  # monitor mode never refuses
    assert web.monitored is web_flagged and mail.monitored is mail_flagged
    assert (mail.reason == "hours_monitor") is mail_flagged


def _audit(tenant, model) -> list[AuditLogEntry]:
    return list(AuditLogEntry.objects.filter(
        tenant=tenant, content_type=ContentType.objects.get_for_model(model)).order_by("id"))


def test_the_allowlist_page_saves_shows_and_audits_the_sign_ins_it_covers(two_tenants, signed_in):
    tenant = two_tenants.a.tenant
    client = signed_in(two_tenants.a.owner)
    form = {"entries": f"{OFFICE} Office", "mode": Mode.MONITOR, "scope": "everyone"}
    assert client.post("/policies/network/", {**form, "channels": Channels.MAIL}).status_code == 302
    assert NetworkPolicy.objects.get(tenant=tenant).channels == Channels.MAIL
    page = client.get("/policies/network/").content.decode()
    assert 'data-testid="policy-channels">Mail clients only (IMAP, POP3, SMTP)<' in page
    assert '<option value="mail" selected>' in page
    # A form without the field (a page opened before it existed) keeps what is saved.
    client.post("/policies/network/", {**form, "entries": f"{OFFICE} HQ"})
    assert NetworkPolicy.objects.get(tenant=tenant).channels == Channels.MAIL
    client.post("/policies/network/", {**form, "entries": f"{OFFICE} HQ", "channels": Channels.WEB})
    entries = _audit(tenant, NetworkPolicy)
    assert [e.changes.get("channels") for e in entries] == [["both", "mail"], None, ["mail", "web"]]
    trail = client.get("/logs/audit/").content.decode()
    assert "The web console only" in trail
    bad = client.post("/policies/network/", {**form, "channels": "fax"})
    assert bad.status_code == 200 and "Select a valid choice" in bad.content.decode()
    assert NetworkPolicy.objects.get(tenant=tenant).channels == Channels.WEB
    assert NetworkPolicy.objects.filter(tenant=two_tenants.b.tenant).count() == 0


def test_the_hours_page_saves_and_audits_the_sign_ins_it_covers(two_tenants, signed_in, time_machine):
    time_machine.move_to(datetime(2026, 3, 2, 10, 0, tzinfo=UTC), tick=False)
    tenant = two_tenants.a.tenant
    client = signed_in(two_tenants.a.owner)
    days = {f"day_{d}": "" for d in range(7)} | {"day_0": "09:00-17:00"}
    response = client.post("/policies/hours/", {**days, "mode": Mode.ENFORCE, "scope": "everyone",
                                                "channels": Channels.MAIL})
    assert response.status_code == 302
    assert SignInHoursPolicy.objects.get(tenant=tenant).channels == Channels.MAIL
    assert 'data-testid="policy-channels">Mail clients only' in client.get("/policies/hours/").content.decode()
    assert _audit(tenant, SignInHoursPolicy)[-1].changes["channels"] == ["both", "mail"]


def test_mail_only_hours_neither_refuse_nor_end_a_web_session(two_tenants, signed_in, time_machine):
    owner = two_tenants.a.owner
    time_machine.move_to(datetime(2026, 3, 2, 16, 55, tzinfo=UTC), tick=False)
    client = signed_in(owner)
    SignInHoursPolicy.objects.create(tenant=owner.tenant, mode=Mode.ENFORCE, channels=Channels.MAIL,
                                     schedule=[{"day": 0, "start": "09:00", "end": "17:00"}])
    time_machine.move_to(datetime(2026, 3, 2, 17, 5, tzinfo=UTC), tick=False)  # closed since 17:00
    assert client.get("/policies/hours/").status_code == 200  # the session goes on after hours
    assert post_signin(client, owner.email, PASSWORD).status_code == 302
    assert LoginEvent.objects.filter(user=owner).latest("id").outcome == "success"
    policy = SignInHoursPolicy.objects.get(tenant=owner.tenant)
    policy.channels = Channels.BOTH
    policy.save()
    ended = client.get("/policies/hours/")
    assert ended.status_code == 302 and ended["Location"].startswith("/signin/")


@pytest.mark.parametrize(("channels", "web_outcome"), [
    (Channels.MAIL, "success"), (Channels.WEB, "denied"), (Channels.BOTH, "denied")])
def test_the_web_sign_in_honours_the_allowlists_channels(client, two_tenants, channels, web_outcome):
    member = two_tenants.a.member
    policy = NetworkPolicy.objects.create(tenant=member.tenant, mode=Mode.ENFORCE, channels=channels)
    NetworkAllowEntry.objects.create(tenant=member.tenant, policy=policy, cidr=OFFICE)
    post_signin(client, member.email, PASSWORD, ip=OUTSIDE_IP)
    event = LoginEvent.objects.get(user=member)
    assert (event.outcome, event.protocol) == (web_outcome, "web")
    assert event.reason == ("network_denied" if web_outcome == "denied" else "password_ok")


def _mail(client, command: str, login: str, **extra: object):
    body = {"login": login, "pwhash": "x", "remote": OUTSIDE_IP, "device_id": "", "protocol": "imap",
            "session_id": "s1", **extra}
    return client.post(f"/mailauth/policy?command={command}", data=json.dumps(body),
                       content_type="application/json", REMOTE_ADDR="127.0.0.1", HTTP_X_API_KEY=SECRET)


@pytest.mark.parametrize(("channels", "mail_status"), [
    (Channels.WEB, 0), (Channels.MAIL, -1), (Channels.BOTH, -1)])
def test_the_mail_decision_honours_the_allowlists_channels(client, settings, two_tenants, channels,
                                                          mail_status):
    settings.MAILADMIN_MAIL_POLICY_SECRET = SECRET
    settings.MAILADMIN_MAIL_POLICY_NETWORKS = ["127.0.0.1/32"]
    settings.ALERTS_DETECT_EAGER = False
    member = two_tenants.a.member
    policy = NetworkPolicy.objects.create(tenant=member.tenant, mode=Mode.ENFORCE, channels=channels)
    NetworkAllowEntry.objects.create(tenant=member.tenant, policy=policy, cidr=OFFICE)
    assert _mail(client, "allow", member.email).json()["status"] == mail_status
    if mail_status == -1:
        event = LoginEvent.objects.get(user=member)
        assert (event.outcome, event.reason, event.protocol) == ("denied", "network_denied", "imap")
    else:
        assert not LoginEvent.objects.filter(user=member).exists()  # recorded by its report


def test_monitored_mail_only_hours_mark_a_mail_success_not_a_web_one(client, settings, two_tenants,
                                                                     time_machine):
    settings.MAILADMIN_MAIL_POLICY_SECRET = SECRET
    settings.MAILADMIN_MAIL_POLICY_NETWORKS = ["127.0.0.1/32"]
    settings.ALERTS_DETECT_EAGER = False
    time_machine.move_to(MONDAY_EVENING, tick=False)
    member = two_tenants.a.member
    SignInHoursPolicy.objects.create(tenant=member.tenant, mode=Mode.MONITOR, channels=Channels.MAIL,
                                     schedule=[{"day": 0, "start": "09:00", "end": "17:00"}])
    assert _mail(client, "allow", member.email).json()["status"] == 0
    _mail(client, "report", member.email, success=True, policy_reject=False)
    post_signin(client, member.email, PASSWORD)
    got = list(LoginEvent.objects.filter(user=member).order_by("id").values_list("protocol", "reason"))
    assert got == [("imap", "hours_monitor"), ("web", "password_ok")]
