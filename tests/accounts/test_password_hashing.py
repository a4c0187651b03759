from __future__ import annotations

from django.contrib.auth.hashers import make_password
from django.test import override_settings

from mailadmin import settings as project_settings


def test_argon2_is_the_production_hasher():
    assert project_settings.PASSWORD_HASHERS[0].endswith("Argon2PasswordHasher")
    with override_settings(PASSWORD_HASHERS=project_settings.PASSWORD_HASHERS):
        assert make_password("a long enough passphrase").startswith("argon2$")
