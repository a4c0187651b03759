"""The /me/mfa/ pages: recent confirmation, enrolment, backup codes, removal, isolation."""

from __future__ import annotations

import re
import time

import pytest
import time_machine
from axes.models import AccessAttempt
from django.core import mail

from accounts.mfa import services
from accounts.mfa.models import BackupCode, EncryptedTOTPDevice
from tests.accounts.test_mfa_support import code_for, enroll
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db


def _confirm(client, secret: str = PASSWORD, next_url: str = "/me/mfa/"):
    return client.post(f"/me/mfa/confirm/?next={next_url}", {"secret": secret})


def _page_secret(body: str) -> str:
    match = re.search(r'data-testid="totp-key">([A-Z2-7 ]+)<', body)
    assert match, body[:2000]
    return match.group(1).replace(" ", "")


def _step(body: str) -> str:
    return re.search(r'name="step" value="([^"]+)"', body).group(1)


# Devices are enrolled after signing in: once the pipeline challenges people who have a device,
# a password alone no longer completes ``signed_in``.


def test_manage_page_lists_own_devices_only(two_tenants, signed_in):
    client = signed_in(two_tenants.a.member)
    enroll(two_tenants.a.member, name="Acme phone")
    enroll(two_tenants.b.member, name="Globex phone")
    body = client.get("/me/mfa/").content.decode()
    assert "Acme phone" in body and "Globex phone" not in body
    assert 'data-testid="mfa-devices"' in body


def test_manage_page_needs_sign_in(client):
    response = client.get("/me/mfa/")
    assert response.status_code == 302 and response["Location"].startswith("/signin/")


def test_enrolment_needs_a_recent_confirmation(two_tenants, signed_in):
    client = signed_in(two_tenants.a.member)
    response = client.get("/me/mfa/totp/")
    assert response.status_code == 302
    assert response["Location"] == "/me/mfa/confirm/?next=%2Fme%2Fmfa%2Ftotp%2F"
    # A wrong password is refused and counts toward the lockout.
    response = _confirm(client, "not-my-password", "/me/mfa/totp/")
    assert response.status_code == 200 and "not correct" in response.content.decode()
    assert AccessAttempt.objects.filter(username="member@acme.example").exists()
    response = _confirm(client, PASSWORD, "/me/mfa/totp/")
    assert response.status_code == 302 and response["Location"] == "/me/mfa/totp/"
    assert client.get("/me/mfa/totp/").status_code == 200
    with time_machine.travel(time.time() + services.RECENT_AUTH_SECONDS + 1):
        assert client.get("/me/mfa/totp/").status_code == 302


def test_confirm_ignores_an_offsite_next(two_tenants, signed_in):
    client = signed_in(two_tenants.a.member)
    response = _confirm(client, PASSWORD, "https://evil.example/")
    assert response["Location"] == "/me/mfa/"


def test_enrol_with_the_key_from_the_page(two_tenants, signed_in):
    user = two_tenants.a.member
    client = signed_in(user)
    _confirm(client)
    response = client.get("/me/mfa/totp/")
    body = response.content.decode()
    # Inline QR code, no external image, no inline style or script (strict CSP).
    assert "<svg" in body and "<img" not in body
    assert "style=" not in body
    # The only scripts are the console's own files (htmx, console.js), none inline.
    assert re.search(r"<script(?![^>]*\bsrc=\"/static/)", body) is None
    secret = _page_secret(body)
    mail.outbox.clear()
    response = client.post("/me/mfa/totp/", {"name": "Work phone", "code": code_for(secret),
                                              "step": _step(body)})
    # The first device comes with backup codes: the confirmation page shows them, once.
    assert response.status_code == 302 and response["Location"] == "/me/mfa/enrolled/"
    device = EncryptedTOTPDevice.objects.get(user=user)
    assert device.name == "Work phone" and device.tenant == two_tenants.a.tenant
    assert [m.to for m in mail.outbox] == [[user.email]]
    response = client.get("/me/mfa/enrolled/")
    codes = re.findall(r"<li><code>([a-z0-9]{5}-[a-z0-9]{5})</code></li>", response.content.decode())
    assert len(codes) == 10
    assert response["Cache-Control"].startswith("max-age=0") or "no-store" in response["Cache-Control"]
    assert BackupCode.objects.filter(device__user=user).count() == 10
    assert client.get("/me/mfa/enrolled/")["Location"] == "/me/mfa/"  # not shown twice
    assert "10 unused backup codes" in client.get("/me/mfa/").content.decode()


@pytest.mark.parametrize("bad", ["12345", "1234567", "abcdef", "12345x", "x" * 100])
def test_enrol_refuses_bad_codes_with_a_clear_message(two_tenants, signed_in, bad):
    client = signed_in(two_tenants.a.member)
    _confirm(client)
    body = client.get("/me/mfa/totp/").content.decode()
    response = client.post("/me/mfa/totp/", {"code": bad, "step": _step(body)})
    assert response.status_code == 200
    assert "Enter the 6-digit code" in response.content.decode()
    assert not EncryptedTOTPDevice.objects.exists()


