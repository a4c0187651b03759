"""Real servers for the notification tests: an SMTP server (aiosmtpd) and a webhook receiver."""

from __future__ import annotations

import hashlib
import hmac
import http.server
import json
import smtplib
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import Message
from typing import Any

from aiosmtpd.controller import Controller
from django.test import override_settings


class FlakyBackend:
    """A mailer whose server refuses while ``failures`` is positive."""

    failures = 0
    sent: list[object] = []

    def __init__(self, **kwargs):
        pass

    def open(self):
        return True

    def close(self):
        pass

    def send_messages(self, messages):
        if FlakyBackend.failures > 0:
            FlakyBackend.failures -= 1
            raise smtplib.SMTPRecipientsRefused({"x@acme.example": (451, b"try later")})
        FlakyBackend.sent.extend(messages)
        return len(messages)



def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


@dataclass
class SmtpHandler:
    """Refuses every recipient with a 451 while ``refusing``; records what it accepted."""

    refusing: bool = False
    hang: threading.Event | None = None  # set: the server never answers DATA until released
    received: list[Message] = field(default_factory=list)
    refused: int = 0
    connections: int = 0

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        self.connections += 1
        session.host_name = hostname
        return responses

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.refusing:
            self.refused += 1
            return "451 4.3.0 Try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.hang is not None:
            import asyncio

            while not self.hang.is_set():
                await asyncio.sleep(0.05)
        self.received.append(message_from_bytes(envelope.original_content or envelope.content))
        return "250 Message accepted"


@contextmanager
def smtp_server(handler: SmtpHandler, *, timeout: float = 5) -> Iterator[SmtpHandler]:
    """A real SMTP server on a loopback port, with Django's default mailer pointed at it."""
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    mailers = {"default": {"BACKEND": "django.core.mail.backends.smtp.EmailBackend",
                           "OPTIONS": {"host": "127.0.0.1", "port": port, "use_tls": False,
                                       "timeout": timeout}}}
    try:
        with override_settings(MAILERS=mailers):
            yield handler
    finally:
        if handler.hang is not None:
            handler.hang.set()
        controller.stop()


def verify(*, secret: str, headers: Any, body: bytes) -> bool:
    """The receiver's check, exactly as the README documents it."""
    timestamp = headers["X-Mailadmin-Timestamp"]
    expected = "v1=" + hmac.new(secret.encode(), f"{timestamp}.".encode() + body,
                                hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, headers["X-Mailadmin-Signature"])


@dataclass
class Receiver:
    url: str
    statuses: list[int]  # answers to give, in order; the last one repeats
    requests: list[tuple[dict[str, str], bytes]] = field(default_factory=list)

    def bodies(self) -> list[dict[str, Any]]:
        return [json.loads(body) for _headers, body in self.requests]


@contextmanager
def webhook_receiver(statuses: list[int], *, host: str = "127.0.0.2",
                     tls: TrustedTestCA | None = None) -> Iterator[Receiver]:
    """An HTTP(S) receiver on a loopback address that is not the console's (127.0.0.1)."""
    port = free_port(host)
    scheme = "https" if tls else "http"
    receiver = Receiver(url=f"{scheme}://{host}:{port}/hooks/mailadmin", statuses=list(statuses))

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            receiver.requests.append((dict(self.headers.items()), body))
            status = receiver.statuses.pop(0) if len(receiver.statuses) > 1 else receiver.statuses[0]
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer((host, port), Handler)
    if tls is not None:
        import ssl

        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(tls.cert_file, tls.key_file)
        server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        with override_settings(WEBHOOKS_ALLOW_HTTP=True, WEBHOOKS_ALLOW_PRIVATE_NETWORKS=True):
            yield receiver
    finally:
        server.shutdown()
        server.server_close()


@dataclass(frozen=True)
class TrustedTestCA:
    """A certificate authority of the test and a server certificate it signed for ``names``."""

    ca_pem: bytes
    cert_file: str
    key_file: str


def make_test_ca(directory: str, names: list[str]) -> TrustedTestCA:
    import datetime as dt
    from pathlib import Path

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = dt.datetime.now(dt.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "mailadmin test CA")])
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name)
          .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
          .not_valid_before(now - dt.timedelta(hours=1)).not_valid_after(now + dt.timedelta(days=1))
          .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
          .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                       content_commitment=False, key_encipherment=False,
                                       data_encipherment=False, key_agreement=False,
                                       encipher_only=False, decipher_only=False), critical=True)
          .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()),
                         critical=False)
          .sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0])]))
            .issuer_name(ca_name).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(hours=1)).not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(n) for n in names]),
                           critical=False)
            .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]),
                           critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
                           critical=False)
            .sign(ca_key, hashes.SHA256()))
    cert_file, key_file = Path(directory) / "server.pem", Path(directory) / "server.key"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return TrustedTestCA(ca_pem=ca.public_bytes(serialization.Encoding.PEM), cert_file=str(cert_file),
                  key_file=str(key_file))
