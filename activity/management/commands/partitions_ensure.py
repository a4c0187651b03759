from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from activity.partitions import DAYS_AHEAD_DEFAULT, partitions_ensure


class Command(BaseCommand):
    help = ("Create the missing daily partitions of the sign-in and export record, today through "
            "--days-ahead days (PostgreSQL; nothing to do on SQLite). Idempotent.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--days-ahead", type=int, default=DAYS_AHEAD_DEFAULT,
                            help=f"days after today to cover (default {DAYS_AHEAD_DEFAULT})")
        parser.add_argument("--database", default="default", help="database alias")

    def handle(self, *args: Any, days_ahead: int, database: str, **options: Any) -> None:
        created = partitions_ensure(days_ahead=days_ahead, using=database)
        for name in created:
            self.stdout.write(f"created {name}")
        self.stdout.write(self.style.SUCCESS(f"{len(created)} partition(s) created."))
