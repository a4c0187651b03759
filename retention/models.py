"""Retention's own rows: legal holds, the daily aggregates that outlive the record, and receipts.

``DailyActivity`` holds one row per (tenant, UTC day) with every count of that day
(``counts``: metric -> key -> count); ``RolledUpDay`` marks a tenant's day as rolled up, written in the same transaction as that day's counts, so a day is
counted exactly once whatever happens after (the purge of its rows comes later and may be
interrupted). Reports read ``DailyActivity`` for marked days and the live record otherwise
(``retention.rollup`` computes both ways with one function).
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from tenants.models import Tenant, TenantOwned


class Metric(models.TextChoices):
    """What ``DailyActivity`` counts; each metric's keys are the breakdown's values ("" when there
    is none)."""

    SIGNINS_BY_OUTCOME = "signins.outcome", _("Sign-in events by outcome")
    SIGNINS_BY_REASON = "signins.reason", _("Sign-in attempts by reason")
    SIGNINS_BY_COUNTRY = "signins.country", _("Sign-in attempts by country")
    SIGNINS_BY_BROWSER = "signins.browser", _("Sign-in attempts by browser")
    SIGNINS_BY_OS = "signins.os", _("Sign-in attempts by operating system")
    SIGNINS_BY_DEVICE = "signins.device", _("Sign-in attempts by device type")
    SIGNINS_BY_MFA = "signins.mfa", _("Successful sign-ins by second factor")
    SIGNIN_PEOPLE = "signins.people", _("People who signed in")
    EXPORTS_BY_DATASET = "exports.dataset", _("Exports by dataset")
    EXPORT_ROWS_BY_DATASET = "exports.rows", _("Exported rows by dataset")
    ALERTS_BY_RULE = "alerts.rule", _("Alerts by rule")
    ALERTS_BY_SEVERITY = "alerts.severity", _("Alerts by severity")


class LegalHold(TenantOwned):
    """Keeps a person's (or, with no person, the whole tenant's) record past its purge date."""

    person = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
        related_name="+", verbose_name=_("person"),
        help_text=_("Empty: the hold covers the whole company."),
    )
    reason = models.TextField(_("reason"), max_length=1000)
    ends_on = models.DateField(_("ends on"))
    placed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True,
                                  blank=True, related_name="+", verbose_name=_("placed by"))
    placed_at = models.DateTimeField(_("placed"), auto_now_add=True)
    lifted_at = models.DateTimeField(_("lifted"), null=True, blank=True)
    # Null with ``lifted_at`` set: the hold ended by itself on its end date.
    lifted_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True,
                                  blank=True, related_name="+", verbose_name=_("lifted by"))

    class Meta:
        ordering = ["-placed_at", "-id"]
        verbose_name = _("legal hold")
        verbose_name_plural = _("legal holds")
        indexes = [models.Index(fields=["tenant", "lifted_at", "ends_on"], name="hold_tenant_active")]

    def __str__(self) -> str:
        who = self.person_id or "tenant"
        return f"hold {who} until {self.ends_on:%Y-%m-%d}"

    def is_active(self, now: dt.datetime) -> bool:
        """Not lifted and not past its end date (the end date itself is still held, UTC)."""
        return self.lifted_at is None and self.ends_on >= now.astimezone(dt.UTC).date()


class DailyActivity(TenantOwned):
    """Every aggregate of one UTC day of a tenant's record; the reports' source once it is purged.

    One row per day, its counts as ``{metric: {key: count}}`` (``Metric``; key "" when the
    metric has no breakdown): a day of a large tenant has a hundred or more (metric, key) pairs,
    and a row for each made the roll-up write twenty times the WAL of the rows it replaces
    (a heap tuple and three index entries each). Reports read whole days, never one key.
    """

    # The unique (tenant, day) index serves every lookup by tenant: no index of its own.
    tenant = models.ForeignKey(Tenant, on_delete=models.PROTECT, db_index=False,
                               verbose_name=_("tenant"))
    day = models.DateField(_("day"))
    counts = models.JSONField(_("counts"), default=dict)

    class Meta:
        ordering = ["day"]
        verbose_name = _("daily activity")
        verbose_name_plural = _("daily activity")
        constraints = [models.UniqueConstraint(fields=["tenant", "day"], name="daily_activity_day_unique")]

    def __str__(self) -> str:
        return f"{self.day} ({sum(len(keys) for keys in self.counts.values())} counts)"


class RolledUpDay(TenantOwned):
    """A tenant's UTC day whose counts are in ``DailyActivity`` (written with them, once)."""

    day = models.DateField(_("day"))
    login_events = models.BigIntegerField(_("sign-in events"), default=0)
    export_events = models.BigIntegerField(_("export events"), default=0)
    rolled_up_at = models.DateTimeField(_("rolled up"), auto_now_add=True)

    class Meta:
        ordering = ["day"]
        verbose_name = _("rolled-up day")
        verbose_name_plural = _("rolled-up days")
        constraints = [models.UniqueConstraint(fields=["tenant", "day"], name="rolled_up_day_unique")]

    def __str__(self) -> str:
        return f"{self.day}"


