"""Alerts: what the detector concluded from the record, and how a tenant tunes and triages it.

Design: the detector (``alerts.detect``) is the only writer of ``Alert``/``AlertEvidence`` rows it
opens or grows; triage (``alerts.services``) changes status, assignee and the timeline. One
unresolved alert per (tenant, rule, dedup_key) is a partial unique constraint, so a finding that
repeats grows that alert instead of opening another, even when two workers race. Evidence rows
point at record rows by id (no foreign key: the record is partitioned and purged by whole days);
``count`` is the number of distinct evidence events, so replaying a batch changes nothing.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from activity.capture.types import DeviceType
from alerts.rules.base import RuleMode, Severity
from tenants.models import TenantOwned


class SeverityChoices(models.TextChoices):
    LOW = Severity.LOW.value, _("Low")
    MEDIUM = Severity.MEDIUM.value, _("Medium")
    HIGH = Severity.HIGH.value, _("High")


class ModeChoices(models.TextChoices):
    ALERT = RuleMode.ALERT.value, _("Alert")
    RECORD = RuleMode.RECORD.value, _("Record only")


class AlertStatus(models.TextChoices):
    OPEN = "open", _("Open")
    ACKNOWLEDGED = "acknowledged", _("Acknowledged")
    RESOLVED = "resolved", _("Resolved")
    FALSE_POSITIVE = "false_positive", _("False positive")


# The statuses of an alert that a repeated finding still grows.
UNRESOLVED = (AlertStatus.OPEN, AlertStatus.ACKNOWLEDGED)


class EventKind(models.TextChoices):
    SIGNIN = "signin", _("Sign-in")
    EXPORT = "export", _("Export")


class Alert(TenantOwned):
    """One anomaly about one person (or one network), with its evidence and timeline."""

    Status = AlertStatus

    rule = models.CharField(_("rule"), max_length=40)
    severity = models.CharField(_("severity"), max_length=8, choices=SeverityChoices.choices)
    status = models.CharField(_("status"), max_length=16, choices=AlertStatus.choices,
                              default=AlertStatus.OPEN)
    mode = models.CharField(_("mode"), max_length=8, choices=ModeChoices.choices,
                            default=ModeChoices.ALERT)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True,
                             blank=True, related_name="alerts", verbose_name=_("person"))
    dedup_key = models.CharField(_("deduplication key"), max_length=200)
    evidence = models.JSONField(_("evidence"), default=dict, blank=True)
    first_seen = models.DateTimeField(_("first seen"))
    last_seen = models.DateTimeField(_("last seen"))
    count = models.PositiveIntegerField(_("events"), default=0)
    assignee = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True,
                                 blank=True, related_name="assigned_alerts",
                                 verbose_name=_("assignee"))
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated"), default=timezone.now)
    resolved_at = models.DateTimeField(_("resolved"), null=True, blank=True)

    class Meta:
        ordering = ["-last_seen", "-id"]
        verbose_name = _("alert")
        verbose_name_plural = _("alerts")
        indexes = [
            models.Index(fields=["tenant", "status", "-last_seen"], name="alert_tenant_status_seen"),
            models.Index(fields=["tenant", "user", "-last_seen"], name="alert_tenant_user_seen"),
            models.Index(fields=["tenant", "-last_seen", "-id"], name="alert_tenant_seen_id"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "rule", "dedup_key"],
                condition=models.Q(status__in=[s.value for s in UNRESOLVED]),
                name="alert_one_unresolved_per_key",
            ),
            models.CheckConstraint(condition=models.Q(status__in=AlertStatus.values),
                                   name="alert_status_known"),
            models.CheckConstraint(condition=models.Q(severity__in=SeverityChoices.values),
                                   name="alert_severity_known"),
            models.CheckConstraint(condition=models.Q(mode__in=ModeChoices.values),
                                   name="alert_mode_known"),
        ]

    def __str__(self) -> str:
        return f"{self.rule} {self.dedup_key} ({self.status})"

    @property
    def is_unresolved(self) -> bool:
        return self.status in UNRESOLVED


class AlertEvidence(TenantOwned):
    """One record row that proves an alert, copied so the alert explains itself after a purge."""

    alert = models.ForeignKey(Alert, on_delete=models.CASCADE, related_name="evidence_events",
                              verbose_name=_("alert"))
    # The LoginEvent / ExportEvent id: no foreign key, the record is partitioned and purged.
    event_id = models.BigIntegerField(_("event"))
    event_kind = models.CharField(_("kind"), max_length=8, choices=EventKind.choices,
                                  default=EventKind.SIGNIN)
    occurred_at = models.DateTimeField(_("time"))
    # Blanked by the retention sweep past the tenant's purge date.
    ip = models.GenericIPAddressField(_("IP address"), null=True, blank=True, unpack_ipv4=True)
    country = models.CharField(_("country"), max_length=2, blank=True)
    browser_family = models.CharField(_("browser"), max_length=64, blank=True)
    os_family = models.CharField(_("operating system"), max_length=64, blank=True)
    device_type = models.CharField(_("device"), max_length=8, blank=True, choices=DeviceType.choices)
    user_agent = models.CharField(_("user agent"), max_length=512, blank=True)

    class Meta:
        ordering = ["occurred_at", "event_id"]
        verbose_name = _("alert evidence")
        verbose_name_plural = _("alert evidence")
        constraints = [
            models.UniqueConstraint(fields=["tenant", "alert", "event_id", "event_kind"],
                                    name="alert_evidence_once"),
        ]
        indexes = [
            models.Index(fields=["tenant", "occurred_at"], name="alert_evidence_tenant_time"),
            # "Does this event already prove an alert of this rule?" (the detector, per batch).
            models.Index(fields=["tenant", "event_id"], name="alert_evidence_tenant_event"),
        ]

    def __str__(self) -> str:
        return f"{self.event_kind} {self.event_id}"


class ActivityKind(models.TextChoices):
    OPENED = "opened", _("Opened")
    SEEN_AGAIN = "seen_again", _("Seen again")
    STATUS = "status", _("Status changed")
    ASSIGNED = "assigned", _("Assigned")
    NOTE = "note", _("Note")
    TRUSTED = "trusted", _("Trusted")


class AlertActivity(TenantOwned):
    """One entry of an alert's timeline; ``actor`` null is the system (the detector)."""

    Kind = ActivityKind

    alert = models.ForeignKey(Alert, on_delete=models.CASCADE, related_name="timeline",
                              verbose_name=_("alert"))
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True,
                              blank=True, related_name="+", verbose_name=_("by"))
    at = models.DateTimeField(_("time"), default=timezone.now)
    kind = models.CharField(_("kind"), max_length=16, choices=ActivityKind.choices)
    from_status = models.CharField(_("from"), max_length=16, choices=AlertStatus.choices,
                                   blank=True)
    to_status = models.CharField(_("to"), max_length=16, choices=AlertStatus.choices, blank=True)
    note = models.TextField(_("note"), blank=True, max_length=4000)

    class Meta:
        ordering = ["at", "id"]
        verbose_name = _("alert activity")
        verbose_name_plural = _("alert activity")
        indexes = [models.Index(fields=["tenant", "alert", "at"], name="alert_activity_alert_at")]

    def __str__(self) -> str:
        return f"{self.kind} {self.at:%Y-%m-%d %H:%M:%S}"


