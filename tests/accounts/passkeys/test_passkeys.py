"""Passkeys: enrolment on /me/mfa/, the sign-in's second step, removal, reset and the record."""

from __future__ import annotations

import re

import pytest
from axes.models import AccessAttempt
from django.core import mail
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.test import Client
from django_otp_webauthn.models import WebAuthnCredential

from accounts.mfa import passkeys, services
from accounts.mfa.models import BackupCode
from accounts.models import User
from activity.models import AuditLogEntry, LoginEvent
from security.policies.mfa.models import MfaPolicy
from tests.accounts.passkeys.authenticator import SoftAuthenticator
from tests.accounts.passkeys.support import (
    confirmed_client,
    enrol_passkey,
    register,
    soft_authenticator,
)
from tests.accounts.test_mfa_support import enroll, new_session
from tests.factories import PASSWORD
from tests.security.signin_support import post_signin

pytestmark = pytest.mark.django_db


def _last_event(user: User) -> LoginEvent:
    return LoginEvent.objects.for_tenant(user.tenant).filter(user=user).order_by("-id").first()


def _pending(user: User) -> Client:
    """A client whose password was accepted and who now faces the second step."""
    client = Client()
    response = post_signin(client, user.email, PASSWORD)
    assert response["Location"] == "/signin/mfa/", response
    return client


# --- Enrolment -------------------------------------------------------------------------------


def test_a_named_passkey_is_listed_and_the_first_one_shows_backup_codes_once(two_tenants,
                                                                           django_capture_on_commit_callbacks):
    user = two_tenants.a.member
    client = confirmed_client(user)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = register(client, soft_authenticator(), name="  Work   laptop ")
    assert response.status_code == 200
    assert response.json()["redirect_url"] == "/me/mfa/enrolled/"
    device = WebAuthnCredential.objects.get(user=user)
    assert device.name == "Work laptop" and device.confirmed
    assert services.mfa_user_has_device(user=user)

    # The confirmation page shows ten backup codes, once; they work.
    page = client.get("/me/mfa/enrolled/").content.decode()
    codes = re.findall(r"<li><code>([^<]+)</code></li>", page)
    assert len(codes) == 10 and BackupCode.objects.filter(device__user=user).count() == 10
    again = client.get("/me/mfa/enrolled/")
    assert again.status_code == 302 and again["Location"] == "/me/mfa/"
    assert services.mfa_verify(user=user, code=codes[0]) == "backup_code"

    manage = client.get("/me/mfa/").content.decode()
    assert 'data-testid="mfa-passkeys"' in manage and "Work laptop" in manage
    # The person is told, and the audit trail says who added what.
    assert [m.subject for m in mail.outbox] == ["A passkey was added to your account"]
    entry = AuditLogEntry.objects.filter(object_pk=str(user.pk)).order_by("-id").first()
    assert "passkey added: Work laptop" in str(entry.changes)


def test_a_second_device_keeps_the_backup_codes_and_shows_none(two_tenants):
    user = two_tenants.a.member
    client = confirmed_client(user)
    enroll(user)  # an authenticator app first: its enrolment made the codes
    before = set(BackupCode.objects.filter(device__user=user).values_list("code_hash", flat=True))
    assert len(before) == 10
    response = register(client, soft_authenticator(), name="Key")
    assert response.json()["redirect_url"] == "/me/mfa/"
    assert set(BackupCode.objects.filter(device__user=user).values_list("code_hash", flat=True)) == before


def test_registration_needs_a_recent_confirmation(two_tenants):
    user = two_tenants.a.member
    client = Client()
    client.post("/signin/", {"email": user.email, "password": PASSWORD})
    page = client.get("/me/mfa/passkeys/add/")
    assert page.status_code == 302 and page["Location"].startswith("/me/mfa/confirm/")
    begin = client.post("/me/mfa/passkeys/register/begin/")
    assert begin.status_code == 403 and begin.json()["code"] == "recent_auth_required"
    assert not WebAuthnCredential.objects.exists()


