"""``manage.py sweep_retention [--tenant SLUG] [--dry-run]``: the nightly sweep, by hand."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from retention.selectors import table_label
from retention.sweep import retention_sweep
from tenants.models import Tenant


class Command(BaseCommand):
    help = ("Roll up and purge the record past each tenant's retention, and write receipts. "
            "--dry-run only counts what would go.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--tenant", metavar="SLUG", help="only this tenant (no partition drops)")
        parser.add_argument("--dry-run", action="store_true", help="count, change nothing")
        parser.add_argument("--budget", type=float, metavar="SECONDS",
                            help="stop after this long (default RETENTION_SWEEP_BUDGET_SECONDS)")
        parser.add_argument("--no-progress", action="store_true", help="no progress bar")

    def handle(self, *args: Any, **options: Any) -> None:
        tenant = None
        if options["tenant"]:
            tenant = Tenant.objects.filter(slug=options["tenant"]).first()
            if tenant is None:
                raise CommandError(f"No tenant with the slug {options['tenant']!r}.")
        quiet = options["no_progress"] or options["verbosity"] == 0
        with tqdm(desc="days rolled up", unit="day", disable=quiet, file=self.stderr) as days, \
                tqdm(desc="rows purged", unit="row", unit_scale=True, disable=quiet,
                     file=self.stderr) as rows:
            bars = {"day": days, "rows": rows}
            run = retention_sweep(tenant=tenant, dry_run=options["dry_run"],
                                  budget_seconds=options["budget"],
                                  progress=lambda kind, amount: bars[kind].update(amount))
        self._summary(run)
        if run.status == run.Status.SKIPPED:
            raise CommandError("Another sweep is running; nothing was done.")

    def _summary(self, run: Any) -> None:
        write = self.stdout.write
        verb = "would purge" if run.dry_run else "purged"
        write(f"Sweep {run.pk}: {run.get_status_display()} "
              f"({(run.finished_at - run.started_at).total_seconds():.1f} s)")
        if run.partitions_dropped:
            write(f"  partitions dropped: {len(run.partitions_dropped)}")
        for receipt in run.receipts.select_related("tenant").order_by("tenant__slug"):
            purged = ", ".join(f"{table_label(t)} {n:,}" for t, n in receipt.rows_purged.items())
            write(f"  {receipt.tenant.slug}: {receipt.days_rolled_up} days rolled up; {verb} "
                  f"{receipt.total_purged:,} rows{f' ({purged})' if purged else ''}; "
                  f"{receipt.partitions_dropped} partitions; {receipt.rows_held:,} held")
            for error in receipt.errors:
                write(f"    error: {error}")
        for table, count in (run.rows_purged or {}).items():
            if count:
                write(f"  platform: {verb} {count:,} rows of {table}")
        if run.error:
            write(f"  error: {run.error}")
