"""What the retention sweep purges of people imports (registered from ``PeopleConfig.ready``).

An import holds personal data from the uploaded file: the file itself (``ImportChunk``, until
apply deletes it) and one ``ImportRow`` per line (address, name, role, language, time zone). A
job is due once it ended (``finished_at``; an import never finished: when it was uploaded)
before the tenant's purge day, unless a worker holds it right now. Its rows and chunks go first,
then the job. A legal hold on a person keeps, whole, every import that person uploaded or
applied and every import with a line for their address. The deletion itself is retention's.
"""

from __future__ import annotations

from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy as _

from people.models import ImportChunk, ImportJob, ImportRow
from retention.registry import DueRows, PurgedTable, PurgeScope, purged_table_register


def _due_jobs(scope: PurgeScope) -> QuerySet[ImportJob]:
    ended_before = (Q(finished_at__lt=scope.cutoff)
                    | Q(finished_at__isnull=True, created_at__lt=scope.cutoff))
    return (ImportJob.objects.for_tenant(scope.tenant).filter(ended_before)
            .exclude(lease_until__gt=scope.now).order_by())


def _held_jobs(scope: PurgeScope) -> Q:
    ids, emails = sorted(scope.holds.person_ids), sorted(scope.holds.emails)
    with_their_line = (ImportRow.objects.for_tenant(scope.tenant)
                       .filter(email__in=emails).values("job_id"))
    return Q(created_by_id__in=ids) | Q(applied_by_id__in=ids) | Q(pk__in=with_their_line)


def _jobs(scope: PurgeScope) -> DueRows:
    return _due_jobs(scope), _held_jobs(scope)


def _of_due_jobs(scope: PurgeScope) -> tuple[QuerySet[ImportJob], Q]:
    due = _due_jobs(scope)
    return due, Q(job_id__in=due.filter(_held_jobs(scope)).values("pk"))


def _rows(scope: PurgeScope) -> DueRows:
    jobs, keep = _of_due_jobs(scope)
    return ImportRow.objects.for_tenant(scope.tenant).filter(job_id__in=jobs.values("pk")), keep


def _chunks(scope: PurgeScope) -> DueRows:
    jobs, keep = _of_due_jobs(scope)
    return ImportChunk.objects.for_tenant(scope.tenant).filter(job_id__in=jobs.values("pk")), keep


def register() -> None:
    """Rows and chunks before their jobs: a job goes once nothing points at it."""
    purged_table_register(PurgedTable(table=ImportRow._meta.db_table, label=_("People import rows"),
                                      due=_rows))
    purged_table_register(PurgedTable(table=ImportChunk._meta.db_table,
                                      label=_("Uploaded import files"), due=_chunks))
    purged_table_register(PurgedTable(
        table=ImportJob._meta.db_table, label=_("People imports"), due=_jobs,
        dependents=((ImportRow, "job_id"), (ImportChunk, "job_id"))))
