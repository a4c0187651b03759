from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection

from activity.management.synthetic import activity_generate, tenants_create
from tenants.models import Tenant


class Command(BaseCommand):
    help = ("Load synthetic sign-in history: Zipf-distributed tenants and people, User-Agents from "
            "../shared/data/user_agents.txt, IPs from several countries, a realistic outcome mix "
            "and a few anomalies. COPY on PostgreSQL, bulk_create on SQLite. Never in production.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--tenants", type=int, default=10,
                            help="tenants to spread the events over (default 10)")
        parser.add_argument("--people", type=int, default=1000,
                            help="active people in total, Zipf across tenants (default 1,000)")
        parser.add_argument("--events", type=int, default=100_000,
                            help="sign-in events in total (default 100,000)")
        parser.add_argument("--days", type=int, default=60,
                            help="days of history, ending yesterday (default 60)")
        parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
        parser.add_argument("--tenant-slug-prefix", default="synthetic",
                            help="tenants are <prefix>-001, <prefix>-002, …; existing ones are "
                                 "reused with their people (default synthetic)")
        parser.add_argument("--existing", action="store_true",
                            help="use the tenants already named <prefix>-NNN and their people; "
                                 "create nothing")
        parser.add_argument("--no-anomalies", action="store_true",
                            help="leave out the planted brute force, spray and new country")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["tenants"] < 1 or options["days"] < 1 or options["events"] < 0:
            raise CommandError("--tenants and --days must be at least 1, --events not negative")
        prefix = options["tenant_slug_prefix"]
        if options["existing"]:
            tenants = list(Tenant.objects.filter(slug__startswith=f"{prefix}-").order_by("slug")
                           [: options["tenants"]])
            if not tenants:
                raise CommandError(f"no tenants named {prefix}-NNN")
            people = None
        else:
            tenants = tenants_create(count=options["tenants"], prefix=prefix)
            people = options["people"]
        total = options["events"]
        step = max(total // 10, 1)
        reported = [0]

        def progress(written: int) -> None:
            if written - reported[0] >= step:
                reported[0] = written
                self.stdout.write(f"  {written:,} / {total:,} events", ending="\n")

        result = activity_generate(tenants=tenants, people=people, events=total,
                                   days=options["days"], seed=options["seed"],
                                   anomalies=not options["no_anomalies"], progress=progress)
        how = "COPY" if connection.vendor == "postgresql" else "bulk_create"
        self.stdout.write(self.style.SUCCESS(
            f"{result.events:,} events for {len(result.tenants)} tenants and {result.people:,} "
            f"people in {result.seconds:.1f} s: {result.rate:,.0f} rows/s ({how})"
        ))
