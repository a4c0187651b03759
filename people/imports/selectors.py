"""Reading imports: the tenant's recent jobs, one job, a keyset page of its rows."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import QuerySet

from people.models import ImportJob, ImportRow
from tenants.access import get_for_tenant_or_404
from tenants.models import Tenant


def import_jobs_list(*, tenant: Tenant, limit: int = 10) -> QuerySet[ImportJob]:
    return ImportJob.objects.for_tenant(tenant).select_related("created_by")[:limit]


def import_job_get(*, tenant: Tenant, pk: object) -> ImportJob:
    return get_for_tenant_or_404(ImportJob.objects.select_related("created_by", "applied_by"),
                                 tenant=tenant, pk=pk)


@dataclass(frozen=True)
class RowPage:
    rows: list[ImportRow]
    next_after: int | None  # the cursor of the next page, None on the last one


def import_rows_page(*, tenant: Tenant, job: ImportJob, outcome: str = "", after: int = 0,
                     size: int = 100) -> RowPage:
    """Rows in file order after the row id ``after`` (keyset: no OFFSET, no COUNT)."""
    rows = ImportRow.objects.for_tenant(tenant).filter(job=job, id__gt=after)
    if outcome:
        rows = rows.filter(outcome=outcome)
    page = list(rows.order_by("id")[: size + 1])
    more = len(page) > size
    page = page[:size]
    return RowPage(rows=page, next_after=page[-1].pk if more else None)
