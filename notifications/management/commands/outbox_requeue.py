"""``manage.py outbox_requeue --since 2026-12-01T00:00Z [--tenant slug] [--kind invitation]``."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from notifications.services import outbox_failed_requeue
from tenants.models import Tenant


class Command(BaseCommand):
    help = ("Give failed e-mails and webhook deliveries created since a time a fresh set of "
            "attempts, after an outage that outlasted the retries.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--since", required=True,
                            help="ISO 8601 time; rows created from then on are requeued")
        parser.add_argument("--tenant", default="", help="one tenant's slug (default: every tenant)")
        parser.add_argument("--kind", default="",
                            help="only e-mails of this kind, e.g. invitation (no webhooks then)")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            since = datetime.fromisoformat(options["since"].replace("Z", "+00:00"))
        except ValueError:
            raise CommandError("--since must be an ISO 8601 time, e.g. 2026-12-01T00:00Z") from None
        if timezone.is_naive(since):
            since = timezone.make_aware(since, timezone.get_current_timezone())
        tenants = Tenant.objects.order_by("pk")
        if options["tenant"]:
            tenants = tenants.filter(slug=options["tenant"])
            if not tenants.exists():
                raise CommandError(f"No tenant with the slug {options['tenant']!r}.")
        total = 0
        for tenant in tenants:
            count = outbox_failed_requeue(tenant=tenant, since=since, kind=options["kind"])
            if count:
                self.stdout.write(f"{tenant.slug}: {count} requeued")
            total += count
        self.stdout.write(f"{total} requeued in all; the worker delivers them within seconds.")