def test_a_forged_or_replayed_registration_saves_nothing(two_tenants):
    user = two_tenants.a.member
    client = confirmed_client(user)
    auth = soft_authenticator()
    client.post("/me/mfa/passkeys/add/", {"name": "Laptop"})
    options = client.post("/me/mfa/passkeys/register/begin/").json()
    # Another site's origin: refused with a translated message, nothing saved.
    wrong = client.post("/me/mfa/passkeys/register/complete/",
                        auth.create(options, origin="https://evil.example"),
                        content_type="application/json")
    assert wrong.status_code == 400 and "could not be added" in wrong.json()["detail"]
    # The challenge was spent by that attempt: the right answer to it is refused too.
    replay = client.post("/me/mfa/passkeys/register/complete/", auth.create(options),
                         content_type="application/json")
    assert replay.status_code == 400
    garbage = client.post("/me/mfa/passkeys/register/complete/", "not json",
                          content_type="application/json")
    assert garbage.status_code == 400
    assert not WebAuthnCredential.objects.exists() and not BackupCode.objects.exists()


def test_an_operator_cannot_enrol(db):
    operator = User.objects.create_superuser("root@ops.example", "Operator-password-123")
    session_request = type("R", (), {"session": new_session()})()
    with pytest.raises(ValidationError):
        passkeys.passkey_registration_begin(request=session_request, user=operator, name="x")  # type: ignore[arg-type]


# --- Sign-in with a passkey -------------------------------------------------------------------


def test_password_then_passkey_signs_in_and_records_passkey(two_tenants):
    user = two_tenants.a.member
    auth = enrol_passkey(user)
    client = _pending(user)
    page = client.get("/signin/mfa/").content.decode()
    assert 'id="passkey-verification-button"' in page and "Use a passkey" in page
    assert "/signin/mfa/passkey/begin/" in page and "otp_webauthn_auth.js" in page

    options = client.post("/signin/mfa/passkey/begin/").json()
    assert [c["id"] for c in options["allowCredentials"]] == [auth.create({"challenge": ""})["id"]]
    response = client.post("/signin/mfa/passkey/complete/", auth.get(options),
                           content_type="application/json")
    assert response.status_code == 200, response.content
    assert response.json()["redirect_url"] == "/"
    assert "mailadmin_device" in response.cookies  # the device cookie, as after a code
    event = _last_event(user)
    assert (event.outcome, event.reason, event.mfa_method) == ("success", "mfa_verified", "passkey")
    assert event.get_mfa_method_display() == "Passkey"
    assert client.get("/me/").status_code == 200
    assert WebAuthnCredential.objects.get(user=user).last_used_at is not None


def test_a_wrong_or_replayed_assertion_is_a_failed_second_factor(two_tenants):
    user = two_tenants.a.member
    auth = enrol_passkey(user)
    client = _pending(user)
    # A different key under the same credential id: a bad signature.
    impostor = SoftAuthenticator(rp_id=auth.rp_id, origin=auth.origin, credential_id=auth.credential_id)
    options = client.post("/signin/mfa/passkey/begin/").json()
    bad = client.post("/signin/mfa/passkey/complete/", impostor.get(options),
                      content_type="application/json")
    assert bad.status_code == 400 and "not accepted" in bad.json()["detail"]
    event = _last_event(user)
    assert (event.outcome, event.reason, event.mfa_method) == ("failure", "mfa_failed", "")
    assert AccessAttempt.objects.get(username=user.email).failures_since_start == 1

    # A good assertion captured once is no use twice, and not without a fresh challenge.
    options = client.post("/signin/mfa/passkey/begin/").json()
    good = auth.get(options)
    other = _pending(user)
    assert other.post("/signin/mfa/passkey/complete/", good,
                      content_type="application/json").status_code == 400  # not its challenge
    assert client.post("/signin/mfa/passkey/complete/", good,
                       content_type="application/json").status_code == 200
    assert client.post("/signin/mfa/passkey/complete/", good,
                       content_type="application/json").status_code != 200
    assert LoginEvent.objects.filter(user=user, outcome="success", mfa_method="passkey").count() == 1


def test_another_persons_passkey_does_not_open_this_account(two_tenants):
    alice, bob = two_tenants.a.member, two_tenants.a.admin
    enrol_passkey(alice)
    bobs = enrol_passkey(bob)
    client = _pending(alice)
    options = client.post("/signin/mfa/passkey/begin/").json()
    response = client.post("/signin/mfa/passkey/complete/", bobs.get(options),
                           content_type="application/json")
    assert response.status_code == 400
    assert _last_event(alice).reason == "mfa_failed"
    assert client.get("/me/").status_code == 302


