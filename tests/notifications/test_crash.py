"""A worker killed with SIGKILL in the middle of a batch: nothing is lost, nothing sent twice."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
from django.conf import settings
from django.db import connection
from django.test import override_settings
from django.utils import timezone

from notifications.delivery import deliver_due
from notifications.models import DeliveryAttempt, OutboxMessage, Status
from notifications.services import email_enqueue
from tests.factories import TenantFactory
from tests.notifications.support import SmtpHandler, smtp_server

pytestmark = pytest.mark.django_db(transaction=True)

ROOT = Path(__file__).resolve().parents[2]


class StallingHandler(SmtpHandler):
    """Accepts ``accept`` messages, then stalls the next recipient until released."""

    def __init__(self, accept: int) -> None:
        super().__init__()
        self.accept = accept
        self.stalled = threading.Event()
        self.release = threading.Event()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        import asyncio

        if len(self.received) >= self.accept and not self.release.is_set():
            self.stalled.set()
            while not self.release.is_set():
                await asyncio.sleep(0.05)
            return "421 4.3.0 Closing"
        envelope.rcpt_tos.append(address)
        return "250 OK"


def _test_database_url() -> str:
    parts = urlsplit(os.environ["DATABASE_URL"])
    return urlunsplit(parts._replace(path="/" + connection.settings_dict["NAME"]))


@override_settings(NOTIFICATIONS_DELIVER_ON_COMMIT=False)
def test_a_worker_killed_mid_batch_loses_nothing_and_sends_nothing_twice():
    tenant = TenantFactory(name="Crash", slug="crash", domain="crash.example")
    for n in range(10):
        email_enqueue(tenant=tenant, to=f"p{n}@crash.example", subject=f"Message {n}",
                      body="Body", idempotency_key=f"crash:{n}", kind="test")
    handler = StallingHandler(accept=3)
    with smtp_server(handler) as server:
        port = settings.MAILERS["default"]["OPTIONS"]["port"]
        env = {**os.environ, "DATABASE_URL": _test_database_url(), "EMAIL_HOST": "127.0.0.1",
               "EMAIL_PORT": str(port), "EMAIL_USE_TLS": "0", "DJANGO_SETTINGS_MODULE":
               "mailadmin.settings"}
        worker = subprocess.Popen(  # our own interpreter and a fixed script
            [sys.executable, "-c", "import django; django.setup(); "
             "from notifications.delivery import deliver_due; deliver_due(limit=10)"],
            cwd=ROOT, env=env)
        try:
            assert handler.stalled.wait(timeout=60), "the worker never reached the 4th message"
            worker.send_signal(signal.SIGKILL)
            worker.wait(timeout=10)
        finally:
            if worker.poll() is None:
                worker.kill()
        handler.release.set()
        rows = OutboxMessage.objects.for_tenant(tenant)
        assert rows.filter(status=Status.SENT).count() == 3
        assert rows.filter(status=Status.SENDING).count() == 7  # claimed by the dead worker
        # Still leased: no other worker takes them yet.
        assert deliver_due().claimed == 0
        after_lease = timezone.now() + timedelta(seconds=settings.NOTIFICATIONS_LEASE_SECONDS + 1)
        report = deliver_due(now=after_lease)
        assert (report.claimed, report.sent) == (7, 7)
        assert deliver_due(now=after_lease + timedelta(hours=1)).claimed == 0
    recipients = sorted(str(m["To"]) for m in server.received)
    assert recipients == sorted(f"p{n}@crash.example" for n in range(10))
    assert set(rows.values_list("status", flat=True)) == {Status.SENT}
    # The three the dead worker recorded were attempted once; the seven it claimed twice.
    assert sorted(rows.values_list("attempts", flat=True)) == [1, 1, 1] + [2] * 7
    assert DeliveryAttempt.objects.for_tenant(tenant).filter(ok=True).count() == 10
