"""The record: sign-in and export events, and the admin audit trail (django-auditlog's entry with a
tenant key)."""

from __future__ import annotations

import functools
from typing import Any

from auditlog.models import AbstractLogEntry, LogEntryManager
from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from activity.capture.types import (
    FAMILY_MAX_LENGTH,
    USER_AGENT_MAX_LENGTH,
    VERSION_MAX_LENGTH,
    DeviceType,
)
from tenants.models import Tenant, TenantOwned, TenantQuerySet


@functools.lru_cache(maxsize=256)
def _choice_labels(field: models.Field[Any, Any], language: str | None) -> dict[Any, str]:
    return {value: str(label) for value, label in field.flatchoices}


class ChoiceLabels(models.Model):
    """``get_FOO_display()`` from a dictionary built once per field and language.

    Django's own rebuilds the field's choices dictionary on every call, hashing each lazy label
    (one gettext each): for the 24 reasons of a sign-in that was a third of a 50-row log page's
    rendering time.
    """

    class Meta:
        abstract = True

    def _get_FIELD_display(self, field: models.Field[Any, Any]) -> Any:  # Django's name
        value = getattr(self, field.attname)
        try:
            return _choice_labels(field, get_language()).get(value, value)
        except TypeError:  # an unhashable value (a JSON field's list): Django's way
            return super()._get_FIELD_display(field)  # type: ignore[misc]


def tenant_id_of(instance: Any) -> int | None:
    if isinstance(instance, Tenant):
        return instance.pk
    return getattr(instance, "tenant_id", None)


class AuditLogEntryManager(LogEntryManager.from_queryset(TenantQuerySet)):  # type: ignore[misc]
    def log_create(self, instance: Any, force_log: bool = False, **kwargs: Any) -> Any:
        kwargs.setdefault("tenant_id", tenant_id_of(instance))
        return super().log_create(instance, force_log=force_log, **kwargs)

    def log_m2m_changes(self, changed_queryset: Any, instance: Any, operation: Any,
                        field_name: Any, **kwargs: Any) -> Any:
        kwargs.setdefault("tenant_id", tenant_id_of(instance))
        return super().log_m2m_changes(changed_queryset, instance, operation, field_name, **kwargs)


class AuditLogEntry(AbstractLogEntry, ChoiceLabels):  # noqa: DJ008  # __str__ is auditlog's
    """One change in the admin audit trail. ``tenant`` is null only for platform-level objects."""

    tenant = models.ForeignKey(
        Tenant, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
        verbose_name=_("tenant"),
    )

    objects = AuditLogEntryManager()

    class Meta(AbstractLogEntry.Meta):
        abstract = False
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit trail")
        indexes = [models.Index(fields=["tenant", "-timestamp", "-id"], name="audit_tenant_time")]


# --- The sign-in and export record --------------------------------------------------------------
# Design: rows are written once, in the request, through activity.services, and never changed:
# the log is evidence. Cheap guards make that hold at the ORM level (save() refuses updates,
# QuerySet.update() refuses); the retention sweep only deletes, and a user's deletion nulls the
# user column through Django's collector, which neither guard sees. ``_internal_update`` is the
# one documented way around the guard (export completion, future redaction), for this module
# and activity.services only.


class RecordImmutableError(RuntimeError):
    """An attempt to change a row of the append-only record."""


class AppendOnlyQuerySet(TenantQuerySet):
    def update(self, **kwargs: Any) -> int:
        raise RecordImmutableError(f"{self.model.__name__} rows are append-only")

    def _internal_update(self, **kwargs: Any) -> int:
        return super().update(**kwargs)


class Outcome(models.TextChoices):
    SUCCESS = "success", _("Success")
    FAILURE = "failure", _("Failure")
    DENIED = "denied", _("Denied by policy")
    CHALLENGE = "challenge", _("Second factor requested")
    SIGNOUT = "signout", _("Signed out")


