"""Signing and sending one webhook request.

The body is the event as compact JSON; the signature is
``v1=<hex HMAC-SHA256(secret, f"{timestamp}.{body}")>`` in ``X-Mailadmin-Signature``, with the
Unix timestamp in ``X-Mailadmin-Timestamp``, so a receiver can refuse a replay outside its window
(the README says five minutes). The request goes to the address ``ssrf.webhook_target`` checked,
with the URL's host in ``Host`` and in TLS (SNI and certificate check), through ``http.client``
from the standard library: no redirect is followed and nothing else resolves the name again.
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import json
import secrets
import socket
import ssl
import time
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError

from notifications.ssrf import Target, webhook_target

SIGNATURE_VERSION = "v1"
USER_AGENT = "mailadmin-webhooks/1"


def secret_generate() -> str:
    """A new signing secret (shown once, stored encrypted)."""
    return "whsec_" + secrets.token_urlsafe(32)


def body_encode(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, separators=(",", ":"), sort_keys=True, default=str).encode()


def signature(*, secret: str, timestamp: int, body: bytes) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"{SIGNATURE_VERSION}={mac.hexdigest()}"


@dataclass(frozen=True)
class Response:
    status: int | None  # None when no HTTP response came back
    error: str  # "" when the receiver answered 2xx
    refused: bool = False  # the URL failed the SSRF check: it was not called


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """Connects to the checked address while speaking to the URL's host."""

    def __init__(self, target: Target, timeout: float) -> None:
        super().__init__(target.host, target.port, timeout=timeout)
        self._address = target.address

    def connect(self) -> None:
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


def _tls_context() -> ssl.SSLContext:
    """The system's trusted CAs, certificate and host name checked (tests add their own CA)."""
    return ssl.create_default_context()


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    def __init__(self, target: Target, timeout: float) -> None:
        super().__init__(target.host, target.port, timeout=timeout, context=_tls_context())
        self._address = target.address

    def connect(self) -> None:
        sock = socket.create_connection((self._address, self.port), self.timeout)
        # The certificate is checked against the URL's host name, not the address.
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)  # type: ignore[attr-defined]


def webhook_post(*, url: str, secret: str, event_type: str, delivery_id: str,
                 payload: dict[str, Any], now: float | None = None) -> Response:
    """Send one signed request; never raises for the receiver's or the network's failures."""
    try:
        target = webhook_target(url)  # again at delivery: the name may resolve elsewhere now
    except ValidationError as exc:  # refused: the URL is not called
        return Response(status=None, error=" ".join(str(m) for m in exc.messages), refused=True)
    body = body_encode(payload)
    timestamp = int(now if now is not None else time.time())
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "X-Mailadmin-Event": event_type,
        "X-Mailadmin-Delivery": delivery_id,
        "X-Mailadmin-Timestamp": str(timestamp),
        "X-Mailadmin-Signature": signature(secret=secret, timestamp=timestamp, body=body),
    }
    timeout = float(settings.WEBHOOKS_TIMEOUT_SECONDS)
    connection: http.client.HTTPConnection = (
        _PinnedHTTPSConnection(target, timeout) if target.scheme == "https"
        else _PinnedHTTPConnection(target, timeout))
    try:
        connection.request("POST", target.path, body=body, headers=headers)
        response = connection.getresponse()
        response.read(64 * 1024)  # a little of the body, so the connection closes cleanly
    except (OSError, http.client.HTTPException) as exc:
        return Response(status=None, error=f"{type(exc).__name__}: {exc}"[:500])
    finally:
        connection.close()
    if 200 <= response.status < 300:
        return Response(status=response.status, error="")
    if 300 <= response.status < 400:
        return Response(status=response.status,
                        error=f"HTTP {response.status}: redirects are not followed")
    return Response(status=response.status, error=f"HTTP {response.status}")
