"""CSV import of people: upload, dry-run preview, apply (issue 12).

Design: a job's state machine (``ImportJob.Status``) is driven by one worker at a time, which
owns the job under a lease taken with ``SELECT … FOR UPDATE SKIP LOCKED``:

    preview_queued → previewing → previewed → apply_queued → applying → applied
                                └─ failed (whole-file error)        └─ failed (all or nothing)

- **Upload** (``import_job_create``, on the request): the file is read once per encoding tried
  (``parse.inspect``) for its whole-file errors and row count, then stored as 256 KB chunks.
- **Preview** (worker): rows are read from the chunks one at a time, judged in batches of
  ``PEOPLE_IMPORT_BATCH_ROWS`` against the tenant's people with a constant number of queries per
  batch, and written as ``ImportRow`` outcomes together with the job's progress in one
  transaction. A killed worker's successor skips the rows already committed. Duplicates are
  found against the rows already written (an index), so memory never grows with the file.
- **Apply** (worker) goes through the people services (``person_invite`` sends the invitation
  through the outbox in the same transaction, ``person_change_role``, ``person_suspend``, and
  offboarding), which write the audit entries; each row is marked ``applied_at`` in the
  transaction that changed the person, so a rerun after a crash does nothing twice. "Valid rows"
  commits batch by batch and resumes after the last one; "all or nothing" is refused while the
  preview shows an error, and runs as one transaction: a row that fails at apply time (someone
  changed that person since the preview) rolls everything back and the job says which row.
  One more audit entry records the import itself.

In the embedded default (eager Celery) the work runs in-process when the request's transaction
commits; in production the worker picks due jobs up from beat's ``people.imports_run_due``.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from activity.services import audit_entry_record
from people import services as people_services
from people.imports import parse
from people.models import ImportChunk, ImportJob, ImportRow
from people.offboarding.services import person_offboard
from tenants.models import MailDomain, Tenant
from tenants.roles import Cap, Role, can_manage, role_has

CHUNK_BYTES = 256 * 1024
LEASE = timedelta(minutes=5)
MAX_ATTEMPTS = 5
# A run stops well inside the task's hard limit (mailadmin.celery.TASK_HARD_LIMIT, 30 min); the
# next run resumes the job where this one committed.
RUN_BUDGET_SECONDS = 20 * 60

Status = ImportJob.Status
Outcome = ImportRow.Outcome
RUNNABLE = (Status.PREVIEW_QUEUED, Status.PREVIEWING, Status.APPLY_QUEUED, Status.APPLYING)
ACTIONABLE = (Outcome.CREATE, Outcome.UPDATE, Outcome.SUSPEND, Outcome.OFFBOARD)


def _batch_rows() -> int:
    return max(1, int(settings.PEOPLE_IMPORT_BATCH_ROWS))


def _check_actor(tenant: Tenant, actor: User) -> None:
    if actor.tenant_id != tenant.pk or not role_has(actor.role, Cap.PEOPLE_INVITE):
        raise ValidationError(_("You are not allowed to import people."), code="capability")


def _run_on_commit(job: ImportJob) -> None:
    if settings.PEOPLE_IMPORT_RUN_ON_COMMIT:
        tenant_id, pk = job.tenant_id, job.pk
        transaction.on_commit(lambda: import_job_run(tenant_id=tenant_id, job_id=pk))


# --- Upload ---------------------------------------------------------------------------------------


def import_job_create(*, tenant: Tenant, actor: User, upload: UploadedFile) -> ImportJob:
    """Store an uploaded CSV of people and queue its dry-run preview.

    A file that cannot be imported at all (encoding, columns, size, too many rows) raises a
    ``ValidationError`` with the reason, and nothing is stored.
    """
    _check_actor(tenant, actor)
    max_bytes = int(settings.PEOPLE_IMPORT_MAX_BYTES)
    if upload.size is None or upload.size > max_bytes:
        raise ValidationError(parse.error_text(parse.FILE_ERRORS, "too_large",
                                               {"max": max_bytes // (1024 * 1024)}), code="too_large")
    if not upload.size:
        raise ValidationError(parse.error_text(parse.FILE_ERRORS, "empty", {}), code="empty")

    def chunks() -> Iterator[bytes]:
        upload.seek(0)
        return upload.chunks(CHUNK_BYTES)

    try:
        info = parse.inspect(chunks, max_rows=int(settings.PEOPLE_IMPORT_MAX_ROWS))
    except parse.ImportFileError as exc:
        raise ValidationError(exc.message, code=exc.code) from None
    with transaction.atomic():
        owners = User.objects.for_tenant(tenant).filter(role=Role.OWNER, status=User.Status.ACTIVE)
        job = ImportJob.objects.create(
            tenant=tenant, created_by=actor, filename=(upload.name or "people.csv")[:255],
            size=upload.size, encoding=info.encoding, delimiter=info.delimiter,
            columns=info.columns, total_rows=info.rows, owners_left=owners.count(),
        )
        for seq, data in enumerate(chunks()):
            ImportChunk.objects.create(tenant=tenant, job=job, seq=seq, data=data)
        _run_on_commit(job)
    return job


# --- Running jobs ---------------------------------------------------------------------------------


def _claim(*, tenant_id: int | None, job_id: int | None) -> ImportJob | None:
    now = timezone.now()
    with transaction.atomic():
        jobs = (
            ImportJob.objects.select_for_update(skip_locked=True)
            .filter(status__in=RUNNABLE).filter(Q(lease_until__isnull=True) | Q(lease_until__lt=now))
        )
        if tenant_id is not None and job_id is not None:
            jobs = jobs.filter(tenant_id=tenant_id, pk=job_id)
        job = jobs.order_by("created_at", "id").first()
        if job is None:
            return None
        job.attempts += 1
        if job.attempts > MAX_ATTEMPTS:
            job.status, job.error_code, job.lease_until = Status.FAILED, "attempts", None
            job.finished_at = now
            job.save(update_fields=["status", "error_code", "lease_until", "attempts", "finished_at"])
            return None
        preview = job.status in (Status.PREVIEW_QUEUED, Status.PREVIEWING)
        job.status = Status.PREVIEWING if preview else Status.APPLYING
        job.lease_until = now + LEASE
        job.save(update_fields=["status", "lease_until", "attempts"])
    return job


def import_job_run(*, tenant_id: int, job_id: int) -> None:
    """Run one job now if it is due (the embedded default, right after the request commits)."""
    job = _claim(tenant_id=tenant_id, job_id=job_id)
    if job is not None:
        _run(job, deadline=time.monotonic() + RUN_BUDGET_SECONDS)


def import_jobs_run_due() -> int:
    """Beat: run every due job (queued, or whose worker's lease ran out); returns jobs run."""
    deadline = time.monotonic() + RUN_BUDGET_SECONDS
    ran = 0
    while time.monotonic() < deadline:
        job = _claim(tenant_id=None, job_id=None)
        if job is None:
            break
        _run(job, deadline=deadline)
        ran += 1
    return ran


def _run(job: ImportJob, *, deadline: float) -> None:
    if job.status == Status.PREVIEWING:
        _preview(job, deadline=deadline)
    else:
        _apply(job, deadline=deadline)


class _Stop(Exception):
    """The job changed under this worker (discarded, taken over): stop without writing."""


def _locked_job(job: ImportJob, status: str) -> ImportJob:
    locked = ImportJob.objects.select_for_update().filter(tenant=job.tenant_id, pk=job.pk).first()
    if locked is None or locked.status != status:
        raise _Stop
    locked.tenant = job.tenant  # loaded once per run, not once per batch
    return locked


def _release(job: ImportJob) -> None:
    ImportJob.objects.filter(tenant=job.tenant_id, pk=job.pk, status__in=RUNNABLE).update(
        lease_until=None)


# --- Preview --------------------------------------------------------------------------------------


def _chunks(job: ImportJob) -> Iterator[bytes]:
    # One chunk per query: nothing but the chunk being read is in memory.
    seq = 0
    while True:
        data = (ImportChunk.objects.filter(tenant=job.tenant_id, job=job, seq=seq)
                .values_list("data", flat=True).first())
        if data is None:
            return
        yield bytes(data)
        seq += 1


class _Judge:
    """Decides each row's outcome against the tenant's people (one batch at a time)."""

    def __init__(self, job: ImportJob, actor: User) -> None:
        self.job = job
        self.tenant = job.tenant
        self.actor = actor
        self.domains = set(MailDomain.objects.for_tenant(self.tenant).values_list("domain", flat=True))
        self.owners_left = job.owners_left

    def can(self, cap: Cap) -> bool:
        return role_has(self.actor.role, cap)

    def batch(self, batch: list[parse.RowValues]) -> list[ImportRow]:
        emails = {values.email for values in batch if not values.error_code}
        people = {
            person.email: person for person in User.objects.for_tenant(self.tenant)
            .filter(email__in=emails)
            .only("pk", "email", "display_name", "role", "status", "language", "timezone")
        }
        # Addresses are unique platform-wide, as for an invitation: another company's account.
        elsewhere = set(
            User.objects.filter(email__in=emails - people.keys()).exclude(tenant=self.tenant)
            .values_list("email", flat=True)
        ) if emails - people.keys() else set()
        seen: dict[str, int] = dict(
            ImportRow.objects.for_tenant(self.tenant).filter(job=self.job, email__in=emails)
            .values_list("email", "line")
        )
        rows = []
        for values in batch:
            row = self.row(values, people.get(values.email), values.email in elsewhere, seen)
            if row.outcome != Outcome.ERROR or row.error_code != "duplicate":
                seen.setdefault(values.email, values.line)
            rows.append(row)
        return rows

    def row(self, values: parse.RowValues, person: User | None, elsewhere: bool,
            seen: dict[str, int]) -> ImportRow:
        row = ImportRow(tenant=self.tenant, job=self.job, line=values.line, email=values.email,
                        display_name=values.name, role=values.role, language=values.language,
                        timezone=values.timezone)
        code, params = values.error_code, dict(values.error_params)
        if not code:
            if values.domain not in self.domains:
                code, params = "foreign_domain", {"domain": values.domain}
            elif elsewhere:
                code, params = "other_tenant", {"email": values.email}
            elif values.email in seen:
                code, params = "duplicate", {"email": values.email, "line": seen[values.email]}
            else:
                outcome, changes, code = self.decide(values, person)
                params = {"email": values.email} if code else {}
                if not code:
                    row.outcome, row.changes = outcome, changes
                    return row
        row.outcome, row.error_code, row.error_params = Outcome.ERROR, code, params
        return row

    def decide(self, values: parse.RowValues, person: User | None) -> tuple[str, dict[str, Any], str]:
        """(outcome, changes, error code) of a row whose values are valid."""
        action = values.action
        if person is None:
            if action in ("update", "suspend", "offboard"):
                return "", {}, "not_found"
            role = values.role or Role.MEMBER
            if not self.can(Cap.PEOPLE_INVITE):
                return "", {}, "not_allowed"
            if role == Role.OWNER and not self.can(Cap.PEOPLE_MAKE_OWNER):
                return "", {}, "owner_only"
            return Outcome.CREATE, {}, ""
        if action == "create":
            return "", {}, "exists"
        if person.status == User.Status.OFFBOARDED:
            return (Outcome.UNCHANGED, {}, "") if action == "offboard" else ("", {}, "offboarded")
        active_owner = person.role == Role.OWNER and person.status == User.Status.ACTIVE
        if action in ("suspend", "offboard"):
            cap = Cap.PEOPLE_SUSPEND if action == "suspend" else Cap.PEOPLE_OFFBOARD
            if not self.can(cap):
                return "", {}, "not_allowed"
            if person.pk != self.actor.pk and not can_manage(self.actor.role, person.role):
                return "", {}, "owner_only" if person.role == Role.OWNER else "rank"
            # Before "yourself": the sole owner is told why, not only that it is them.
            if active_owner and self.owners_left <= 1:
                return "", {}, "last_owner"
            if person.pk == self.actor.pk:
                return "", {}, "self"
            if action == "suspend" and person.status == User.Status.SUSPENDED:
                return Outcome.UNCHANGED, {}, ""
            if action == "suspend" and person.status != User.Status.ACTIVE:
                return "", {}, "not_active"
            if active_owner:
                self.owners_left -= 1
            return (Outcome.SUSPEND if action == "suspend" else Outcome.OFFBOARD), {}, ""
        changes: dict[str, Any] = {}
        for name, value, before in (
            ("display_name", values.name, person.display_name), ("role", values.role, person.role),
            ("language", values.language, person.language), ("timezone", values.timezone, person.timezone),
        ):
            if value and value != before:
                changes[name] = [before, value]
        if not changes:
            return Outcome.UNCHANGED, {}, ""
        if person.pk != self.actor.pk and not can_manage(self.actor.role, person.role):
            return "", {}, "owner_only" if person.role == Role.OWNER else "rank"
        if "role" in changes:
            if not self.can(Cap.PEOPLE_CHANGE_ROLE):
                return "", {}, "not_allowed"
            if active_owner and self.owners_left <= 1:
                return "", {}, "last_owner"
            if person.pk == self.actor.pk:
                return "", {}, "self"
            if Role.OWNER in changes["role"] and not self.can(Cap.PEOPLE_MAKE_OWNER):
                return "", {}, "owner_only"
            if active_owner:
                self.owners_left -= 1
            elif values.role == Role.OWNER and person.status == User.Status.ACTIVE:
                self.owners_left += 1
        return Outcome.UPDATE, changes, ""


def _preview(job: ImportJob, *, deadline: float) -> None:
    actor = job.created_by
    if actor is None or actor.tenant_id != job.tenant_id:
        _fail(job, Status.PREVIEWING, "actor_gone")
        return
    judge = _Judge(job, actor)
    size = _batch_rows()
    skip = job.previewed_rows
    try:
        reader = parse.Reader.open(_chunks(job), job.encoding)
        batch: list[parse.RowValues] = []
        for index, raw in enumerate(reader.rows()):
            if index < skip:
                continue
            batch.append(parse.row_values(raw, reader.columns))
            if len(batch) >= size:
                _preview_batch(job, judge, batch)
                batch = []
                if time.monotonic() > deadline:
                    _release(job)
                    return
        if batch:
            _preview_batch(job, judge, batch)
    except (parse.ImportFileError, UnicodeDecodeError) as exc:
        code = exc.code if isinstance(exc, parse.ImportFileError) else "encoding"
        params = exc.params if isinstance(exc, parse.ImportFileError) else {}
        _fail(job, Status.PREVIEWING, code, params)
        return
    except _Stop:
        return
    with transaction.atomic():
        try:
            locked = _locked_job(job, Status.PREVIEWING)
        except _Stop:
            return
        locked.status, locked.lease_until, locked.finished_at = Status.PREVIEWED, None, timezone.now()
        locked.total_rows = locked.previewed_rows
        locked.save(update_fields=["status", "lease_until", "finished_at", "total_rows"])


def _preview_batch(job: ImportJob, judge: _Judge, batch: list[parse.RowValues]) -> None:
    with transaction.atomic():
        locked = _locked_job(job, Status.PREVIEWING)
        judge.owners_left = locked.owners_left
        rows = judge.batch(batch)
        ImportRow.objects.for_tenant(job.tenant).bulk_create(rows)
        counts = Counter(locked.counts)
        counts.update(row.outcome for row in rows)
        locked.counts = dict(counts)
        locked.previewed_rows += len(rows)
        locked.owners_left = judge.owners_left
        locked.lease_until = timezone.now() + LEASE
        locked.save(update_fields=["counts", "previewed_rows", "owners_left", "lease_until"])
    job.previewed_rows = locked.previewed_rows


def _fail(job: ImportJob, status: str, code: str, params: dict[str, object] | None = None) -> None:
    with transaction.atomic():
        try:
            locked = _locked_job(job, status)
        except _Stop:
            return
        locked.status, locked.error_code, locked.error_params = Status.FAILED, code, params or {}
        locked.lease_until, locked.finished_at = None, timezone.now()
        locked.save(update_fields=["status", "error_code", "error_params", "lease_until",
                                   "finished_at"])


# --- Apply ----------------------------------------------------------------------------------------


def import_job_apply(*, tenant: Tenant, actor: User, job: ImportJob, mode: str) -> ImportJob:
    """Queue a previewed job's changes; ``mode`` says what happens to the rows with errors."""
    _check_actor(tenant, actor)
    if job.tenant_id != tenant.pk:
        raise ValidationError(_("Unknown import."), code="tenant")
    if mode not in ImportJob.Mode.values:
        raise ValidationError(_("Choose how to apply the file."), code="mode")
    with transaction.atomic():
        locked = ImportJob.objects.select_for_update().get(tenant=tenant, pk=job.pk)
        if locked.status != Status.PREVIEWED:
            raise ValidationError(_("This import is not waiting to be applied."), code="status")
        if mode == ImportJob.Mode.ALL_OR_NOTHING and locked.counts.get(Outcome.ERROR):
            raise ValidationError(
                _("%(count)s rows have errors, so “apply nothing if any row has an error” would "
                  "change nothing. Correct the file and upload it again, or apply the valid rows."),
                code="has_errors", params={"count": locked.counts[Outcome.ERROR]})
        if not any(locked.counts.get(outcome) for outcome in ACTIONABLE):
            raise ValidationError(_("Nothing to apply: every row is unchanged or has an error."),
                                  code="nothing")
        locked.status, locked.mode, locked.applied_by = Status.APPLY_QUEUED, mode, actor
        locked.lease_until, locked.attempts, locked.finished_at = None, 0, None
        locked.save(update_fields=["status", "mode", "applied_by", "lease_until", "attempts",
                                   "finished_at"])
        _run_on_commit(locked)
    return locked


def import_job_discard(*, tenant: Tenant, actor: User, job: ImportJob) -> ImportJob:
    """Drop a preview that will not be applied; its stored file is deleted."""
    _check_actor(tenant, actor)
    if job.tenant_id != tenant.pk:
        raise ValidationError(_("Unknown import."), code="tenant")
    with transaction.atomic():
        locked = ImportJob.objects.select_for_update().get(tenant=tenant, pk=job.pk)
        if locked.status not in (Status.PREVIEW_QUEUED, Status.PREVIEWING, Status.PREVIEWED,
                                 Status.FAILED) or locked.applied_by_id is not None:
            raise ValidationError(_("An applied import cannot be discarded."), code="status")
        locked.status, locked.lease_until, locked.finished_at = Status.DISCARDED, None, timezone.now()
        locked.save(update_fields=["status", "lease_until", "finished_at"])
        ImportChunk.objects.for_tenant(tenant).filter(job=locked).delete()
    return locked


class _RowFailed(Exception):
    def __init__(self, row: ImportRow, message: str) -> None:
        super().__init__(message)
        self.row = row
        self.message = message


def _progress_key(job: ImportJob) -> str:
    return f"people-import:{job.tenant_id}:{job.pk}:applied"


def import_job_progress(*, job: ImportJob) -> int:
    """Rows applied so far; an all-or-nothing apply reports through the cache (its rows commit
    only at the end)."""
    if job.status == Status.APPLYING and job.mode == ImportJob.Mode.ALL_OR_NOTHING:
        return int(cache.get(_progress_key(job)) or job.applied_rows)
    return job.applied_rows


def _pending(job: ImportJob, after: int) -> list[ImportRow]:
    return list(
        ImportRow.objects.for_tenant(job.tenant).filter(
            job=job, id__gt=after, applied_at__isnull=True, outcome__in=ACTIONABLE,
        ).order_by("id")[:_batch_rows()]
    )


def _apply(job: ImportJob, *, deadline: float) -> None:
    actor = job.applied_by
    if actor is None or actor.tenant_id != job.tenant_id:
        _fail(job, Status.APPLYING, "actor_gone")
        return
    try:
        if job.mode == ImportJob.Mode.ALL_OR_NOTHING:
            _apply_all_or_nothing(job, actor)
        else:
            _apply_valid_rows(job, actor, deadline=deadline)
    except _Stop:
        return


def _apply_valid_rows(job: ImportJob, actor: User, *, deadline: float) -> None:
    after = 0
    while True:
        with transaction.atomic():
            locked = _locked_job(job, Status.APPLYING)
            rows = _pending(locked, after)
            if not rows:
                _finish(locked, actor)
                return
            counts = Counter(locked.applied_counts)
            for row in rows:
                try:
                    with transaction.atomic():
                        _apply_row(locked, actor, row)
                except ValidationError as exc:
                    row.apply_error = " ".join(exc.messages)[:2000]
                    counts["failed"] += 1
                else:
                    counts[row.outcome] += 1
                row.applied_at = timezone.now()
            ImportRow.objects.for_tenant(locked.tenant).bulk_update(rows, ["applied_at", "apply_error"])
            locked.applied_counts = dict(counts)
            locked.applied_rows += len(rows)
            locked.lease_until = timezone.now() + LEASE
            locked.save(update_fields=["applied_counts", "applied_rows", "lease_until"])
            after = rows[-1].pk
        if time.monotonic() > deadline:
            _release(job)
            return


def _apply_all_or_nothing(job: ImportJob, actor: User) -> None:
    key = _progress_key(job)
    try:
        with transaction.atomic():
            # The job row stays locked until the end: another worker's claim skips it even once
            # the lease has run out, and a killed worker's rollback releases it.
            locked = _locked_job(job, Status.APPLYING)
            counts: Counter[str] = Counter()
            after, done = 0, 0
            while rows := _pending(locked, after):
                for row in rows:
                    try:
                        _apply_row(locked, actor, row)
                    except ValidationError as exc:
                        raise _RowFailed(row, " ".join(exc.messages)) from None
                    row.applied_at = timezone.now()
                    counts[row.outcome] += 1
                ImportRow.objects.for_tenant(locked.tenant).bulk_update(rows, ["applied_at"])
                done += len(rows)
                after = rows[-1].pk
                cache.set(key, done, 3600)
            locked.applied_counts, locked.applied_rows = dict(counts), done
            locked.save(update_fields=["applied_counts", "applied_rows"])
            _finish(locked, actor)
    except _RowFailed as exc:
        _fail(job, Status.APPLYING, "row_failed", {"line": exc.row.line, "email": exc.row.email,
                                                   "message": exc.message})
    finally:
        cache.delete(key)


def _finish(job: ImportJob, actor: User) -> None:
    """In the last batch's transaction: the job is applied, its file deleted, the import audited."""
    job.status, job.lease_until, job.finished_at = Status.APPLIED, None, timezone.now()
    job.save(update_fields=["status", "lease_until", "finished_at"])
    ImportChunk.objects.for_tenant(job.tenant).filter(job=job).delete()
    audit_entry_record(
        obj=job, actor=actor, changes={"people_import": ["previewed", "applied"]},
        additional_data={"file": job.filename, "mode": job.mode, "rows": job.total_rows,
                         "applied": job.applied_counts},
    )


def _apply_row(job: ImportJob, actor: User, row: ImportRow) -> None:
    tenant = job.tenant
    if row.outcome == Outcome.CREATE:
        people_services.person_invite(
            tenant=tenant, actor=actor, email=row.email, display_name=row.display_name,
            role=row.role or Role.MEMBER, language=row.language, timezone_name=row.timezone)
        return
    person = User.objects.for_tenant(tenant).filter(email=row.email).first()
    if person is None:
        raise ValidationError(_("Nobody in your company has the address %(email)s.") % {"email": row.email},
                              code="not_found")
    if row.outcome == Outcome.SUSPEND:
        people_services.person_suspend(tenant=tenant, actor=actor, person=person)
    elif row.outcome == Outcome.OFFBOARD:
        person_offboard(tenant=tenant, actor=actor, person=person,
                        reason=_("Offboarded by the import of %(file)s") % {"file": job.filename})
    else:
        if row.role and row.role != person.role:
            people_services.person_change_role(tenant=tenant, actor=actor, person=person, role=row.role)
        person_details_update(tenant=tenant, actor=actor, person=person,
                              display_name=row.display_name, language=row.language,
                              timezone_name=row.timezone)


def person_details_update(*, tenant: Tenant, actor: User, person: User, display_name: str = "",
                          language: str = "", timezone_name: str = "") -> User:
    """Set a person's name, language or time zone for them (empty: keep theirs); audited."""
    if person.tenant_id != tenant.pk:
        raise ValidationError(_("Unknown person."), code="tenant")
    _check_actor(tenant, actor)
    if person.pk != actor.pk and not can_manage(actor.role, person.role):
        raise ValidationError(_("You cannot manage a person with this role."), code="rank")
    if person.status == User.Status.OFFBOARDED:
        raise ValidationError(_("This person has been offboarded."), code="offboarded")
    fields: list[str] = []
    if display_name and display_name != person.display_name:
        person.display_name, fields = display_name[:150], [*fields, "display_name"]
    if language and language != person.language:
        if language not in {code for code, _name in settings.LANGUAGES}:
            raise ValidationError(_("Unknown language."), code="language")
        person.language, fields = language, [*fields, "language"]
    if timezone_name and timezone_name != person.timezone:
        # The parser's cached zone names: tenants.validate_timezone lists the zone database
        # from disk on every call (70 ms), which was most of an imported row's apply time.
        if timezone_name not in parse.timezone_names():
            raise ValidationError(_("Unknown time zone: %(tz)s"), code="timezone",
                                  params={"tz": timezone_name})
        person.timezone, fields = timezone_name, [*fields, "timezone"]
    if fields:
        person.save(update_fields=fields)  # django-auditlog records the change
    return person