class Reason(models.TextChoices):
    """Why an attempt ended the way it did: a stable code, shown through its label."""

    # Refusals before the password is known to be right (the person sees one generic message).
    BAD_CREDENTIALS = "bad_credentials", _("Wrong password")
    UNKNOWN_ACCOUNT = "unknown_account", _("Unknown account")
    LOCKED_OUT = "locked_out", _("Locked out after repeated failures")
    # The account's ceiling across all IPs: refused before the password, except on its devices.
    ACCOUNT_THROTTLED = "account_throttled", _("Too many failures on this account (unrecognised browser)")
    ACCOUNT_SUSPENDED = "account_suspended", _("Account suspended")
    ACCOUNT_OFFBOARDED = "account_offboarded", _("Account offboarded")
    ACCOUNT_INVITED = "account_invited", _("Invitation not yet accepted")
    TENANT_SUSPENDED = "tenant_suspended", _("Company suspended")
    # Policies.
    NETWORK_DENIED = "network_denied", _("Network not allowed")
    NETWORK_MONITOR = "network_monitor", _("Network not allowed (monitor mode, let through)")
    HOURS_DENIED = "hours_denied", _("Outside sign-in hours")
    HOURS_MONITOR = "hours_monitor", _("Outside sign-in hours (monitor mode, let through)")
    MAIL_PROTOCOLS_OFF = "mail_protocols_off", _("Mail protocols turned off by an administrator")
    PASSWORD_CHANGE_REQUIRED = "password_change_required", _("Password does not meet the policy")
    PASSWORD_EXPIRED = "password_expired", _("Password expired")
    # Second factor.
    MFA_CHALLENGE = "mfa_challenge", _("Second factor requested")
    MFA_ENROLLMENT_REQUIRED = "mfa_enrollment_required", _("Second factor enrolment required")
    MFA_FAILED = "mfa_failed", _("Wrong second-factor code")
    MFA_VERIFIED = "mfa_verified", _("Second factor verified")
    PASSWORD_OK = "password_ok", _("Password verified")
    # Session ends.
    SIGNED_OUT = "signed_out", _("Signed out by the person")
    SESSION_IDLE_TIMEOUT = "session_idle_timeout", _("Session idle for too long")
    SESSION_LIFETIME_ENDED = "session_lifetime_ended", _("Session lifetime reached")
    HOURS_WINDOW_CLOSED = "hours_window_closed", _("Sign-in hours ended")
    ENDED_BY_ADMIN = "ended_by_admin", _("Session ended by an administrator")
    ACCOUNT_SECURED = "account_secured", _("Session ended: account secured after a compromise")


class Protocol(models.TextChoices):
    """How the attempt reached us: the console's own sign-in, or a mail client through Dovecot."""

    WEB = "web", _("Web")
    IMAP = "imap", _("IMAP")
    POP3 = "pop3", _("POP3")
    SUBMISSION = "submission", _("SMTP submission")


class MfaMethod(models.TextChoices):
    NONE = "", _("None")
    TOTP = "totp", _("Authenticator app")
    BACKUP_CODE = "backup_code", _("Backup code")
    PASSKEY = "passkey", _("Passkey")


class ExportStatus(models.TextChoices):
    STARTED = "started", _("Started")
    COMPLETED = "completed", _("Completed")
    INCOMPLETE = "incomplete", _("Incomplete")


class ClientFields(models.Model):
    """What activity.capture.ClientInfo says about the client, as columns."""

    ip = models.GenericIPAddressField(_("IP address"), unpack_ipv4=True)
    country = models.CharField(_("country"), max_length=2, blank=True)
    user_agent = models.CharField(_("user agent"), max_length=USER_AGENT_MAX_LENGTH, blank=True)
    browser_family = models.CharField(_("browser"), max_length=FAMILY_MAX_LENGTH, blank=True)
    browser_version = models.CharField(_("browser version"), max_length=VERSION_MAX_LENGTH, blank=True)
    os_family = models.CharField(_("operating system"), max_length=FAMILY_MAX_LENGTH, blank=True)
    os_version = models.CharField(_("OS version"), max_length=VERSION_MAX_LENGTH, blank=True)
    device_type = models.CharField(
        _("device"), max_length=8, choices=DeviceType.choices, default=DeviceType.OTHER
    )

    class Meta:
        abstract = True


class LoginEvent(ChoiceLabels, TenantOwned, ClientFields):
    """One sign-in attempt, second-factor step or sign-out. Never holds a secret."""

    Outcome = Outcome
    Reason = Reason
    MfaMethod = MfaMethod

    # Every index of this table starts with the tenant, so the foreign key's own single-column
    # index would only cost writes, bulk loads and planning time across the day partitions.
    tenant = models.ForeignKey(Tenant, on_delete=models.PROTECT, verbose_name=_("tenant"),
                               db_index=False)
    # Null for unknown accounts, and after the person is deleted: the attempt stays on record.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
        related_name="login_events", verbose_name=_("person"),
    )
    attempted_login = models.CharField(_("attempted login"), max_length=254)
    occurred_at = models.DateTimeField(_("time"), default=timezone.now)
    outcome = models.CharField(_("outcome"), max_length=16, choices=Outcome.choices)
    reason = models.CharField(_("reason"), max_length=64, choices=Reason.choices, blank=True)
    mfa_method = models.CharField(
        _("second factor"), max_length=16, choices=MfaMethod.choices, blank=True, default=""
    )
    # A correlation handle across one session's events, not a credential: see
    # activity.services.session_reference.
    session_ref = models.CharField(_("session"), max_length=16, blank=True)
    # Mail clients sign in through Dovecot's policy hook (security.mailauth). The database
    # default too, so bulk loads (COPY with a column list) that predate the column keep working.
    protocol = models.CharField(_("protocol"), max_length=16, choices=Protocol.choices,
                                default=Protocol.WEB, db_default=Protocol.WEB)

    objects = AppendOnlyQuerySet.as_manager()  # type: ignore[misc]  # narrows TenantOwned.objects

    class Meta:
        ordering = ["-occurred_at", "-id"]
        verbose_name = _("sign-in event")
        verbose_name_plural = _("sign-in events")
        indexes = [
            models.Index(fields=["tenant", "-occurred_at", "-id"], name="login_tenant_time"),
            models.Index(fields=["tenant", "user", "-occurred_at"], name="login_tenant_user_time"),
            models.Index(fields=["tenant", "ip", "-occurred_at"], name="login_tenant_ip_time"),
            models.Index(fields=["tenant", "outcome", "-occurred_at"], name="login_tenant_outcome_time"),
        ]
        # The coded columns hold only known codes, whoever writes the row: exports and reports
        # can trust them (activity.exports writes them without formula neutralisation).
        constraints = [
            models.CheckConstraint(condition=models.Q(outcome__in=Outcome.values), name="login_outcome_known"),
            models.CheckConstraint(condition=models.Q(reason__in=[*Reason.values, ""]), name="login_reason_known"),
            models.CheckConstraint(condition=models.Q(mfa_method__in=MfaMethod.values), name="login_mfa_known"),
            models.CheckConstraint(condition=models.Q(device_type__in=DeviceType.values), name="login_device_known"),
            models.CheckConstraint(condition=models.Q(protocol__in=Protocol.values), name="login_protocol_known"),
        ]

    def __str__(self) -> str:
        return f"{self.attempted_login} {self.outcome} {self.occurred_at:%Y-%m-%d %H:%M:%S}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise RecordImmutableError("LoginEvent rows are append-only")
        super().save(*args, **kwargs)


