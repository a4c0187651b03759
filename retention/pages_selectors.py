"""What the retention pages read beyond ``retention.selectors``."""

from __future__ import annotations

from django.db.models import QuerySet

from accounts.models import User
from tenants.models import Tenant


def hold_people(*, tenant: Tenant) -> QuerySet[User]:
    """The people a legal hold may name: the tenant's own, everyone but operators."""
    return (User.objects.for_tenant(tenant).only("id", "email", "display_name", "status")
            .order_by("email"))
