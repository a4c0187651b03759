"""Model fields whose values are stored encrypted (Fernet), for secrets such as TOTP keys.

Design: the database only ever holds ``MultiFernet`` tokens. The keys come from
``settings.FIELD_ENCRYPTION_KEYS`` (newest first), never from ``SECRET_KEY``: rotating the
secret key for sessions must not destroy every enrolled authenticator, and a leaked database
dump plus a leaked ``SECRET_KEY`` still does not reveal the secrets. New values are encrypted
with the first key and any listed key decrypts, so a key is rotated by prepending a new one,
running ``manage.py rotate_field_keys``, then dropping the old one.

The values are not searchable (each encryption is randomised), so every lookup except
``isnull`` is refused loudly instead of silently matching nothing. Values never appear in
error messages or logs, and ``dumpdata`` writes them as ``fernet:<token>`` (ciphertext), which
``loaddata`` reads back.
"""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.exceptions import FieldError, ImproperlyConfigured
from django.db import models
from django.db.models import Lookup
from django.utils.translation import gettext_lazy as _

if TYPE_CHECKING:
    from cryptography.fernet import Fernet, MultiFernet


class FieldDecryptionError(Exception):
    """A stored value cannot be decrypted with any configured key (the value is not included)."""


@lru_cache(maxsize=8)
def _fernets(keys: tuple[str, ...]) -> tuple[MultiFernet, Fernet]:
    # cryptography is imported on first use (~6 MB a process): most requests of a worker, log
    # pages and exports among them, never touch an encrypted field.
    from cryptography.fernet import Fernet, MultiFernet

    if not keys:
        raise ImproperlyConfigured("FIELD_ENCRYPTION_KEYS is empty: encrypted fields cannot be used.")
    try:
        fernets = [Fernet(key) for key in keys]
    except (ValueError, TypeError) as exc:
        # Deliberately without the key material.
        raise ImproperlyConfigured(
            "FIELD_ENCRYPTION_KEYS must hold url-safe base64 Fernet keys (32 bytes)."
        ) from exc
    return MultiFernet(fernets), fernets[0]


def _configured_keys() -> tuple[str, ...]:
    keys = getattr(settings, "FIELD_ENCRYPTION_KEYS", None) or []
    if isinstance(keys, str):
        keys = [k for k in keys.split(",") if k.strip()]
    return tuple(k.strip() for k in keys)


def field_fernet() -> MultiFernet:
    """The ``MultiFernet`` of the configured keys: encrypts with the newest, decrypts with any."""
    return _fernets(_configured_keys())[0]


def primary_fernet() -> Fernet:
    """The newest key alone: a token it decrypts needs no rotation."""
    return _fernets(_configured_keys())[1]


def encrypt_bytes(data: bytes) -> str:
    return field_fernet().encrypt(data).decode("ascii")


def decrypt_bytes(token: str | bytes, *, ttl: int | None = None) -> bytes:
    from cryptography.fernet import InvalidToken

    raw = token.encode("ascii") if isinstance(token, str) else token
    try:
        return field_fernet().decrypt(raw, ttl=ttl)
    except (InvalidToken, UnicodeError, ValueError, TypeError):
        raise FieldDecryptionError("the value cannot be decrypted with the configured keys") from None


# Marks ciphertext in serialised output (dumpdata/loaddata), so a fixture never holds a secret.
SERIALIZED_PREFIX = "fernet:"


class EncryptedFieldMixin:
    """Shared by the text and binary variants; ``rotate_field_keys`` finds fields by this class."""

    empty_strings_allowed = False
    description = _("Encrypted value")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # Secrets stay out of ModelForms and the admin unless a form asks for them explicitly.
        kwargs.setdefault("editable", False)
        super().__init__(*args, **kwargs)

    # Subclasses convert between the Python value and the bytes that get encrypted.
    def _to_bytes(self, value: Any) -> bytes:  # pragma: no cover - abstract
        raise NotImplementedError

    def _from_bytes(self, data: bytes) -> Any:  # pragma: no cover - abstract
        raise NotImplementedError

    def get_internal_type(self) -> str:
        return "TextField"

    def get_prep_value(self, value: Any) -> Any:
        if value is None:
            return None
        return encrypt_bytes(self._to_bytes(value))

    def from_db_value(self, value: Any, expression: Any, connection: Any) -> Any:
        if value is None:
            return None
        return self._from_bytes(decrypt_bytes(value))

    def value_to_string(self, obj: Any) -> Any:
        value = self.value_from_object(obj)  # type: ignore[attr-defined]
        if value is None:
            return None
        return SERIALIZED_PREFIX + encrypt_bytes(self._to_bytes(value))

    def _from_serialized(self, value: Any) -> tuple[bool, Any]:
        if isinstance(value, str) and value.startswith(SERIALIZED_PREFIX):
            return True, self._from_bytes(decrypt_bytes(value[len(SERIALIZED_PREFIX):]))
        return False, value

    def get_lookup(self, lookup_name: str) -> type[Lookup] | None:
        if lookup_name != "isnull":
            raise FieldError(f"Encrypted field {self.name!r} cannot be searched ({lookup_name}).")  # type: ignore[attr-defined]
        return super().get_lookup(lookup_name)  # type: ignore[misc]

    def get_transform(self, lookup_name: str) -> Any:
        raise FieldError(f"Encrypted field {self.name!r} cannot be searched ({lookup_name}).")  # type: ignore[attr-defined]


class EncryptedTextField(EncryptedFieldMixin, models.TextField):  # type: ignore[misc]
    """A ``str`` stored as a Fernet token."""

    def _to_bytes(self, value: Any) -> bytes:
        return str(value).encode("utf-8")

    def _from_bytes(self, data: bytes) -> str:
        return data.decode("utf-8")

    def to_python(self, value: Any) -> Any:
        serialized, value = self._from_serialized(value)
        return value if value is None or serialized else str(value)


class EncryptedBinaryField(EncryptedFieldMixin, models.TextField):  # type: ignore[misc]
    """``bytes`` stored as a Fernet token (text column, so the ciphertext is dump-friendly)."""

    def _to_bytes(self, value: Any) -> bytes:
        if isinstance(value, memoryview):
            return value.tobytes()
        if isinstance(value, str):
            raise TypeError("EncryptedBinaryField takes bytes")
        return bytes(value)

    def _from_bytes(self, data: bytes) -> bytes:
        return data

    def to_python(self, value: Any) -> Any:
        return self._from_serialized(value)[1]
