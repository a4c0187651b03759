"""A real Dovecot for the mail-client tests: IMAP, POP3 and submission on loopback ports, our SQL
passdb on the harness's PostgreSQL, the auth-policy server pointing at pytest-django's live
server, and submission relaying to an aiosmtpd server of the test's own.

The configuration is docker/dovecot's templates rendered as the compose service renders them
(tests/mailauth/dovecot_config.py), written into a temporary directory and ``dovecot -F -c …`` runs as a
subprocess for the test module; nothing of the system's Dovecot is used or started. Skipped, with
the reason, only when the dovecot binary is absent (``make test`` installs it: scripts/system-deps).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import Envelope
from django.db import connection

from tests.harness import _free_port
from tests.mailauth.dovecot_config import Ports, harness_config, mailadmin_files, passdb_connect

DOVECOT = shutil.which("dovecot") or "/usr/sbin/dovecot"
SECRET = "test-policy-secret-" + "k" * 24


@dataclass
class Dovecot:
    imap_port: int
    pop3_port: int
    submission_port: int
    workdir: Path
    relay: Relay

    def log(self) -> str:
        path = self.workdir / "dovecot.log"
        return path.read_text(errors="replace") if path.exists() else ""


class Relay:
    """The MTA Dovecot's submission service relays to: an aiosmtpd server keeping what it got."""

    def __init__(self) -> None:
        self.messages: list[tuple[str, list[str], bytes]] = []
        self._controller = Controller(self, hostname="127.0.0.1", port=_free_port())

    @property
    def port(self) -> int:
        return int(self._controller.port)

    async def handle_DATA(self, server: object, session: object, envelope: Envelope) -> str:
        content = envelope.content or b""
        self.messages.append((str(envelope.mail_from), list(envelope.rcpt_tos),
                              content.encode() if isinstance(content, str) else bytes(content)))
        return "250 OK"

    def start(self) -> None:
        self._controller.start()

    def stop(self) -> None:
        self._controller.stop()


def _wait_for(port: int, proc: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"dovecot exited: {log.read_text(errors='replace') if log.exists() else ''}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
            return
        time.sleep(0.05)
    raise RuntimeError("dovecot did not listen in time")


@pytest.fixture(scope="module")
def dovecot_server(live_server, django_db_setup, django_db_blocker) -> Iterator[Dovecot]:
    """One Dovecot per test module (its configuration does not change between tests)."""
    if not os.path.exists(DOVECOT):
        pytest.skip("the dovecot binary is absent (scripts/system-deps installs dovecot-core)")
    with django_db_blocker.unblock():
        db = dict(connection.settings_dict)
        vendor = connection.vendor
    if vendor != "postgresql":
        pytest.skip("the SQL passdb reads PostgreSQL")
    port = live_server.url.rsplit(":", 1)[1]
    workdir = Path(tempfile.mkdtemp(prefix="mailadmin-dovecot-"))
    os.chmod(workdir, 0o755)  # noqa: S103  # Dovecot's unprivileged processes read it
    relay = Relay()
    relay.start()
    ports = Ports(imap=_free_port(), pop3=_free_port(), submission=_free_port(), relay=relay.port)
    include = mailadmin_files(workdir, policy_url=f"http://127.0.0.1:{port}/mailauth/policy",
                              secret=SECRET, passdb=passdb_connect(db))
    conf = workdir / "dovecot.conf"
    conf.write_text(harness_config(workdir, ports=ports, include=include))
    proc = subprocess.Popen([DOVECOT, "-F", "-c", str(conf)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.STDOUT)
    try:
        for listening in (ports.imap, ports.pop3, ports.submission):
            _wait_for(listening, proc, workdir / "dovecot.log")
        yield Dovecot(imap_port=ports.imap, pop3_port=ports.pop3, submission_port=ports.submission,
                      workdir=workdir, relay=relay)
    finally:
        relay.stop()
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        shutil.rmtree(workdir, ignore_errors=True)


@pytest.fixture
def dovecot(dovecot_server: Dovecot, settings, transactional_db) -> Dovecot:
    """The module's Dovecot, with the policy endpoint configured for this test."""
    settings.MAILADMIN_MAIL_POLICY_SECRET = SECRET
    settings.MAILADMIN_MAIL_POLICY_NETWORKS = ["127.0.0.1/32", "::1/128"]
    # Embedded alert detection would run in the live server's thread after each report commits,
    # racing the flush between tests; the detector has its own tests.
    settings.ALERTS_DETECT_EAGER = False
    # Tests that sign in wrongly on purpose would wait out the tarpit; test_tarpit.py turns it on.
    settings.MAILADMIN_MAIL_TARPIT_MAX_SECONDS = 0
    return dovecot_server
