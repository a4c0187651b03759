"""People import pages: upload with the columns documented, the preview (progress while it
runs), apply, discard, and the template file. Thin: each calls one service or selector."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST, require_safe

from accounts.requests import ConsoleRequest
from people.imports import parse, selectors, services
from people.imports.forms import ImportApplyForm, ImportRowsFilterForm, ImportUploadForm
from people.models import ImportJob, ImportRow
from tenants.access import requires
from tenants.roles import Cap, Role

JOB_ERRORS: dict[str, object] = {
    **parse.FILE_ERRORS,
    "row_failed": gettext_lazy("Nothing was applied: line %(line)s (%(email)s) could not be "
                               "applied: %(message)s"),
    "actor_gone": gettext_lazy("The person who started this import can no longer import people."),
    "attempts": gettext_lazy("This import stopped after several attempts. Upload the file again."),
}
CHANGE_LABELS: dict[str, object] = {
    "display_name": gettext_lazy("name"), "role": gettext_lazy("role"),
    "language": gettext_lazy("language"), "timezone": gettext_lazy("time zone"),
}
ROW_PAGE_SIZE = 100


def _error_text(exc: ValidationError) -> str:
    return " ".join(exc.messages)


def _value_label(field: str, value: str) -> str:
    if field == "role" and value in Role.values:
        return str(Role(value).label)
    return value or "—"


def _row_details(row: ImportRow) -> str:
    if row.outcome == ImportRow.Outcome.ERROR:
        return parse.error_text(parse.ROW_ERRORS, row.error_code, row.error_params)
    if row.outcome == ImportRow.Outcome.UPDATE:
        return "; ".join(
            f"{CHANGE_LABELS.get(field, field)}: {_value_label(field, before)} → {_value_label(field, after)}"
            for field, (before, after) in row.changes.items()
        )
    if row.outcome == ImportRow.Outcome.CREATE:
        parts = [row.display_name, _value_label("role", row.role or Role.MEMBER), row.language,
                 row.timezone]
        return " · ".join(part for part in parts if part)
    return ""


@requires(Cap.PEOPLE_INVITE)
def import_upload_view(request: ConsoleRequest) -> HttpResponse:
    form = ImportUploadForm(request.POST, request.FILES) if request.method == "POST" else ImportUploadForm()
    if form.is_bound and form.is_valid():
        try:
            job = services.import_job_create(tenant=request.tenant, actor=request.user,
                                             upload=form.cleaned_data["file"])
        except ValidationError as exc:
            form.add_error("file", _error_text(exc))
        else:
            return redirect("people_import_job", pk=job.pk)
    return render(request, "people/imports/upload.html", {
        "form": form,
        "jobs": selectors.import_jobs_list(tenant=request.tenant),
        "max_rows": settings.PEOPLE_IMPORT_MAX_ROWS,
        "max_mb": settings.PEOPLE_IMPORT_MAX_BYTES // (1024 * 1024),
        "columns": parse.COLUMNS,
    })


@require_safe
@requires(Cap.PEOPLE_INVITE)
def import_template_view(request: ConsoleRequest) -> HttpResponse:
    # With a byte-order mark, so that Excel opens the Chinese example as UTF-8.
    response = HttpResponse(("\ufeff" + parse.template_csv()).encode("utf-8"),
                            content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="people-import-template.csv"'
    return response


@require_safe
@requires(Cap.PEOPLE_INVITE)
def import_job_view(request: ConsoleRequest, pk: int) -> HttpResponse:
    job = selectors.import_job_get(tenant=request.tenant, pk=pk)
    filters = ImportRowsFilterForm(request.GET or None)
    outcome, after = "", 0
    if filters.is_valid():
        outcome = filters.cleaned_data.get("outcome") or ""
        after = filters.cleaned_data.get("after") or 0
    running = job.status in services.RUNNABLE
    page = selectors.import_rows_page(tenant=request.tenant, job=job, outcome=outcome, after=after,
                                      size=ROW_PAGE_SIZE)
    if job.status in (ImportJob.Status.APPLY_QUEUED, ImportJob.Status.APPLYING,
                      ImportJob.Status.APPLIED):
        done, total = services.import_job_progress(job=job), sum(
            job.counts.get(o, 0) for o in services.ACTIONABLE)
    else:
        done, total = job.previewed_rows, job.total_rows
    context: dict[str, Any] = {
        "job": job,
        "running": running,
        "done": done,
        "total": total,
        "percent": int(done * 100 / total) if total else (100 if not running else 0),
        "totals": [(value, label, job.counts.get(value, 0)) for value, label in ImportRow.Outcome.choices],
        "applied_totals": [(label, job.applied_counts.get(value, 0))
                           for value, label in ImportRow.Outcome.choices if value in services.ACTIONABLE]
        + [(_("Failed at apply"), job.applied_counts.get("failed", 0))],
        "error": parse.error_text(JOB_ERRORS, job.error_code, job.error_params) if job.error_code else "",
        "rows": [(row, _row_details(row)) for row in page.rows],
        "next_after": page.next_after,
        "outcome": outcome,
        "filters": filters,
        "apply_form": ImportApplyForm() if job.status == ImportJob.Status.PREVIEWED else None,
        "has_errors": bool(job.counts.get(ImportRow.Outcome.ERROR)),
        "can_discard": job.status in (ImportJob.Status.PREVIEWED, ImportJob.Status.FAILED)
        and job.applied_by_id is None,
    }
    return render(request, "people/imports/job.html", context)


@require_POST
@requires(Cap.PEOPLE_INVITE)
def import_apply_view(request: ConsoleRequest, pk: int) -> HttpResponse:
    job = selectors.import_job_get(tenant=request.tenant, pk=pk)
    form = ImportApplyForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose how to apply the file."))
        return redirect("people_import_job", pk=job.pk)
    try:
        services.import_job_apply(tenant=request.tenant, actor=request.user, job=job,
                                  mode=form.cleaned_data["mode"])
    except ValidationError as exc:
        messages.error(request, _error_text(exc))
    else:
        messages.success(request, _("The import of %(file)s is being applied.") % {"file": job.filename})
    return redirect("people_import_job", pk=job.pk)


@require_POST
@requires(Cap.PEOPLE_INVITE)
def import_discard_view(request: ConsoleRequest, pk: int) -> HttpResponse:
    job = selectors.import_job_get(tenant=request.tenant, pk=pk)
    try:
        services.import_job_discard(tenant=request.tenant, actor=request.user, job=job)
    except ValidationError as exc:
        messages.error(request, _error_text(exc))
        return redirect("people_import_job", pk=job.pk)
    messages.success(request, _("The import of %(file)s was discarded; nothing was changed.")
                     % {"file": job.filename})
    return redirect("people_import")
