from __future__ import annotations

from auditlog.middleware import AuditlogMiddleware
from django.http import HttpRequest

from activity.clientip import client_ip


class AuditContextMiddleware(AuditlogMiddleware):
    """auditlog's middleware with our client IP (its own trusts the left-most X-Forwarded-For)."""

    @staticmethod
    def _get_remote_addr(request: HttpRequest) -> str | None:  # type: ignore[override]
        return client_ip(request)

    @staticmethod
    def _get_remote_port(request: HttpRequest) -> int | None:  # type: ignore[override]
        return None
