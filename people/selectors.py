from __future__ import annotations

from django.db.models import Count, QuerySet
from django.utils import timezone

from accounts.models import User
from tenants.access import get_for_tenant_or_404
from tenants.models import Invitation, MailDomain, Tenant
from tenants.roles import Role


def person_get(*, tenant: Tenant, pk: object) -> User:
    return get_for_tenant_or_404(User.objects.all(), tenant=tenant, pk=pk)


def people_counts(*, tenant: Tenant) -> dict[str, dict[str, int]]:
    """People by role and by status, for the dashboard (one query)."""
    rows = (
        User.objects.for_tenant(tenant).values("role", "status")
        .annotate(n=Count("id")).order_by()
    )
    by_role = {role: 0 for role in Role.values}
    by_status = {status: 0 for status in User.Status.values}
    for row in rows:
        by_role[row["role"]] += row["n"]
        by_status[row["status"]] += row["n"]
    return {"by_role": by_role, "by_status": by_status}


def invitations_pending(*, tenant: Tenant) -> QuerySet[Invitation]:
    return (
        Invitation.objects.for_tenant(tenant)
        .filter(accepted_at__isnull=True, revoked_at__isnull=True, expires_at__gt=timezone.now())
        .select_related("user")
    )


def invitation_latest_for(*, tenant: Tenant, person: User) -> Invitation | None:
    return Invitation.objects.for_tenant(tenant).filter(user=person).order_by("-created_at").first()


def mail_domains_list(*, tenant: Tenant) -> QuerySet[MailDomain]:
    return MailDomain.objects.for_tenant(tenant)
