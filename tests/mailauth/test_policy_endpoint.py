"""The policy endpoint as Dovecot's HTTP client meets it: authentication, bad input, failure modes.

These drive the view with the test client (no Dovecot); tests/mailauth/test_dovecot.py drives it
through the real one.
"""

from __future__ import annotations

import json

import pytest

from accounts.models import User
from activity.models import LoginEvent
from security.mailauth import services
from tests.mailauth.conftest import SECRET

pytestmark = pytest.mark.django_db

URL = "/mailauth/policy"


@pytest.fixture(autouse=True)
def _configured(settings):
    settings.MAILADMIN_MAIL_POLICY_SECRET = SECRET
    settings.MAILADMIN_MAIL_POLICY_NETWORKS = ["127.0.0.1/32"]
    settings.ALERTS_DETECT_EAGER = False


def _attrs(login: str, **extra: object) -> dict[str, object]:
    return {"login": login, "pwhash": "abc", "remote": "198.51.100.7", "device_id": "",
            "protocol": "imap", "session_id": "s1", **extra}


def _post(client, command: str, body: bytes | dict, *, secret: str | None = SECRET,
          remote: str = "127.0.0.1"):
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    headers = {"HTTP_X_API_KEY": secret} if secret is not None else {}
    return client.post(f"{URL}?command={command}", data=data, content_type="application/json",
                       REMOTE_ADDR=remote, **headers)


def test_the_endpoint_refuses_a_caller_without_the_secret_or_from_elsewhere(client, two_tenants):
    member = two_tenants.a.member
    body = _attrs(member.email)
    assert _post(client, "allow", body, secret=None).status_code == 403
    assert _post(client, "allow", body, secret="wrong").status_code == 403
    outside = _post(client, "allow", body, remote="10.1.2.3")
    assert outside.status_code == 403 and outside.json()["status"] == -1
    # Forwarded headers do not make an outside caller inside.
    assert client.post(f"{URL}?command=allow", data=json.dumps(body), content_type="application/json",
                       REMOTE_ADDR="10.1.2.3", HTTP_X_FORWARDED_FOR="127.0.0.1",
                       HTTP_X_API_KEY=SECRET).status_code == 403
    assert client.get(f"{URL}?command=allow", REMOTE_ADDR="127.0.0.1", HTTP_X_API_KEY=SECRET).status_code == 405
    ok = _post(client, "allow", body)
    assert ok.status_code == 200 and ok.json() == {"status": 0, "msg": ""}
    assert LoginEvent.objects.count() == 0  # an allowed attempt is recorded by its report


def test_without_a_configured_secret_the_endpoint_does_not_exist(client, settings, two_tenants):
    settings.MAILADMIN_MAIL_POLICY_SECRET = ""
    assert _post(client, "allow", _attrs(two_tenants.a.member.email), secret="").status_code == 404


@pytest.mark.parametrize("body", [
    b"{not json", b"[1, 2]", b'"text"', b"", b"\xff\xfe",
    json.dumps({"login": 5, "protocol": "imap"}).encode(),
    json.dumps({"login": "a@b.example", "protocol": "gopher"}).encode(),
    json.dumps({"login": "a@b.example", "protocol": "imap", "success": "yes"}).encode(),
    b"[" * 5000 + b"]" * 5000,
    json.dumps({"login": "x" * 9000, "protocol": "imap"}).encode(),
])
def test_malformed_or_oversized_requests_are_refused_never_a_500(client, body):
    response = _post(client, "allow", body)
    assert response.status_code == 400
    assert response.json() == {"status": -1, "msg": "malformed request"}


def test_an_unknown_command_is_refused(client, two_tenants):
    assert _post(client, "drop", _attrs(two_tenants.a.member.email)).status_code == 400


def test_a_wrong_password_report_is_one_failure_and_an_unknown_account_is_recorded(client, two_tenants):
    member = two_tenants.a.member
    _post(client, "report", _attrs(member.email, success=False, policy_reject=False))
    _post(client, "report", _attrs("nobody@acme.example", success=False, policy_reject=False))
    _post(client, "report", _attrs("nobody@no-tenant.example", success=False, policy_reject=False))
    rows = list(LoginEvent.objects.order_by("id").values_list("attempted_login", "outcome", "reason", "protocol"))
    assert rows == [(member.email, "failure", "bad_credentials", "imap"),
                    ("nobody@acme.example", "failure", "unknown_account", "imap")]


