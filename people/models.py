"""People's own rows: CSV imports of people (``people.imports``).

An import is a state machine on ``ImportJob``: the upload is stored in the database as
``ImportChunk`` rows (the raw bytes, 256 KB each, so a worker on another machine reads the same
file and nothing is ever held in memory whole); the dry-run preview writes one ``ImportRow`` per
data row in batches, each batch committed together with the job's progress, so a killed worker
resumes after the last batch; apply marks each row ``applied_at`` in the transaction that changed
the person, so a rerun never does a row twice.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from tenants.models import TenantOwned


class ImportJob(TenantOwned):
    class Status(models.TextChoices):
        PREVIEW_QUEUED = "preview_queued", _("Waiting for the preview")
        PREVIEWING = "previewing", _("Checking the file")
        PREVIEWED = "previewed", _("Ready to apply")
        APPLY_QUEUED = "apply_queued", _("Waiting to apply")
        APPLYING = "applying", _("Applying")
        APPLIED = "applied", _("Applied")
        FAILED = "failed", _("Not applied")
        DISCARDED = "discarded", _("Discarded")

    class Mode(models.TextChoices):
        VALID_ROWS = "valid_rows", _("Apply every valid row; skip the rows with errors")
        ALL_OR_NOTHING = "all_or_nothing", _("Apply nothing if any row has an error")

    filename = models.CharField(_("file name"), max_length=255)
    size = models.PositiveBigIntegerField(_("size in bytes"))
    encoding = models.CharField(_("encoding"), max_length=16)
    delimiter = models.CharField(max_length=1, default=",")
    # Canonical column names in file order ("" for a column the import ignores: none today).
    columns = models.JSONField(default=list)
    total_rows = models.PositiveIntegerField(_("rows"), default=0)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices,
                              default=Status.PREVIEW_QUEUED)
    mode = models.CharField(_("mode"), max_length=16, choices=Mode.choices, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True,
                                   related_name="+", verbose_name=_("uploaded by"))
    created_at = models.DateTimeField(_("uploaded"), auto_now_add=True)
    applied_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True,
                                   blank=True, related_name="+", verbose_name=_("applied by"))
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    # Progress: data rows previewed (committed with their ImportRows), rows applied.
    previewed_rows = models.PositiveIntegerField(default=0)
    applied_rows = models.PositiveIntegerField(default=0)
    # Owners still active after the rows previewed so far (the last-owner check across batches).
    owners_left = models.IntegerField(default=0)
    # Rows per outcome, e.g. {"create": 10, "error": 2}; filled by the preview.
    counts = models.JSONField(default=dict)
    # Results of apply: rows per outcome applied, and rows that failed at apply time.
    applied_counts = models.JSONField(default=dict)
    # A whole-file error or the apply failure that rolled an all-or-nothing apply back.
    error_code = models.CharField(max_length=32, blank=True)
    error_params = models.JSONField(default=dict, blank=True)
    # A worker owns the job until then; a killed worker's job is taken again afterwards.
    lease_until = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("people import")
        verbose_name_plural = _("people imports")
        indexes = [
            models.Index(fields=["tenant", "-created_at", "-id"], name="import_tenant_time"),
            # Only jobs a worker still has to run (a handful platform-wide): the claim's scan.
            models.Index(fields=["tenant", "lease_until"], name="import_due", condition=models.Q(
                status__in=["preview_queued", "previewing", "apply_queued", "applying"])),
        ]

    def __str__(self) -> str:
        return self.filename


class ImportChunk(TenantOwned):
    """One piece of an uploaded file, in order."""

    job = models.ForeignKey(ImportJob, on_delete=models.CASCADE, related_name="+", db_index=False)
    seq = models.PositiveIntegerField()
    data = models.BinaryField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["tenant", "job", "seq"], name="import_chunk_seq")]

    def __str__(self) -> str:
        return f"{self.job_id}:{self.seq}"


class ImportRow(TenantOwned):
    """The preview's outcome for one data row, and whether apply carried it out."""

    class Outcome(models.TextChoices):
        CREATE = "create", _("Create and invite")
        UPDATE = "update", _("Update")
        SUSPEND = "suspend", _("Suspend")
        OFFBOARD = "offboard", _("Offboard")
        UNCHANGED = "unchanged", _("Unchanged")
        ERROR = "error", _("Error")

    job = models.ForeignKey(ImportJob, on_delete=models.CASCADE, related_name="+", db_index=False)
    line = models.PositiveIntegerField(_("line"))
    email = models.CharField(_("e-mail address"), max_length=254)
    outcome = models.CharField(_("outcome"), max_length=16, choices=Outcome.choices)
    # The values to apply; "" where the file left the cell empty (keep the person's value).
    display_name = models.CharField(max_length=150, blank=True)
    role = models.CharField(max_length=16, blank=True)
    language = models.CharField(max_length=16, blank=True)
    timezone = models.CharField(max_length=64, blank=True)
    # For an update: {field: [before, after]} of what changes.
    changes = models.JSONField(default=dict, blank=True)
    error_code = models.CharField(max_length=32, blank=True)
    error_params = models.JSONField(default=dict, blank=True)
    applied_at = models.DateTimeField(null=True, blank=True)
    # Why apply could not carry out a row the preview found valid (someone changed the person).
    apply_error = models.TextField(blank=True)

    class Meta:
        ordering = ["id"]
        verbose_name = _("import row")
        verbose_name_plural = _("import rows")
        indexes = [
            models.Index(fields=["tenant", "job", "id"], name="importrow_job"),
            models.Index(fields=["tenant", "job", "outcome", "id"], name="importrow_job_outcome"),
            models.Index(fields=["tenant", "job", "email"], name="importrow_job_email"),
        ]

    def __str__(self) -> str:
        return f"{self.line}: {self.email}"
