"""rotate_field_keys: everything ends up under the newest key, idempotently."""

from __future__ import annotations

from io import StringIO

import pytest
from cryptography.fernet import Fernet, InvalidToken
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import override_settings

from accounts.fields import FieldDecryptionError
from accounts.mfa import services
from accounts.mfa.models import EncryptedTOTPDevice
from tests.accounts.test_mfa_support import enroll, hex_of

pytestmark = pytest.mark.django_db

OLD = Fernet.generate_key().decode()
NEW = Fernet.generate_key().decode()


def _raw(pk: int) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT key FROM accounts_encryptedtotpdevice WHERE id = %s", [pk])
        return cursor.fetchone()[0]


def _rotate() -> str:
    out = StringIO()
    call_command("rotate_field_keys", "--no-progress", "--batch-size", "2", stdout=out, stderr=StringIO())
    return out.getvalue()


def test_rotation_with_two_keys(two_tenants):
    with override_settings(FIELD_ENCRYPTION_KEYS=[OLD]):
        devices = [enroll(user) for user in (two_tenants.a.member, two_tenants.a.admin,
                                              two_tenants.b.member)]
    with override_settings(FIELD_ENCRYPTION_KEYS=[NEW, OLD]):
        # Both keys decrypt; new writes use the new key.
        assert EncryptedTOTPDevice.objects.get(pk=devices[0][0].pk).key == hex_of(devices[0][1])
        output = _rotate()
        assert "accounts.EncryptedTOTPDevice: 3 re-encrypted, 0 already current" in output
        again = _rotate()
        assert "accounts.EncryptedTOTPDevice: 0 re-encrypted, 3 already current" in again
    with override_settings(FIELD_ENCRYPTION_KEYS=[NEW]):
        for device, secret in devices:
            assert EncryptedTOTPDevice.objects.get(pk=device.pk).key == hex_of(secret)
            with pytest.raises(InvalidToken):
                Fernet(OLD.encode()).decrypt(_raw(device.pk).encode())
            assert services.mfa_user_has_device(user=device.user)


def test_a_value_no_key_can_read_is_reported(two_tenants):
    with override_settings(FIELD_ENCRYPTION_KEYS=[OLD]):
        device, _ = enroll(two_tenants.a.member)
    with override_settings(FIELD_ENCRYPTION_KEYS=[NEW]):
        with pytest.raises(FieldDecryptionError):
            EncryptedTOTPDevice.objects.get(pk=device.pk)
        # The device's key, and the body of the "authenticator added" e-mail in the outbox.
        with pytest.raises(CommandError, match="2 value"):
            _rotate()


def test_encrypted_fields_cannot_be_searched(two_tenants):
    from django.core.exceptions import FieldError

    with pytest.raises(FieldError):
        list(EncryptedTOTPDevice.objects.filter(key="00"))
    assert list(EncryptedTOTPDevice.objects.filter(key__isnull=True)) == []


def test_progress_bar_goes_to_stderr(two_tenants):
    with override_settings(FIELD_ENCRYPTION_KEYS=[OLD]):
        enroll(two_tenants.a.member)
    with override_settings(FIELD_ENCRYPTION_KEYS=[NEW, OLD]):
        out, err = StringIO(), StringIO()
        call_command("rotate_field_keys", stdout=out, stderr=err)
    assert "1 re-encrypted" in out.getvalue()
    assert "accounts.EncryptedTOTPDevice" in err.getvalue() and "1/1" in err.getvalue()
