"""Tenants and the tenancy primitives every tenant-owned model builds on.

Design: shared schema. Every tenant-owned row carries ``tenant`` (PROTECT: a tenant with data
is suspended, never cascaded away) and is read through ``.for_tenant(tenant)``. Indexes on
tenant data start with ``tenant``.
"""

from __future__ import annotations

import functools
import zoneinfo

from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy as _


@functools.cache
def _zone_names() -> frozenset[str]:
    # available_timezones() walks the zone database on disk (tens of ms); read it once a process.
    return frozenset(zoneinfo.available_timezones())


def validate_timezone(value: str) -> None:
    if value not in _zone_names():
        raise ValidationError(_("Unknown time zone: %(tz)s"), code="timezone", params={"tz": value})


class Tenant(models.Model):
    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")
        SUSPENDED = "suspended", _("Suspended")

    name = models.CharField(_("name"), max_length=120)
    slug = models.SlugField(_("slug"), max_length=60, unique=True)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.ACTIVE)
    timezone = models.CharField(_("time zone"), max_length=64, default="UTC", validators=[validate_timezone])
    language = models.CharField(_("default language"), max_length=16, default="en")
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    # Bumped in the same transaction as any change to this tenant's policies or mail domains, so
    # per-process caches of policy rules (security.policies.cache) know when they are stale.
    policy_version = models.PositiveIntegerField(default=0, editable=False)

    class Meta:
        ordering = ["name"]
        verbose_name = _("tenant")
        verbose_name_plural = _("tenants")

    def __str__(self) -> str:
        return self.name

    @property
    def is_active(self) -> bool:
        return self.status == self.Status.ACTIVE


class TenantQuerySet(models.QuerySet):
    def for_tenant(self, tenant: Tenant) -> TenantQuerySet:
        return self.filter(tenant=tenant)


class TenantOwned(models.Model):
    """Base for every row that belongs to one tenant."""

    tenant = models.ForeignKey(Tenant, on_delete=models.PROTECT, verbose_name=_("tenant"))

    objects = TenantQuerySet.as_manager()

    class Meta:
        abstract = True


domain_validator = RegexValidator(
    r"^(?=.{1,253}$)(?!-)[a-z0-9-]{1,63}(?<!-)(\.(?!-)[a-z0-9-]{1,63}(?<!-))+$",
    _("Enter a valid mail domain, such as example.com."),
    code="domain",
)


class MailDomain(TenantOwned):
    """A mail domain of a tenant; unique across the platform, so an address names its tenant."""

    domain = models.CharField(_("domain"), max_length=253, unique=True, validators=[domain_validator])
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["domain"]
        verbose_name = _("mail domain")
        verbose_name_plural = _("mail domains")
        indexes = [models.Index(fields=["tenant", "domain"])]

    def __str__(self) -> str:
        return self.domain


class Invitation(TenantOwned):
    """A one-time, expiring link for an invited person to set their password.

    Only a SHA-256 of the token is stored: a database reader cannot accept an invitation.
    """

    user = models.ForeignKey("accounts.User", on_delete=models.CASCADE, related_name="invitations")
    token_hash = models.CharField(max_length=64, unique=True)
    invited_by = models.ForeignKey(
        "accounts.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["tenant", "accepted_at", "revoked_at", "expires_at"])]

    def __str__(self) -> str:
        return f"Invitation for {self.user_id}"
