"""Probes of today's policy forms with garbage: the mail client policy, and "sign-ins covered" on the
network allowlist and sign-in hours. A forged, oversized or unknown value is a translated form
error and nothing is saved (no row, no audit entry), never a 500; the dashboard's protocol link
target takes a forged protocol as a translated filter message.
"""

from __future__ import annotations

import pytest

from accounts.models import User
from activity.models import AuditLogEntry
from security.policies.hours.models import SignInHoursPolicy
from security.policies.mail.models import MailPolicy
from security.policies.network.models import NetworkPolicy

pytestmark = pytest.mark.django_db

FORGED_ROLES = [["superuser"], ["member", "operator"], ["owner" * 200], ["<script>"], [""]]


@pytest.mark.parametrize("off_roles", FORGED_ROLES)
def test_a_forged_role_on_the_mail_policy_is_a_form_error_and_saves_nothing(off_roles, two_tenants, signed_in):
    client = signed_in(two_tenants.a.admin)
    entries = AuditLogEntry.objects.count()
    response = client.post("/policies/mail/", {"client_passwords_required": "on", "off_roles": off_roles})
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    assert not MailPolicy.objects.exists()
    assert AuditLogEntry.objects.count() == entries


def test_the_mail_policy_form_error_reads_in_chinese_and_too_many_fields_is_a_400(two_tenants, signed_in):
    admin = two_tenants.a.admin
    User.objects.filter(pk=admin.pk).update(language="zh-hans")
    client = signed_in(admin)
    response = client.post("/policies/mail/", {"off_roles": ["superuser"]})
    assert response.status_code == 200 and "选择一个有效的选项" in response.content.decode()
    flood = client.post("/policies/mail/", {"off_roles": ["member"] * 5000})
    assert flood.status_code == 400
    assert not MailPolicy.objects.exists()


@pytest.mark.parametrize(("path", "model", "body"), [
    ("/policies/network/", NetworkPolicy, {"entries": "203.0.113.0/24 office", "mode": "monitor",
                                           "scope": "everyone"}),
    ("/policies/hours/", SignInHoursPolicy, {"day_0": "09:00-18:00", "mode": "monitor", "scope": "everyone"}),
])
@pytest.mark.parametrize("channels", ["everything", "web,mail", "mail" * 100, "WEB"])
def test_a_forged_channel_is_a_form_error_and_saves_nothing(path, model, body, channels, two_tenants, signed_in):
    client = signed_in(two_tenants.a.admin)
    entries = AuditLogEntry.objects.count()
    response = client.post(path, {**body, "channels": channels, "confirm_self_lockout": "on"})
    assert response.status_code == 200
    assert set(response.context["form"].errors) == {"channels"}  # the forged value, nothing else
    assert "Select a valid choice" in response.content.decode()
    assert not model.objects.exists()
    assert AuditLogEntry.objects.count() == entries
    # The same form with a real choice saves: the refusal above was the channel's.
    assert client.post(path, {**body, "channels": "mail"}).status_code == 302
    assert model.objects.get(tenant=two_tenants.a.tenant).channels == "mail"


def test_an_auditor_cannot_change_sign_ins_covered(two_tenants, signed_in):
    client = signed_in(two_tenants.a.auditor)
    for path in ("/policies/network/", "/policies/hours/"):
        assert client.post(path, {"mode": "monitor", "scope": "everyone", "channels": "web"}).status_code == 403
        assert 'name="channels"' not in client.get(path).content.decode()
    assert not NetworkPolicy.objects.exists() and not SignInHoursPolicy.objects.exists()


@pytest.mark.parametrize("protocol", ["smtp", "x" * 300, "%00", "web' OR 1=1"])
def test_a_forged_protocol_on_the_sign_in_log_is_a_message_not_a_500(protocol, two_tenants, signed_in):
    client = signed_in(two_tenants.a.admin)
    response = client.get("/logs/signins/", {"protocol": protocol})
    assert response.status_code == 200
    html = response.content.decode()
    assert "the filter was" in html  # a translated message says the filter was dropped
