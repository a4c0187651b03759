"""The policy endpoint's lean path through the WSGI application (security/mailauth/wsgi.py): the
production application (gunicorn serves ``mailadmin.wsgi``) answers Dovecot without the console's
middleware, with the same checks, and hands every other path to the console unchanged."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.test import RequestFactory

from accounts.mailclients.services import mail_client_password_create
from activity.models import LoginEvent
from security.mailauth.wsgi import policy_dispatch
from tests.mailauth.conftest import SECRET

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _configured(settings):
    settings.MAILADMIN_MAIL_POLICY_SECRET = SECRET
    settings.MAILADMIN_MAIL_POLICY_NETWORKS = ["127.0.0.1/32"]
    settings.ALERTS_DETECT_EAGER = False


class Console:
    """Stands for the console's WSGI application: says it was asked."""

    def __init__(self) -> None:
        self.paths: list[str] = []

    def __call__(self, environ: dict[str, Any], start_response: Any) -> list[bytes]:
        self.paths.append(environ["PATH_INFO"])
        start_response("204 No Content", [])
        return []


def _call(app: Any, path: str, body: dict[str, object], *, secret: str = SECRET,
          remote: str = "127.0.0.1") -> tuple[int, dict[str, str], bytes]:
    request = RequestFactory().post(path, data=json.dumps(body), content_type="application/json",
                                    REMOTE_ADDR=remote, HTTP_X_API_KEY=secret)
    got: dict[str, Any] = {}

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: object = None) -> None:
        got["status"], got["headers"] = int(status.split()[0]), dict(headers)

    # As Django's test client does: the request signals must not close the test's connection
    # (its transaction is the test's isolation).
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        chunks = app(request.environ, start_response)
        try:
            content = b"".join(chunks)
        finally:
            getattr(chunks, "close", lambda: None)()
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)
    return got["status"], got["headers"], content


def test_the_lean_path_answers_dovecot_with_the_same_checks_and_records_the_report(two_tenants):
    member = two_tenants.a.member
    row, _plaintext = mail_client_password_create(user=member, name="Thunderbird")
    console = Console()
    app = policy_dispatch(console, middleware=["mailadmin.middleware.RequestIdMiddleware"])
    attempt = {"login": member.email, "remote": "198.51.100.7", "protocol": "imap",
               "session_id": "s1", "device_id": '"name" "Thunderbird"', "mail_client": str(row.pk)}

    status, headers, content = _call(app, "/mailauth/policy?command=allow", attempt)
    assert (status, json.loads(content)) == (200, {"status": 0, "msg": ""})
    # A length, not chunks (no CommonMiddleware here), and the request id of every response.
    assert headers["Content-Length"] == str(len(content)) and headers["X-Request-ID"]
    assert _call(app, "/mailauth/policy?command=allow", attempt, secret="wrong")[0] == 403
    assert _call(app, "/mailauth/policy?command=allow", attempt, remote="10.1.2.3")[0] == 403

    status, _headers, content = _call(app, "/mailauth/policy?command=report",
                                      attempt | {"success": True, "policy_reject": False})
    assert status == 200
    assert [(e.protocol, e.outcome, e.ip) for e in LoginEvent.objects.for_tenant(member.tenant)] == [
        ("imap", "success", "198.51.100.7")]
    assert console.paths == []


def test_every_other_path_goes_to_the_console():
    console = Console()
    app = policy_dispatch(console)
    for path in ("/signin/", "/mailauth/policy/", "/mailauth/other"):
        assert _call(app, path, {})[0] == 204
    assert console.paths == ["/signin/", "/mailauth/policy/", "/mailauth/other"]


def test_the_health_check_is_skipped_only_for_a_connection_the_path_used_moments_ago():
    from django.db import connections

    from security.mailauth import wsgi

    connection = connections["default"]
    connection.ensure_connection()
    saved = connection.health_check_done
    try:
        for used_ago, trusted in ((None, False), (1.0, True), (wsgi.HEALTH_CHECK_IDLE_SECONDS + 1, False)):
            connection.health_check_done = False
            if used_ago is None:
                vars(connection).pop(wsgi._USED_AT, None)
            else:
                wsgi.connections_used(now=1000.0)
            wsgi.recent_connections_trust(now=1000.0 + (used_ago or 0))
            assert connection.health_check_done is trusted, used_ago
    finally:
        connection.health_check_done = saved
        vars(connection).pop(wsgi._USED_AT, None)
