"""Run the alert detector once over every active tenant (or one), as the beat task does."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from alerts.detect import detect_all


class Command(BaseCommand):
    help = "Detect alerts over the sign-ins and exports recorded since the last run."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--tenant", type=int, action="append", dest="tenants",
                            help="only this tenant id (repeatable)")
        parser.add_argument("--batch-size", type=int, default=None)
        parser.add_argument("--max-batches", type=int, default=None,
                            help="per tenant and kind of row; default: until caught up")

    def handle(self, *args: Any, **options: Any) -> None:
        result = detect_all(batch_size=options["batch_size"], max_batches=options["max_batches"],
                            tenant_ids=options["tenants"])
        self.stdout.write(f"{result.events} sign-ins, {result.exports} exports, "
                          f"{result.batches} batches, {result.alerts_opened} alerts opened, "
                          f"{result.alerts_grown} grown, {result.rule_errors} rule errors")
