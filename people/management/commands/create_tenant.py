from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from people.services import tenant_create


class Command(BaseCommand):
    help = "Create a tenant with one mail domain and invite its first owner."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--name", required=True)
        parser.add_argument("--domain", required=True)
        parser.add_argument("--owner", required=True, help="e-mail address of the first owner")
        parser.add_argument("--timezone", default="UTC")
        parser.add_argument("--language", default="en")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            tenant, issued = tenant_create(
                name=options["name"], domain=options["domain"], owner_email=options["owner"],
                timezone_name=options["timezone"], language=options["language"],
            )
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from None
        self.stdout.write(self.style.SUCCESS(f"Created tenant {tenant.name} ({tenant.slug})."))
        self.stdout.write(f"Invitation for {issued.invitation.user.email} (also e-mailed):")
        self.stdout.write(issued.url)
