"""Outbox: what an e-mail costs the request that causes it, and how fast workers drain the outbox.

Data: a throwaway PostgreSQL 15 (tests.harness's helper), migrated, one tenant; a real SMTP
server (aiosmtpd) on a loopback port that answers every DATA after ``--smtp-delay-ms`` (default
0: the fastest server there is; try 200 for a remote relay).

Sides:

- **request path** — the old way, ``send_mail`` inside the request's transaction (Django's SMTP
  backend, a connection per call), against ours, ``email_enqueue`` (one INSERT of an encrypted
  body, no network). Each call in its own transaction, interleaved, median and p95 per call.
- **drain** — ``--messages`` (default 2,000) queued e-mails delivered by ``deliver_due`` run by
  one worker, then by two at once (threads, each with its own database connection, SKIP LOCKED
  between them): messages per second, and a check that each arrived exactly once.

``--quick``: 200 messages, 20 timed calls (proves nothing).
"""

from __future__ import annotations

import argparse
import asyncio
import threading
import time
from typing import Any

from bench.common import (
    compare,
    comparison_table,
    django_on_postgres,
    machine_report,
    markdown_table,
    standard_arguments,
    throwaway_postgres,
)


class _Handler:
    def __init__(self, delay: float) -> None:
        self.delay = delay
        self.received: list[bytes] = []
        self._lock = threading.Lock()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.delay:
            await asyncio.sleep(self.delay)
        with self._lock:
            self.received.append(envelope.content)
        return "250 Message accepted"


def _drain(workers: int, *, expected: int) -> float:
    from django.db import connection

    from notifications.delivery import deliver_due
    from notifications.models import OutboxMessage, Status

    def work() -> None:
        try:
            while deliver_due(limit=100).claimed:
                pass
        finally:
            connection.close()

    threads = [threading.Thread(target=work) for _ in range(workers)]
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    seconds = time.perf_counter() - start
    sent = OutboxMessage.objects.filter(status=Status.SENT).count()
    assert sent == expected, f"{sent} of {expected} sent"
    return seconds


def run(argv: list[str]) -> int:
    parser = standard_arguments(argparse.ArgumentParser(prog="python -m bench outbox"), repeat=200)
    parser.add_argument("--messages", type=int, default=2_000)
    parser.add_argument("--smtp-delay-ms", type=float, default=0.0)
    args = parser.parse_args(argv)
    if args.quick:
        args.messages, args.repeat = 200, 20

    import logging

    from aiosmtpd.controller import Controller

    logging.getLogger("mail.log").setLevel(logging.WARNING)  # aiosmtpd logs every command

    from tests.harness import _free_port

    handler = _Handler(args.smtp_delay_ms / 1000)
    port = _free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        with throwaway_postgres() as (url, version):
            django_on_postgres(url)
            from django.conf import settings
            from django.core.mail import send_mail
            from django.db import transaction

            from notifications.models import OutboxMessage
            from notifications.services import email_enqueue
            from tests.factories import TenantFactory

            settings.MAILERS = {"default": {
                "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
                "OPTIONS": {"host": "127.0.0.1", "port": port, "use_tls": False, "timeout": 10}}}
            settings.NOTIFICATIONS_DELIVER_ON_COMMIT = False
            tenant = TenantFactory(name="Bench", slug="bench", domain="bench.example")
            counter = iter(range(10**9))
            body = "You are invited to Bench on mailadmin.\n\nhttps://console.example/invitation/x/\n" * 3

            def old_way() -> None:
                with transaction.atomic():
                    send_mail("You are invited", body, None, ["p@bench.example"])

            def ours() -> None:
                with transaction.atomic():
                    email_enqueue(tenant=tenant, to="p@bench.example", subject="You are invited",
                                  body=body, idempotency_key=f"req:{next(counter)}",
                                  kind="invitation")

            request = compare("e-mail on the request path", old_way, ours, repeat=args.repeat,
                              warmup=args.warmup,
                              note=f"SMTP delay {args.smtp_delay_ms:g} ms")
            OutboxMessage.objects.all().delete()
            handler.received.clear()

            rows = []
            for workers in (1, 2):
                for n in range(args.messages):
                    email_enqueue(tenant=tenant, to=f"p{n}@bench.example", subject="Hello",
                                  body=body, idempotency_key=f"drain:{workers}:{n}", kind="bench")
                seconds = _drain(workers, expected=args.messages)
                assert len(handler.received) == args.messages, "each message exactly once"
                rows.append((workers, f"{args.messages:,}", f"{seconds:.2f}",
                             f"{args.messages / seconds:,.0f}"))
                OutboxMessage.objects.all().delete()
                handler.received.clear()
            print("## bench outbox\n")
            print(machine_report({"PostgreSQL": version}))
            print()
            print(comparison_table([request]))
            print()
            print(f"p95 per call: old way {request.baseline.p95_ns / 1e6:.2f} ms, "
                  f"ours {request.ours.p95_ns / 1e6:.2f} ms\n")
            print(markdown_table(["workers", "messages", "seconds", "messages/s"], rows))
    finally:
        controller.stop()
    return 0