def test_no_challenge_without_a_pending_sign_in_or_a_passkey(two_tenants):
    assert Client().post("/signin/mfa/passkey/begin/").status_code == 403
    user = two_tenants.a.member
    enroll(user)  # an authenticator app only
    client = _pending(user)
    assert "passkey-verification-button" not in client.get("/signin/mfa/").content.decode()
    assert client.post("/signin/mfa/passkey/begin/").status_code == 403


def test_a_locked_account_is_refused_before_the_passkey(two_tenants):
    user = two_tenants.a.member
    auth = enrol_passkey(user)
    client = _pending(user)
    impostor = SoftAuthenticator(rp_id=auth.rp_id, origin=auth.origin, credential_id=auth.credential_id)
    for _ in range(5):  # the default lockout policy: 5 failures
        options = client.post("/signin/mfa/passkey/begin/").json()
        client.post("/signin/mfa/passkey/complete/", impostor.get(options), content_type="application/json")
    # Locked now: even the right passkey does not get in, and the pending sign-in is over.
    options = client.post("/signin/mfa/passkey/begin/").json()
    response = client.post("/signin/mfa/passkey/complete/", auth.get(options),
                           content_type="application/json")
    assert response.status_code == 403 and response.json()["redirect_url"] == "/signin/"
    assert _last_event(user).reason == "locked_out"
    assert LoginEvent.objects.filter(user=user, reason="mfa_failed").count() == 5
    assert client.post("/signin/mfa/passkey/begin/").status_code == 403
    assert client.get("/me/").status_code == 302


# --- Removal, reset, the policy, the sign-in's device check ------------------------------------


def test_the_last_device_stays_while_the_policy_requires_two_step(two_tenants):
    user = two_tenants.a.member
    auth = enrol_passkey(user)
    device = WebAuthnCredential.objects.get(user=user)
    MfaPolicy.objects.create(tenant=user.tenant, requirement="required_all", grace_days=0)
    client = confirmed_client_with_passkey(user, auth)
    response = client.post(f"/me/mfa/passkeys/{device.pk}/remove/", follow=True)
    assert "cannot be removed" in response.content.decode()
    assert WebAuthnCredential.objects.filter(pk=device.pk).exists()
    with pytest.raises(ValidationError) as exc:
        passkeys.passkey_remove(user=user, device_id=device.pk, mfa_required=True)
    assert exc.value.code == "last_device"
    # With an authenticator app beside it, the passkey may go.
    totp, _secret = enroll(user)
    passkeys.passkey_remove(user=user, device_id=device.pk, mfa_required=True)
    with pytest.raises(ValidationError):
        services.mfa_device_remove(user=user, device_id=totp.pk, mfa_required=True)


def confirmed_client_with_passkey(user: User, auth: SoftAuthenticator) -> Client:
    """Signed in with password and passkey, then confirmed with the password a moment ago."""
    client = _pending(user)
    options = client.post("/signin/mfa/passkey/begin/").json()
    assert client.post("/signin/mfa/passkey/complete/", auth.get(options),
                       content_type="application/json").status_code == 200
    assert client.post("/me/mfa/confirm/", {"secret": PASSWORD}).status_code == 302
    return client


def test_removing_the_last_passkey_removes_the_backup_codes(two_tenants):
    user = two_tenants.a.member
    enrol_passkey(user)
    device = WebAuthnCredential.objects.get(user=user)
    with pytest.raises(WebAuthnCredential.DoesNotExist):  # another person's passkey is missing
        passkeys.passkey_remove(user=two_tenants.a.admin, device_id=device.pk)
    with pytest.raises(WebAuthnCredential.DoesNotExist):  # and another tenant's
        passkeys.passkey_remove(user=two_tenants.b.member, device_id=device.pk)
    passkeys.passkey_remove(user=user, device_id=device.pk)
    assert not BackupCode.objects.filter(device__user=user).exists()
    assert not services.mfa_user_has_device(user=user)


