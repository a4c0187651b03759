"""MFA services: enrolment, one-time codes, backup codes, removal and the helpdesk reset."""

from __future__ import annotations

import time

import pytest
import time_machine
from django.core import mail
from django.core.exceptions import ValidationError
from django.db import connection

from accounts.fields import decrypt_bytes
from accounts.mfa import services
from accounts.mfa.models import BackupCode, BackupCodeDevice, EncryptedTOTPDevice
from tests.accounts.test_mfa_support import code_for, enroll, hex_of, new_session, secret_of

pytestmark = pytest.mark.django_db

# Digits int() would accept but an authenticator never shows.
FULLWIDTH = "".join(chr(0xFF10 + d) for d in (1, 2, 3, 4, 5, 6))
ARABIC_INDIC = "".join(chr(0x0660 + d) for d in (1, 2, 3, 4, 5, 6))


def test_enrollment_stores_an_encrypted_key_and_accepts_a_pyotp_code(two_tenants):
    user = two_tenants.a.member
    session = new_session()
    enrollment = services.totp_enrollment_begin(session=session, user=user)
    assert enrollment.otpauth_uri.startswith("otpauth://totp/mailadmin%3Amember%40acme.example?")
    assert "issuer=mailadmin" in enrollment.otpauth_uri
    assert enrollment.qr_svg.startswith("<svg") and "style=" not in enrollment.qr_svg
    assert "http" not in enrollment.qr_svg.replace("http://www.w3.org", "")
    secret = secret_of(enrollment)
    # The pending key is in the session only as ciphertext.
    blob = session[services.ENROLLMENT_SESSION_KEY]
    assert secret not in blob and hex_of(secret) not in blob
    device = services.totp_enrollment_confirm(session=session, user=user,
                                              step_token=enrollment.step_token,
                                              code=" " + code_for(secret)[:3] + " " + code_for(secret)[3:],
                                              name="Work phone")
    assert device.tenant == two_tenants.a.tenant and device.user == user and device.confirmed
    assert services.ENROLLMENT_SESSION_KEY not in session
    assert services.mfa_user_has_device(user=user)
    assert not services.mfa_user_has_device(user=two_tenants.b.member)
    with connection.cursor() as cursor:
        cursor.execute("SELECT key FROM accounts_encryptedtotpdevice WHERE id = %s", [device.pk])
        stored = cursor.fetchone()[0]
    assert hex_of(secret) not in stored and secret not in stored
    assert decrypt_bytes(stored).decode() == hex_of(secret)


def test_reloading_the_page_shows_the_same_pending_key_until_restart(two_tenants):
    user, session = two_tenants.a.member, new_session()
    first = services.totp_enrollment_begin(session=session, user=user)
    again = services.totp_enrollment_begin(session=session, user=user)
    assert again.key_text == first.key_text and again.step_token == first.step_token
    fresh = services.totp_enrollment_begin(session=session, user=user, restart=True)
    assert fresh.key_text != first.key_text


@pytest.mark.parametrize("bad", ["12345", "1234567", "abcdef", "12 34 5x", FULLWIDTH, ARABIC_INDIC, "", "9" * 5000])
def test_enrollment_refuses_malformed_codes_and_stores_nothing(two_tenants, bad):
    user, session = two_tenants.a.member, new_session()
    enrollment = services.totp_enrollment_begin(session=session, user=user)
    with pytest.raises(ValidationError) as exc:
        services.totp_enrollment_confirm(session=session, user=user,
                                         step_token=enrollment.step_token, code=bad)
    assert exc.value.code == "code_format"
    assert "6-digit" in exc.value.messages[0]
    assert not EncryptedTOTPDevice.objects.exists()