class RuleSetting(TenantOwned):
    """A tenant's choice for one rule; no row means the rule's defaults (on, alert mode)."""

    rule = models.CharField(_("rule"), max_length=40)
    enabled = models.BooleanField(_("enabled"), default=True)
    mode = models.CharField(_("mode"), max_length=8, choices=ModeChoices.choices,
                            default=ModeChoices.ALERT)
    severity = models.CharField(_("severity"), max_length=8, choices=SeverityChoices.choices)
    params = models.JSONField(_("thresholds"), default=dict, blank=True)
    updated_at = models.DateTimeField(_("updated"), default=timezone.now)
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True,
                                   blank=True, related_name="+", verbose_name=_("updated by"))

    class Meta:
        ordering = ["rule"]
        verbose_name = _("rule setting")
        verbose_name_plural = _("rule settings")
        constraints = [
            models.UniqueConstraint(fields=["tenant", "rule"], name="alert_rule_setting_once"),
            models.CheckConstraint(condition=models.Q(mode__in=ModeChoices.values),
                                   name="alert_rule_setting_mode_known"),
        ]

    def __str__(self) -> str:
        return self.rule


class TrustKind(models.TextChoices):
    NETWORK = "network", _("Network")
    DEVICE = "device", _("Device")
    COUNTRY = "country", _("Country")


class Trust(TenantOwned):
    """"Trust this network / device / country for this person": the rules stop firing for it.

    ``value`` is a CIDR (network), ``"Chrome|Windows|pc"`` (device: browser family, OS family,
    device type) or an ISO country code. A blank ``rule`` trusts it for every rule.
    """

    Kind = TrustKind

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="alert_trusts", verbose_name=_("person"))
    kind = models.CharField(_("kind"), max_length=8, choices=TrustKind.choices)
    value = models.CharField(_("value"), max_length=200)
    rule = models.CharField(_("rule"), max_length=40, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True,
                                   blank=True, related_name="+", verbose_name=_("trusted by"))
    created_at = models.DateTimeField(_("trusted"), default=timezone.now)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)
    revoked_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True,
                                   blank=True, related_name="+", verbose_name=_("revoked by"))

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("trust")
        verbose_name_plural = _("trusts")
        indexes = [
            models.Index(fields=["tenant", "user", "revoked_at"], name="alert_trust_tenant_user"),
        ]
        constraints = [
            models.CheckConstraint(condition=models.Q(kind__in=TrustKind.values),
                                   name="alert_trust_kind_known"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.value}"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class DetectionCursor(TenantOwned):
    """The detector's watermark for one tenant and one kind of record row.

    ``last_at`` / ``last_id`` are the newest row processed in (time, id) order; every run also
    reads the trailing window before ``last_at`` (``ALERTS_DETECT_LOOKBACK_SECONDS``) for rows
    not in ``recent``, so a row that committed late is not skipped (see ``alerts.detect``).
    """

    kind = models.CharField(_("kind"), max_length=8, choices=EventKind.choices,
                            default=EventKind.SIGNIN)
    last_id = models.BigIntegerField(_("last event"), default=0)
    last_at = models.DateTimeField(_("last event time"), null=True, blank=True)
    # The rows already processed inside the trailing window: {"ids": [...], "at": [epoch s...]}.
    recent = models.JSONField(_("recently processed"), default=dict, blank=True)
    updated_at = models.DateTimeField(_("updated"), default=timezone.now)

    class Meta:
        verbose_name = _("detection cursor")
        verbose_name_plural = _("detection cursors")
        constraints = [
            models.UniqueConstraint(fields=["tenant", "kind"], name="alert_cursor_once"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.last_id}"


from alerts.preferences import DigestOptOut, ReportLink  # noqa: E402, F401  # registered with the app
