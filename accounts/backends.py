from __future__ import annotations

from typing import Any

from django.contrib.auth.backends import ModelBackend
from django.http import HttpRequest

from accounts.models import normalize_email


class EmailBackend(ModelBackend):
    """ModelBackend on the normalised e-mail (the form field is ``email``)."""

    def authenticate(
        self, request: HttpRequest | None, username: str | None = None,
        password: str | None = None, email: str | None = None, **kwargs: Any,
    ) -> Any:
        login = email if email is not None else username
        if login is None or password is None:
            return None
        return super().authenticate(request, username=normalize_email(login), password=password)