def test_passkeys_count_as_a_device_everywhere_and_reset_removes_them(two_tenants):
    user = two_tenants.a.member
    enrol_passkey(user)
    assert services.mfa_user_has_device(user=user) and services.mfa_device_count(user=user) == 1
    annotated = User.objects.annotate(has=services.mfa_device_exists())
    assert annotated.get(pk=user.pk).has and not annotated.get(pk=two_tenants.a.admin.pk).has
    assert services.mfa_enrolled_count(tenant=user.tenant) == 1
    assert services.mfa_enrolled_count(tenant=two_tenants.b.tenant) == 0
    removed = services.mfa_devices_reset(person=user)
    assert removed == 2  # the passkey and the backup-code set
    assert not WebAuthnCredential.objects.filter(user=user).exists()
    assert not services.mfa_user_has_device(user=user)


def test_a_required_policy_accepts_a_passkey_as_the_second_factor(two_tenants):
    user = two_tenants.a.member
    MfaPolicy.objects.create(tenant=user.tenant, requirement="required_all", grace_days=0)
    # Without a device the sign-in goes to enrolment; with a passkey it asks for it.
    assert post_signin(Client(), user.email, PASSWORD)["Location"] == "/signin/mfa/enroll/"
    WebAuthnCredential.objects.create(user=user, name="Key", confirmed=True, credential_id=b"x",
                                      public_key=b"y", credential_id_sha256="0" * 64)
    assert post_signin(Client(), user.email, PASSWORD)["Location"] == "/signin/mfa/"


# --- First enrolment's backup codes (authenticator app) -----------------------------------------


def test_the_first_authenticator_app_comes_with_backup_codes_shown_once(two_tenants):
    user = two_tenants.a.member
    session = new_session()
    enrollment = services.totp_enrollment_begin(session=session, user=user)
    from tests.accounts.test_mfa_support import code_for, secret_of

    services.totp_enrollment_confirm(session=session, user=user, step_token=enrollment.step_token,
                                     code=code_for(secret_of(enrollment)), name="Phone")
    assert BackupCode.objects.filter(device__user=user).count() == 10
    assert services.backup_codes_once_pending(session=session, user=user)
    assert not services.backup_codes_once_pending(session=session, user=two_tenants.a.admin)
    codes = services.backup_codes_once_pop(session=session, user=user)
    assert codes is not None and len(codes) == 10
    assert services.backup_codes_once_pop(session=session, user=user) is None
    # Only ciphertext waited in the session.
    assert services.mfa_verify(user=user, code=codes[3]) == "backup_code"


def test_the_totp_page_goes_to_the_backup_codes_after_the_first_app(two_tenants):
    from tests.security.signin_support import totp_from_page

    user = two_tenants.a.member
    client = confirmed_client(user)
    page = client.get("/me/mfa/totp/").content.decode()
    step = re.search(r'name="step" value="([^"]+)"', page).group(1)
    response = client.post("/me/mfa/totp/", {"name": "Phone", "code": totp_from_page(page).now(),
                                            "step": step})
    assert response["Location"] == "/me/mfa/enrolled/"
    assert client.get("/me/mfa/enrolled/").content.decode().count("<code>") == 10


# --- The record -------------------------------------------------------------------------------


def test_every_partition_of_the_record_accepts_passkey_and_nothing_unknown(two_tenants):
    user = two_tenants.a.member
    with connection.cursor() as cursor:
        cursor.execute("SELECT c.conrelid::regclass::text, pg_get_constraintdef(c.oid) FROM pg_constraint c "
                       "WHERE c.conname = 'login_mfa_known'")
        rows = cursor.fetchall()
    assert len(rows) >= 2  # the parent and its day partitions
    assert all("'passkey'" in definition for _table, definition in rows), rows
    event = _event(user, "passkey")
    assert LoginEvent.objects.get(pk=event.pk).mfa_method == "passkey"
    with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {LoginEvent._meta.db_table} SET mfa_method = 'sms' WHERE id = %s",  # noqa: S608
            [event.pk])


def _event(user: User, method: str) -> LoginEvent:
    from activity.capture import ClientInfo
    from activity.services import login_event_record

    login_event_record(tenant=user.tenant, user=user, attempted_login=user.email,
                       client=ClientInfo(ip="8.8.8.8", country="US", user_agent="Mozilla/5.0",
                                         browser_family="Other", browser_version="", os_family="Other",
                                         os_version="", device_type="other"),
                       outcome="success", reason="mfa_verified",
                       mfa_method=method, session_key=None)
    return LoginEvent.objects.filter(user=user).order_by("-id").first()
