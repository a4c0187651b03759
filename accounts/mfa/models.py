"""MFA devices: a django-otp plugin whose TOTP keys are encrypted at rest, and backup codes.

Design: both device types are django-otp ``Device`` subclasses, so ``django_otp.verify_token``
(one transaction, the device row locked ``SELECT … FOR UPDATE``) is the only way a code is
accepted. That lock is what makes a code single-use under concurrent requests: the second
request waits for the first to commit, then sees the advanced ``last_t`` (TOTP) or the deleted
code row (backup codes).

- The TOTP key is stored as ``MultiFernet`` ciphertext (``accounts.fields``), never in clear.
- Backup codes are stored as salted PBKDF2 digests; the salt is per device (not per code) so a
  submitted code is hashed once and compared with every unused code in one query.
- Every row carries the tenant (selectors scope by it); the devices belong to the person.

Imported from ``accounts.models`` so Django registers them under the ``accounts`` app.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import time
from binascii import unhexlify

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django_otp.models import Device, DeviceManager, ThrottlingMixin, TimestampMixin
from django_otp.oath import TOTP

from accounts.fields import EncryptedTextField
from tenants.models import TenantOwned, TenantQuerySet

__all__ = ["BackupCode", "BackupCodeDevice", "EncryptedTOTPDevice"]

TOTP_DIGITS = 6
TOTP_KEY_BYTES = 20

# Crockford-like alphabet without 0/o, 1/l/i: nothing to misread off a printed sheet.
BACKUP_CODE_ALPHABET = "23456789abcdefghjkmnpqrstuvwxyz"
BACKUP_CODE_LENGTH = 10
BACKUP_CODE_COUNT = 10
# ~50 bits per code; PBKDF2 makes an offline search of a leaked table hopeless while one
# verification (one digest per attempt, see above) stays in the tens of milliseconds.
BACKUP_CODE_ITERATIONS = 100_000

_TOTP_RE = {n: re.compile(rf"[0-9]{{{n}}}") for n in (6, 8)}
_BACKUP_RE = re.compile(rf"[{BACKUP_CODE_ALPHABET}]{{{BACKUP_CODE_LENGTH}}}")
_SEPARATORS = re.compile(r"[\s\-]+")


def normalize_totp_code(value: object, *, digits: int = TOTP_DIGITS) -> str | None:
    """The code as ASCII digits of the right length, else None (spaces are forgiven).

    ``int()`` would accept full-width or Arabic-Indic digits and a shorter number; neither is a
    code the app showed, so both are refused before any cryptography or database work.
    """
    if not isinstance(value, str | int) or isinstance(value, bool):
        return None
    text = _SEPARATORS.sub("", str(value))
    pattern = _TOTP_RE.get(digits)
    if pattern is None or not pattern.fullmatch(text):
        return None
    return text


def normalize_backup_code(value: object) -> str | None:
    """Lower-case, without spaces and hyphens, in the backup-code alphabet; else None."""
    if not isinstance(value, str) or len(value) > 64:
        return None
    text = _SEPARATORS.sub("", value).lower()
    return text if _BACKUP_RE.fullmatch(text) else None


def format_backup_code(code: str) -> str:
    """``abcde-fghjk``: two groups of five are easier to copy by hand."""
    half = len(code) // 2
    return f"{code[:half]}-{code[half:]}"


def generate_backup_code() -> str:
    return "".join(secrets.choice(BACKUP_CODE_ALPHABET) for _ in range(BACKUP_CODE_LENGTH))


class MfaDeviceQuerySet(TenantQuerySet):
    pass


class MfaDeviceManager(DeviceManager.from_queryset(MfaDeviceQuerySet)):  # type: ignore[misc]
    """django-otp's ``devices_for_user`` plus the tenancy ``for_tenant``."""