def test_enrollment_refuses_a_wrong_code(two_tenants):
    user, session = two_tenants.a.member, new_session()
    enrollment = services.totp_enrollment_begin(session=session, user=user)
    wrong = f"{(int(code_for(secret_of(enrollment))) + 1) % 1_000_000:06d}"
    with pytest.raises(ValidationError) as exc:
        services.totp_enrollment_confirm(session=session, user=user,
                                         step_token=enrollment.step_token, code=wrong)
    assert exc.value.code == "code_incorrect"
    assert not EncryptedTOTPDevice.objects.exists()


def test_tampered_enrollment_step_is_refused(two_tenants):
    user, session = two_tenants.a.member, new_session()
    enrollment = services.totp_enrollment_begin(session=session, user=user)
    code = code_for(secret_of(enrollment))
    with pytest.raises(ValidationError) as exc:
        services.totp_enrollment_confirm(session=session, user=user,
                                         step_token=enrollment.step_token + "x", code=code)
    assert exc.value.code == "enrollment_invalid"
    # A tampered server-side blob (or another key) is refused the same way.
    blob = session[services.ENROLLMENT_SESSION_KEY]
    session[services.ENROLLMENT_SESSION_KEY] = blob[:-8] + ("A" * 8 if not blob.endswith("A" * 8) else "B" * 8)
    with pytest.raises(ValidationError) as exc:
        services.totp_enrollment_confirm(session=session, user=user,
                                         step_token=enrollment.step_token, code=code)
    assert exc.value.code == "enrollment_invalid"
    assert not EncryptedTOTPDevice.objects.exists()


def test_another_persons_pending_enrollment_is_refused(two_tenants):
    session = new_session()
    enrollment = services.totp_enrollment_begin(session=session, user=two_tenants.a.member)
    with pytest.raises(ValidationError) as exc:
        services.totp_enrollment_confirm(session=session, user=two_tenants.a.admin,
                                         step_token=enrollment.step_token,
                                         code=code_for(secret_of(enrollment)))
    assert exc.value.code == "enrollment_invalid"
    assert not EncryptedTOTPDevice.objects.exists()


def test_expired_enrollment_step_is_refused(two_tenants):
    user, session = two_tenants.a.member, new_session()
    with time_machine.travel(time.time(), tick=False) as traveller:
        enrollment = services.totp_enrollment_begin(session=session, user=user)
        traveller.shift(services.ENROLLMENT_TTL_SECONDS + 1)
        with pytest.raises(ValidationError) as exc:
            services.totp_enrollment_confirm(session=session, user=user,
                                             step_token=enrollment.step_token,
                                             code=code_for(secret_of(enrollment)))
    assert exc.value.code == "enrollment_expired"
    assert "expired" in exc.value.messages[0]
    assert not EncryptedTOTPDevice.objects.exists()
    assert services.ENROLLMENT_SESSION_KEY not in session


def test_same_code_twice_in_a_row_works_once(two_tenants):
    user = two_tenants.a.member
    with time_machine.travel(time.time(), tick=False) as traveller:
        _device, secret = enroll(user)
        # The enrolment code itself is spent.
        assert services.mfa_verify(user=user, code=code_for(secret)) is None
        traveller.shift(30)
        code = code_for(secret)
        assert services.mfa_verify(user=user, code=code) == "totp"
        assert services.mfa_verify(user=user, code=code) is None
        traveller.shift(30)
        assert services.mfa_verify(user=user, code=code_for(secret)) == "totp"


def test_replays_do_not_throttle_but_wrong_codes_do(two_tenants):
    user = two_tenants.a.member
    with time_machine.travel(time.time(), tick=False) as traveller:
        device, secret = enroll(user)
        for _ in range(3):
            assert services.mfa_verify(user=user, code=code_for(secret)) is None
        device.refresh_from_db()
        assert device.throttling_failure_count == 0
        wrong = f"{(int(code_for(secret, offset_steps=5)) + 1) % 1_000_000:06d}"
        assert services.mfa_verify(user=user, code=wrong) is None
        device.refresh_from_db()
        assert device.throttling_failure_count == 1
        allowed, _info = device.verify_is_allowed()
        assert not allowed  # throttled: even the right code is refused for now
        # After the delay the right code works.
        traveller.shift(30)
        assert services.mfa_verify(user=user, code=code_for(secret)) == "totp"