def test_invalid_utf8_in_the_username_is_refused_and_recorded_escaped(client, two_tenants):
    body = b'{"login": "\xff\xfeboss@acme.example", "protocol": "pop3", "remote": "198.51.100.7"}'
    response = _post(client, "allow", body)
    assert response.json()["status"] == -1
    event = LoginEvent.objects.get()
    assert (event.outcome, event.reason, event.protocol, event.user) == ("failure", "unknown_account", "pop3", None)
    assert event.attempted_login.endswith("boss@acme.example") and "\xff" not in event.attempted_login
    # Its report (policy_reject) is not a second row.
    _post(client, "report", body[:-1] + b', "success": false, "policy_reject": true}')
    assert LoginEvent.objects.count() == 1


def test_control_characters_in_the_imap_id_are_recorded_escaped(client, two_tenants):
    member = two_tenants.a.member
    client_id = '"name" "Evil\\u0007\\u202eClient" "version" "1\\n2"'
    body = json.dumps(_attrs(member.email, device_id=client_id.encode().decode("unicode_escape"),
                             success=True, policy_reject=False))
    assert _post(client, "report", body.encode()).json()["status"] == 0
    event = LoginEvent.objects.get()
    for value in (event.user_agent, event.browser_family, event.browser_version):
        assert value.isprintable(), value
        assert "\u202e" not in value
    assert event.browser_family.startswith("Evil")


def test_a_suspended_person_is_refused_before_the_password_and_recorded_once(client, two_tenants):
    member = two_tenants.a.member
    User.objects.filter(pk=member.pk).update(status=User.Status.OFFBOARDED)
    assert _post(client, "allow", _attrs(member.email)).json()["status"] == -1
    _post(client, "report", _attrs(member.email, success=False, policy_reject=True))
    assert list(LoginEvent.objects.values_list("outcome", "reason")) == [("failure", "account_offboarded")]


@pytest.mark.parametrize(("fail_open", "status"), [(False, -1), (True, 0)])
def test_an_error_while_deciding_fails_closed_or_open_as_configured(
        client, settings, monkeypatch, two_tenants, fail_open, status):
    settings.MAILADMIN_MAIL_POLICY_FAIL_OPEN = fail_open

    def broken(**kwargs: object) -> None:
        raise RuntimeError("database away")

    monkeypatch.setattr(services, "_refusal", broken)
    response = _post(client, "allow", _attrs(two_tenants.a.member.email))
    assert response.status_code == 200 and response.json()["status"] == status


def test_a_secured_account_is_refused_until_its_password_is_changed(client, two_tenants):
    member = two_tenants.a.member
    User.objects.filter(pk=member.pk).update(must_change_password=True)
    assert _post(client, "allow", _attrs(member.email)).json()["status"] == -1
    assert list(LoginEvent.objects.values_list("outcome", "reason")) == [("failure", "account_secured")]


def test_a_person_left_on_a_domain_moved_to_another_tenant_is_refused_as_unknown(client, two_tenants):
    from tenants.models import MailDomain

    member = two_tenants.a.member
    assert _post(client, "allow", _attrs(member.email)).json()["status"] == 0  # on their own domain
    domain = MailDomain.objects.get(domain="acme.example")
    domain.tenant = two_tenants.b.tenant  # an operator moved it (a save: the policy caches see it)
    domain.save()
    response = _post(client, "allow", _attrs(member.email))
    assert response.json()["status"] == -1
    _post(client, "report", _attrs(member.email, success=False, policy_reject=True))
    # Recorded once, in the person's own tenant's log, as an account the mail domain does not
    # know, not as a wrong password (it counts toward no lockout).
    rows = list(LoginEvent.objects.values_list("tenant_id", "user_id", "outcome", "reason"))
    assert rows == [(two_tenants.a.tenant.pk, member.pk, "failure", "unknown_account")]
    # The domain's new tenant's own people are not affected.
    assert _post(client, "allow", _attrs(two_tenants.b.member.email)).json()["status"] == 0
