from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from tenants.demo import demo_seed


class Command(BaseCommand):
    help = "Seed the demo tenants Acme and Globex (DEBUG only)."

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.DEBUG:
            raise CommandError("seed_demo refuses to run with DEBUG off: it sets known passwords.")
        logins = demo_seed(password=settings.DEMO_PASSWORD)
        self.stdout.write(self.style.SUCCESS("Demo ready. Sign in at /signin/ with:"))
        for email, role in logins:
            if email.split("@")[0] in {"owner", "admin", "auditor", "helpdesk", "alice"}:
                self.stdout.write(f"  {email:28} {role:9} password: {settings.DEMO_PASSWORD}")
        self.stdout.write("  (every demo person uses the same password: MAILADMIN_DEMO_PASSWORD)")
