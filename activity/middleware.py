"""The audit trail's request context: who acted, from which client IP.

django-auditlog's own middleware connects and disconnects a ``pre_save`` receiver on every
request and trusts the left-most ``X-Forwarded-For``. Ours sets auditlog's context variable
only, for one receiver connected once at start-up (``connect_audit_context``), and takes the
address from ``activity.clientip`` — lazily, so requests that audit nothing never compute it.

Every entry a request writes carries the request's id as auditlog's correlation id (``cid``):
the id ``mailadmin.middleware.RequestIdMiddleware`` put on the request (on every log line and the
500 page too), else a new random one. The audit trail shows the entries of one request as one
action (``activity.audit_text.entries_group``); the CSV exports it as ``action_id``. auditlog's
own ``set_cid`` reads an ``X-Correlation-ID`` header instead, which browsers never send.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from functools import partial

from auditlog.cid import correlation_id
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
        cid_token = correlation_id.set(getattr(request, "request_id", None) or uuid.uuid4().hex)
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
            correlation_id.reset(cid_token)