def test_enrol_refuses_a_tampered_step(two_tenants, signed_in):
    client = signed_in(two_tenants.a.member)
    _confirm(client)
    body = client.get("/me/mfa/totp/").content.decode()
    secret = _page_secret(body)
    response = client.post("/me/mfa/totp/", {"code": code_for(secret), "step": "forged"})
    text = response.content.decode()
    assert response.status_code == 200 and "not valid any more" in text
    assert not EncryptedTOTPDevice.objects.exists()
    # The same key is offered again with the genuine step.
    assert _page_secret(text) == secret and _step(text) == _step(body)
    response = client.post("/me/mfa/totp/", {"code": code_for(secret), "step": ""})
    assert response.status_code == 200 and "not valid any more" in response.content.decode()
    assert not EncryptedTOTPDevice.objects.exists()


def test_enrol_refuses_an_expired_step_and_offers_a_new_key(two_tenants, signed_in):
    client = signed_in(two_tenants.a.member)
    _confirm(client)
    body = client.get("/me/mfa/totp/").content.decode()
    secret = _page_secret(body)
    with time_machine.travel(time.time() + services.ENROLLMENT_TTL_SECONDS + 5):
        _confirm(client)
        response = client.post("/me/mfa/totp/", {"code": code_for(secret), "step": _step(body)})
    text = response.content.decode()
    assert response.status_code == 200 and "has expired" in text
    assert _page_secret(text) != secret
    assert not EncryptedTOTPDevice.objects.exists()


def test_remove_needs_recent_confirmation_and_is_scoped(two_tenants, signed_in):
    client = signed_in(two_tenants.a.member)
    device, _ = enroll(two_tenants.a.member)
    other, _ = enroll(two_tenants.b.member)
    colleague, _ = enroll(two_tenants.a.admin)
    response = client.post(f"/me/mfa/devices/{device.pk}/remove/")
    assert response.status_code == 302 and response["Location"].startswith("/me/mfa/confirm/")
    assert EncryptedTOTPDevice.objects.filter(pk=device.pk).exists()
    _confirm(client)
    assert client.get(f"/me/mfa/devices/{device.pk}/remove/").status_code == 405
    assert client.post(f"/me/mfa/devices/{other.pk}/remove/").status_code == 404
    assert client.post(f"/me/mfa/devices/{colleague.pk}/remove/").status_code == 404
    mail.outbox.clear()
    response = client.post(f"/me/mfa/devices/{device.pk}/remove/")
    assert response.status_code == 302 and response["Location"] == "/me/mfa/"
    assert not EncryptedTOTPDevice.objects.filter(pk=device.pk).exists()
    assert EncryptedTOTPDevice.objects.filter(pk__in=[other.pk, colleague.pk]).count() == 2
    assert [m.to for m in mail.outbox] == [[two_tenants.a.member.email]]


def test_regenerate_backup_codes_needs_recent_confirmation(two_tenants, signed_in):
    client = signed_in(two_tenants.a.member)
    enroll(two_tenants.a.member)  # the first device's own backup codes
    before = set(BackupCode.objects.values_list("code_hash", flat=True))
    assert len(before) == 10
    assert client.get("/me/mfa/backup-codes/").status_code == 200
    response = client.post("/me/mfa/backup-codes/")
    assert response.status_code == 302 and response["Location"].startswith("/me/mfa/confirm/")
    assert set(BackupCode.objects.values_list("code_hash", flat=True)) == before  # unchanged


def test_confirm_with_an_authenticator_code(two_tenants, signed_in):
    user = two_tenants.a.member
    with time_machine.travel(time.time(), tick=False) as traveller:
        client = signed_in(user)
        _device, secret = enroll(user)
        traveller.shift(30)
        response = _confirm(client, code_for(secret))
        assert response.status_code == 302
        assert client.get("/me/mfa/totp/").status_code == 200


def test_confirmation_failures_lock_out(two_tenants, signed_in):
    from security.policies.lockout.selectors import lockout_policy_get

    client = signed_in(two_tenants.a.member)
    for _ in range(lockout_policy_get(tenant=two_tenants.a.tenant).failure_limit):
        _confirm(client, "wrong-password")
    response = _confirm(client, PASSWORD)
    assert response.status_code == 200 and "Too many failed attempts" in response.content.decode()
    assert not services.mfa_recent_auth_ok(response.wsgi_request)


def test_enrol_flow_works_for_a_pre_mfa_session(two_tenants, rf):
    """The sign-in pipeline's enrol page: anonymous request, user passed explicitly."""
    from django.contrib.auth.models import AnonymousUser
    from django.template.loader import render_to_string

    from accounts.mfa.flows import totp_enroll_step
    from tests.accounts.test_mfa_support import new_session

    user = two_tenants.a.member
    session = new_session()
    request = rf.get("/signin/mfa/enroll/")
    request.user, request.session = AnonymousUser(), session
    step = totp_enroll_step(request=request, user=user)
    html = render_to_string("accounts/mfa/_enroll_form.html", step.context, request=request)
    secret = _page_secret(html)
    request = rf.post("/signin/mfa/enroll/", {"code": code_for(secret), "step": _step(html)})
    request.user, request.session = AnonymousUser(), session
    step = totp_enroll_step(request=request, user=user)
    assert step.device is not None and step.device.user == user
    assert services.mfa_user_has_device(user=user)
