"""Helpers of the import tests: a file as an upload, a job previewed and applied in process."""

from __future__ import annotations

from django.core.files.uploadedfile import SimpleUploadedFile

from accounts.models import User
from people.imports import services
from people.models import ImportJob, ImportRow
from tenants.models import Tenant


def upload(text: str | bytes, *, encoding: str = "utf-8", name: str = "people.csv") -> SimpleUploadedFile:
    data = text.encode(encoding) if isinstance(text, str) else text
    return SimpleUploadedFile(name, data, content_type="text/csv")


def previewed(tenant: Tenant, actor: User, text: str | bytes, **kwargs: str) -> ImportJob:
    """Upload and preview (the worker's run, here in process)."""
    job = services.import_job_create(tenant=tenant, actor=actor, upload=upload(text, **kwargs))
    services.import_job_run(tenant_id=tenant.pk, job_id=job.pk)
    job.refresh_from_db()
    return job


def applied(tenant: Tenant, actor: User, job: ImportJob, mode: str = ImportJob.Mode.VALID_ROWS) -> ImportJob:
    services.import_job_apply(tenant=tenant, actor=actor, job=job, mode=mode)
    services.import_job_run(tenant_id=tenant.pk, job_id=job.pk)
    job.refresh_from_db()
    return job


def outcomes(job: ImportJob) -> list[tuple[str, str, str]]:
    """(e-mail, outcome, error code) of each row, in file order."""
    return [
        (row.email, row.outcome, row.error_code)
        for row in ImportRow.objects.for_tenant(job.tenant).filter(job=job).order_by("id")
    ]
