"""Password validators that apply to one person (the tenant's policy builds on these)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.password_validation import get_default_password_validators


def password_validators_for(user: Any) -> list[Any]:
    return list(get_default_password_validators())
