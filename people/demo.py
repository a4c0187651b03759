"""The demo tenants used by ``seed_demo`` (embedded default and browser tests)."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from accounts.models import User
from tenants.models import MailDomain, Tenant
from tenants.roles import Role


@dataclass(frozen=True)
class DemoTenant:
    name: str
    slug: str
    domain: str
    timezone: str
    language: str


DEMO_TENANTS = [
    DemoTenant("Acme", "acme", "acme.example", "Asia/Shanghai", "en"),
    DemoTenant("Globex", "globex", "globex.example", "Europe/Berlin", "en"),
]

DEMO_PEOPLE = [
    ("owner", "Olivia Owner", Role.OWNER),
    ("admin", "Adam Admin", Role.ADMIN),
    ("auditor", "Aude Auditor", Role.AUDITOR),
    ("helpdesk", "Hal Helpdesk", Role.HELPDESK),
    ("alice", "Alice Liddell", Role.MEMBER),
    ("bob", "Bob Builder", Role.MEMBER),
    ("carol", "Carol Chen", Role.MEMBER),
    ("dave", "Dave Du", Role.MEMBER),
    ("erin", "Erin Evans", Role.MEMBER),
    ("frank", "Frank Fang", Role.MEMBER),
]


def demo_seed(*, password: str) -> list[tuple[str, str]]:
    """Create (or refresh) the demo tenants and people; returns (email, role) of each."""
    logins: list[tuple[str, str]] = []
    with transaction.atomic():
        for spec in DEMO_TENANTS:
            tenant, _ = Tenant.objects.update_or_create(
                slug=spec.slug,
                defaults={"name": spec.name, "timezone": spec.timezone, "language": spec.language},
            )
            MailDomain.objects.get_or_create(domain=spec.domain, defaults={"tenant": tenant})
            for local, name, role in DEMO_PEOPLE:
                email = f"{local}@{spec.domain}"
                user = User.objects.filter(email=email).first() or User(email=email)
                user.tenant = tenant
                user.display_name = name
                user.role = role
                user.status = User.Status.ACTIVE
                user.set_password(password)
                user.date_joined = user.date_joined or timezone.now()
                user.save()
                logins.append((email, role))
    return logins
