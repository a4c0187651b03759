from __future__ import annotations

import factory
from django.contrib.auth.hashers import make_password

from accounts.models import User
from tenants.models import MailDomain, Tenant
from tenants.roles import Role

PASSWORD = "Correct-horse-battery-9"
_HASH: dict[str, str] = {}


def _hashed(password: str) -> str:
    # Argon2 is deliberately slow; hash the shared test password once per session.
    if password not in _HASH:
        _HASH[password] = make_password(password)
    return _HASH[password]


class TenantFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Tenant
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"Company {n}")
    slug = factory.Sequence(lambda n: f"company-{n}")
    timezone = "UTC"

    @factory.post_generation
    def domain(self, create: bool, extracted: str | None, **kwargs: object) -> None:
        if create:
            MailDomain.objects.create(tenant=self, domain=extracted or f"{self.slug}.example")


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    tenant = factory.SubFactory(TenantFactory)
    email = factory.LazyAttributeSequence(
        lambda o, n: f"person{n}@{o.tenant.maildomain_set.first().domain}"
    )
    display_name = factory.Sequence(lambda n: f"Person {n}")
    role = Role.MEMBER
    status = User.Status.ACTIVE
    password = factory.LazyFunction(lambda: _hashed(PASSWORD))