@pytest.mark.parametrize("bad", ["", "12345", "1234567", "abcdef", FULLWIDTH, "x" * 10_000, "12345\x00"])
def test_malformed_codes_are_refused_without_touching_devices(two_tenants, bad, django_assert_max_num_queries):
    user = two_tenants.a.member
    device, _secret = enroll(user)
    with django_assert_max_num_queries(0):
        assert services.mfa_verify(user=user, code=bad) is None
    device.refresh_from_db()
    assert device.throttling_failure_count == 0


def test_backup_codes_are_hashed_and_work_once(two_tenants):
    user = two_tenants.a.member
    with pytest.raises(ValidationError):
        services.backup_codes_regenerate(user=user)  # an authenticator first
    enroll(user)
    mail.outbox.clear()
    codes = services.backup_codes_regenerate(user=user)
    assert len(codes) == 10 and len(set(codes)) == 10
    assert all(len(code) == 11 and code[5] == "-" for code in codes)
    hashes = list(BackupCode.objects.values_list("code_hash", flat=True))
    assert len(hashes) == 10
    assert not any(code.replace("-", "") in h or code in h for code in codes for h in hashes)
    assert services.mfa_verify(user=user, code=codes[0].upper().replace("-", " ")) == "backup_code"
    assert services.mfa_verify(user=user, code=codes[0]) is None
    assert BackupCode.objects.count() == 9
    # Another person's code is not this person's.
    enroll(two_tenants.b.member)
    other = services.backup_codes_regenerate(user=two_tenants.b.member)
    assert services.mfa_verify(user=user, code=other[0]) is None
    # Regenerating replaces every previous code.
    fresh = services.backup_codes_regenerate(user=user)
    assert services.mfa_verify(user=user, code=codes[1]) is None
    # That wrong code throttles the device for a second (django-otp's back-off).
    assert services.mfa_verify(user=user, code=fresh[1]) is None
    with time_machine.travel(time.time() + 2):
        assert services.mfa_verify(user=user, code=fresh[1]) == "backup_code"


def test_removing_the_last_authenticator_removes_backup_codes(two_tenants):
    user = two_tenants.a.member
    first, _ = enroll(user, name="Phone")
    second, _ = enroll(user, name="Tablet")
    services.backup_codes_regenerate(user=user)
    services.mfa_device_remove(user=user, device_id=first.pk)
    assert BackupCodeDevice.objects.filter(user=user).exists()
    with pytest.raises(EncryptedTOTPDevice.DoesNotExist):
        services.mfa_device_remove(user=two_tenants.a.admin, device_id=second.pk)
    services.mfa_device_remove(user=user, device_id=second.pk)
    assert not BackupCodeDevice.objects.filter(user=user).exists()
    assert not services.mfa_user_has_device(user=user)


def test_changes_email_the_person(two_tenants, django_capture_on_commit_callbacks):
    user = two_tenants.a.member
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        device, _ = enroll(user)
        services.backup_codes_regenerate(user=user)
        services.mfa_device_remove(user=user, device_id=device.pk)
    subjects = [m.subject for m in mail.outbox]
    assert len(subjects) == 3 and all(m.to == [user.email] for m in mail.outbox)
    assert "added" in subjects[0] and "backup codes" in subjects[1] and "removed" in subjects[2]


def test_company_accounts_only(db):
    from accounts.models import User

    operator = User.objects.create_superuser("root@ops.example", "Operator-password-123")
    with pytest.raises(ValidationError):
        services.totp_enrollment_begin(session=new_session(), user=operator)
    assert services.mfa_verify(user=operator, code="123456") is None
    assert not services.mfa_user_has_device(user=operator)