class ExportEvent(ChoiceLabels, TenantOwned, ClientFields):
    """One export of log data: started when the download starts, completed when it ends."""

    Status = ExportStatus

    # As on LoginEvent: the composite indexes below all start with the tenant.
    tenant = models.ForeignKey(Tenant, on_delete=models.PROTECT, verbose_name=_("tenant"),
                               db_index=False)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
        related_name="export_events", verbose_name=_("person"),
    )
    occurred_at = models.DateTimeField(_("time"), default=timezone.now)
    dataset = models.CharField(_("dataset"), max_length=64)
    format = models.CharField(_("format"), max_length=16)
    filters = models.JSONField(_("filters"), default=dict, blank=True)
    row_count = models.PositiveBigIntegerField(_("rows"), default=0)
    byte_count = models.PositiveBigIntegerField(_("bytes"), default=0)
    status = models.CharField(
        _("status"), max_length=16, choices=ExportStatus.choices, default=ExportStatus.STARTED
    )
    completed_at = models.DateTimeField(_("completed"), null=True, blank=True)

    objects = AppendOnlyQuerySet.as_manager()  # type: ignore[misc]  # narrows TenantOwned.objects

    class Meta:
        ordering = ["-occurred_at", "-id"]
        verbose_name = _("export event")
        verbose_name_plural = _("export events")
        indexes = [
            models.Index(fields=["tenant", "-occurred_at", "-id"], name="export_tenant_time"),
            models.Index(fields=["tenant", "user", "-occurred_at"], name="export_tenant_user_time"),
        ]
        constraints = [
            models.CheckConstraint(condition=models.Q(device_type__in=DeviceType.values), name="export_device_known"),
            models.CheckConstraint(condition=models.Q(status__in=ExportStatus.values), name="export_status_known"),
        ]

    def __str__(self) -> str:
        return f"{self.dataset} ({self.format}) {self.occurred_at:%Y-%m-%d %H:%M:%S}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        # Completion is a conditional UPDATE in activity.services.export_event_complete.
        if not self._state.adding:
            raise RecordImmutableError("ExportEvent rows are append-only")
        super().save(*args, **kwargs)


class RetentionPolicy(TenantOwned):
    """How long a tenant's record stays visible and how long it is kept (``activity.lifetime``).

    It lives beside the record because every reader of the record (log pages, person pages, an
    employee's history, alert evidence, exports) hides what is past ``visible_days``; the sweep
    that purges past ``purge_days`` and the page that edits this row are the ``retention`` app's.
    A tenant without a row has the deployment's defaults.
    """

    visible_days = models.PositiveIntegerField(_("visible for (days)"),
                                               default=settings.RETENTION_DEFAULT_VISIBLE_DAYS)
    purge_days = models.PositiveIntegerField(_("deleted after (days)"),
                                             default=settings.RETENTION_DEFAULT_PURGE_DAYS)
    audit_days = models.PositiveIntegerField(_("audit trail kept for (days)"),
                                             default=settings.RETENTION_DEFAULT_AUDIT_DAYS)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True,
                                   blank=True, related_name="+", verbose_name=_("updated by"))

    class Meta:
        verbose_name = _("retention policy")
        verbose_name_plural = _("retention policies")
        constraints = [
            models.UniqueConstraint(fields=["tenant"], name="retention_one_per_tenant"),
            models.CheckConstraint(condition=models.Q(visible_days__gte=1)
                                   & models.Q(visible_days__lte=models.F("purge_days")),
                                   name="retention_visible_within_purge"),
        ]

    def __str__(self) -> str:
        return f"{self.visible_days}/{self.purge_days}/{self.audit_days}"