class EncryptedTOTPDevice(TenantOwned, TimestampMixin, ThrottlingMixin, Device):
    """An authenticator app (RFC 6238); the shared key is encrypted at rest.

    Mirrors ``django_otp.plugins.otp_totp.models.TOTPDevice`` with one difference: a code that
    was already used (a time step ≤ ``last_t``) is refused without counting as a failed guess,
    so a double-submitted form does not throttle its owner.
    """

    # Hex of the raw key; only ever ciphertext in the database.
    key = EncryptedTextField(_("key"))
    step = models.PositiveSmallIntegerField(default=30)
    t0 = models.BigIntegerField(default=0)
    digits = models.PositiveSmallIntegerField(choices=[(6, 6), (8, 8)], default=TOTP_DIGITS)
    tolerance = models.PositiveSmallIntegerField(default=1)
    drift = models.SmallIntegerField(default=0)
    # Replay protection: only codes of a later time step are accepted.
    last_t = models.BigIntegerField(default=-1)

    objects = MfaDeviceManager()  # type: ignore[misc]

    class Meta(Device.Meta):
        verbose_name = _("authenticator app")
        verbose_name_plural = _("authenticator apps")
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["tenant", "user"], name="mfa_totp_tenant_user")]

    @property
    def bin_key(self) -> bytes:
        return unhexlify(self.key.encode())

    def _totp(self) -> TOTP:
        totp = TOTP(self.bin_key, self.step, self.t0, self.digits, self.drift)
        totp.time = time.time()
        return totp

    def verify_token(self, token: object) -> bool:
        allowed, _info = self.verify_is_allowed()
        if not allowed:
            return False
        code = normalize_totp_code(token, digits=self.digits)
        if code is not None:
            totp = self._totp()
            if totp.verify(int(code), self.tolerance, self.last_t + 1):
                self.last_t = totp.t()
                if getattr(settings, "OTP_TOTP_SYNC", True):
                    self.drift = totp.drift
                self.throttle_reset(commit=False)
                self.set_last_used_timestamp(commit=False)
                self.save()
                return True
            if self._totp().verify(int(code), self.tolerance):
                # A replay of an accepted code: refused, but not a guess worth throttling.
                return False
        self.throttle_increment(commit=True)
        return False

    def get_throttle_factor(self) -> int:
        return int(getattr(settings, "OTP_TOTP_THROTTLE_FACTOR", 1))


class BackupCodeDevice(TenantOwned, TimestampMixin, ThrottlingMixin, Device):
    """A person's set of one-time backup codes (one device per person; codes are its rows)."""

    # Public: only makes the digests of this person's codes unlike everyone else's.
    salt = models.CharField(max_length=32)

    objects = MfaDeviceManager()  # type: ignore[misc]

    class Meta(Device.Meta):
        verbose_name = _("backup codes")
        verbose_name_plural = _("backup codes")
        indexes = [models.Index(fields=["tenant", "user"], name="mfa_backup_tenant_user")]

    def hash_code(self, code: str) -> str:
        digest = hashlib.pbkdf2_hmac("sha256", code.encode("ascii"), self.salt.encode("ascii"),
                                     BACKUP_CODE_ITERATIONS)
        return digest.hex()

    def verify_token(self, token: object) -> bool:
        allowed, _info = self.verify_is_allowed()
        if not allowed:
            return False
        code = normalize_backup_code(token)
        if code is not None:
            digest = self.hash_code(code)
            # The device row is locked by django_otp.verify_token: this read-then-delete cannot
            # interleave with another request consuming the same code.
            for row in self.codes.all():
                if hmac.compare_digest(row.code_hash, digest):
                    row.delete()
                    self.throttle_reset(commit=False)
                    self.set_last_used_timestamp(commit=False)
                    self.save()
                    return True
        self.throttle_increment(commit=True)
        return False

    def get_throttle_factor(self) -> int:
        return int(getattr(settings, "OTP_BACKUP_CODE_THROTTLE_FACTOR", 1))


class BackupCode(TenantOwned):
    """One unused backup code, as a digest; deleted when used."""

    device = models.ForeignKey(BackupCodeDevice, on_delete=models.CASCADE, related_name="codes")
    code_hash = models.CharField(max_length=64)

    class Meta:
        verbose_name = _("backup code")
        verbose_name_plural = _("backup codes")
        indexes = [models.Index(fields=["tenant", "device"], name="mfa_backupcode_tenant_dev")]

    def __str__(self) -> str:
        return f"backup code #{self.pk}"
