"""The audit trail's request context: who acted, from which client IP.

django-auditlog's own middleware connects and disconnects a ``pre_save`` receiver on every
request and trusts the left-most ``X-Forwarded-For``. Ours sets auditlog's context variable
only, for one receiver connected once at start-up (``connect_audit_context``), and takes the
address from ``activity.clientip`` — lazily, so requests that audit nothing never compute it.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from auditlog.cid import set_cid
from auditlog.context import _set_extra_data, auditlog_value
from django.db.models.signals import pre_save
from django.http import HttpRequest, HttpResponse

from activity.clientip import client_ip

_SIGNAL_DUID = ("mailadmin", "audit-context")


def connect_audit_context() -> None:
    """Called from ActivityConfig.ready(): fill actor and IP into every audit entry saved."""
    from activity.models import AuditLogEntry

    pre_save.connect(partial(_set_extra_data, signal_duid=_SIGNAL_DUID), sender=AuditLogEntry,
                     dispatch_uid=_SIGNAL_DUID, weak=False)


class AuditContextMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        set_cid(request)
        token = auditlog_value.set({
            "actor": getattr(request, "user", None),
            "remote_addr": lambda: client_ip(request),
            "remote_port": None,
            "signal_duid": _SIGNAL_DUID,
        })
        try:
            return self.get_response(request)
        finally:
            auditlog_value.reset(token)