class SweepStatus(models.TextChoices):
    RUNNING = "running", _("Running")
    COMPLETED = "completed", _("Completed")
    PARTIAL = "partial", _("Stopped at its time budget (resumes next run)")
    FAILED = "failed", _("Failed")
    INTERRUPTED = "interrupted", _("Interrupted (the worker stopped)")
    SKIPPED = "skipped", _("Skipped: another sweep was running")


class SweepRun(models.Model):
    """One sweep over the platform (or one tenant); operator-level, so no tenant key."""

    Status = SweepStatus

    started_at = models.DateTimeField(_("started"))
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    status = models.CharField(_("status"), max_length=16, choices=SweepStatus.choices,
                              default=SweepStatus.RUNNING)
    dry_run = models.BooleanField(_("dry run"), default=False)
    # The tenant slug the run was limited to, empty for every tenant.
    scope = models.CharField(_("scope"), max_length=64, blank=True)
    partitions_dropped = models.JSONField(_("partitions dropped"), default=list, blank=True)
    # Rows that belong to no tenant (lockout rows of unknown domains, platform audit entries,
    # expired Django sessions): table -> rows removed.
    rows_purged = models.JSONField(_("platform rows purged"), default=dict, blank=True)
    error = models.TextField(_("error"), blank=True)

    class Meta:
        ordering = ["-started_at", "-id"]
        verbose_name = _("sweep run")
        verbose_name_plural = _("sweep runs")
        indexes = [models.Index(fields=["-started_at"], name="sweep_run_started")]

    def __str__(self) -> str:
        return f"sweep {self.started_at:%Y-%m-%d %H:%M} {self.status}"


class SweepReceipt(TenantOwned):
    """What one sweep did to one tenant's record; shown to the tenant and to operators."""

    run = models.ForeignKey(SweepRun, on_delete=models.CASCADE, related_name="receipts",
                            verbose_name=_("run"))
    days_rolled_up = models.PositiveIntegerField(_("days rolled up"), default=0)
    # Table name -> rows removed (see retention.selectors.PURGED_TABLES for the labels).
    rows_purged = models.JSONField(_("rows purged"), default=dict, blank=True)
    partitions_dropped = models.PositiveIntegerField(_("partitions dropped"), default=0)
    rows_held = models.BigIntegerField(_("rows kept by legal holds"), default=0)
    errors = models.JSONField(_("errors"), default=list, blank=True)
    oldest_day = models.DateField(_("oldest day covered"), null=True, blank=True)
    newest_day = models.DateField(_("newest day covered"), null=True, blank=True)
    purge_before = models.DateField(_("purged days before"), null=True, blank=True)
    duration = models.DurationField(_("duration"), default=dt.timedelta)
    created_at = models.DateTimeField(_("written"), auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("sweep receipt")
        verbose_name_plural = _("sweep receipts")
        constraints = [models.UniqueConstraint(fields=["tenant", "run"], name="receipt_one_per_run")]
        indexes = [models.Index(fields=["tenant", "-created_at", "-id"], name="receipt_tenant_time")]

    def __str__(self) -> str:
        return f"receipt {self.run_id} {self.tenant_id}"

    @property
    def total_purged(self) -> int:
        return sum(int(n) for n in self.rows_purged.values())
