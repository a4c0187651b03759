from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from people.demo import DEMO_TENANTS, demo_history_seed, demo_seed
from tenants.models import Tenant


class Command(BaseCommand):
    help = "Seed the demo tenants Acme and Globex (DEBUG only), with 60 days of sign-in history."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--no-history", action="store_true",
                            help="people only: no synthetic sign-in history")

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.DEBUG:
            raise CommandError("seed_demo refuses to run with DEBUG off: it sets known passwords.")
        try:
            logins = demo_seed(password=settings.DEMO_PASSWORD)
        except ValidationError as exc:
            raise CommandError("MAILADMIN_DEMO_PASSWORD breaks a demo person's password policy: "
                               + " ".join(exc.messages)) from None
        if not options["no_history"]:
            tenants = list(Tenant.objects.filter(slug__in=[t.slug for t in DEMO_TENANTS]))
            added = demo_history_seed(tenants=tenants, days=60)
            if added:
                self.stdout.write(f"Added {added:,} sign-in events of history (60 days).")
        self.stdout.write(self.style.SUCCESS("Demo ready. Sign in at /signin/ with:"))
        for email, role in logins:
            if email.split("@")[0] in {"owner", "admin", "auditor", "helpdesk", "alice"}:
                self.stdout.write(f"  {email:28} {role:9} password: {settings.DEMO_PASSWORD}")
        self.stdout.write("  (every demo person uses the same password: MAILADMIN_DEMO_PASSWORD)")
