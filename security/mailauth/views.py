"""Dovecot's authentication-policy endpoint: ``POST /mailauth/policy?command=allow|report``.

PUBLIC to the console's access rules because its caller is a mail server, not a person: it has
no session and no role. It authenticates the caller itself, before reading the body: the
request's peer address must be in ``MAILADMIN_MAIL_POLICY_NETWORKS`` (REMOTE_ADDR, never a
forwarded header: the mail servers talk to us directly) and the ``X-API-Key`` header must equal
``MAILADMIN_MAIL_POLICY_SECRET`` (compared in constant time). Without a configured secret the
endpoint does not exist (404).

Answers are Dovecot's JSON, ``{"status": 0|-1, "msg": …}``; a malformed request is a 400 with a
refusal, never a 500; an error while deciding answers as the operator chose
(``MAILADMIN_MAIL_POLICY_FAIL_OPEN``).
"""

from __future__ import annotations

import functools
import hmac
import ipaddress
import logging

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from security.mailauth.attempt import MalformedAttempt, attempt_parse
from security.mailauth.services import ALLOW, REFUSE, mail_policy_allow, mail_policy_report
from tenants.access import PUBLIC, requires

logger = logging.getLogger(__name__)

API_HEADER = "HTTP_X_API_KEY"


@functools.cache
def _networks(spec: tuple[str, ...]) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    return tuple(ipaddress.ip_network(item, strict=False) for item in spec)


def _caller_allowed(request: HttpRequest) -> bool:
    try:
        peer = ipaddress.ip_address(request.META.get("REMOTE_ADDR", ""))
    except ValueError:
        return False
    if isinstance(peer, ipaddress.IPv6Address) and peer.ipv4_mapped is not None:
        peer = peer.ipv4_mapped
    return any(peer in net for net in _networks(tuple(settings.MAILADMIN_MAIL_POLICY_NETWORKS)))


def _answer(status: int, msg: str = "", *, http: int = 200) -> JsonResponse:
    response = JsonResponse({"status": status, "msg": msg}, status=http)
    # Set here, not by CommonMiddleware: the endpoint's lean path (security/mailauth/wsgi.py) has
    # none, and without it gunicorn would answer Dovecot in chunks.
    response["Content-Length"] = str(len(response.content))
    return response


@requires(PUBLIC)  # a mail server's call, authenticated below by network and shared secret
@csrf_exempt  # no cookies, no browser: the shared secret is the credential
@require_POST
def policy_view(request: HttpRequest) -> HttpResponse:
    secret = settings.MAILADMIN_MAIL_POLICY_SECRET
    if not secret:
        raise Http404
    if not _caller_allowed(request):
        return _answer(REFUSE, "caller not allowed", http=403)
    given = request.META.get(API_HEADER, "")
    if not hmac.compare_digest(given.encode("utf-8", "replace"), secret.encode()):
        return _answer(REFUSE, "bad credentials", http=403)
    try:
        attempt = attempt_parse(command=request.GET.get("command", ""), body=request.body)
    except MalformedAttempt as exc:
        logger.warning("malformed policy request from %s: %s", request.META.get("REMOTE_ADDR"), exc)
        return _answer(REFUSE, "malformed request", http=400)
    try:
        answer = (mail_policy_allow if attempt.command == "allow" else mail_policy_report)(attempt=attempt)
    except Exception:
        logger.exception("mail policy %s failed", attempt.command)
        fail_open = settings.MAILADMIN_MAIL_POLICY_FAIL_OPEN
        return _answer(ALLOW if fail_open else REFUSE, "policy unavailable")
    return _answer(answer.status, answer.msg)
