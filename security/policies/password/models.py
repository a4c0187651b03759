"""The password policy's rows: the tenant's ``PasswordPolicy``, and per person their
``PasswordState`` (when it changed, whether it complied), ``PasswordHistory`` (previous *hashes*,
never passwords) and ``PasswordExpiryReminder`` (one row per reminder sent)."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy

from security.policies.models import TenantPolicy, one_per_tenant
from security.policies.password.rules import (
    EXPIRY_MAX_DAYS,
    HISTORY_MAX,
    MAX_LENGTH_CEILING,
    MAX_LENGTH_FLOOR,
    MIN_LENGTH_CEILING,
    MIN_LENGTH_FLOOR,
    NonCompliance,
    PasswordProfile,
)
from tenants.models import TenantOwned


class PasswordPolicy(TenantPolicy):
    """A tenant's password rules (one row per tenant)."""

    profile = models.CharField(gettext_lazy("profile"), max_length=16, choices=PasswordProfile.choices,
                               default=PasswordProfile.RECOMMENDED)
    min_length = models.PositiveSmallIntegerField(
        gettext_lazy("minimum length"), default=12,
        validators=[MinValueValidator(MIN_LENGTH_FLOOR), MaxValueValidator(MIN_LENGTH_CEILING)])
    max_length = models.PositiveSmallIntegerField(
        gettext_lazy("maximum length"), default=256,
        validators=[MinValueValidator(MAX_LENGTH_FLOOR), MaxValueValidator(MAX_LENGTH_CEILING)])
    require_upper = models.BooleanField(gettext_lazy("require an upper-case letter"), default=False)
    require_lower = models.BooleanField(gettext_lazy("require a lower-case letter"), default=False)
    require_digit = models.BooleanField(gettext_lazy("require a digit"), default=False)
    require_symbol = models.BooleanField(gettext_lazy("require a symbol"), default=False)
    history_count = models.PositiveSmallIntegerField(
        gettext_lazy("previous passwords refused"), default=0,
        validators=[MaxValueValidator(HISTORY_MAX)])
    expiry_days = models.PositiveSmallIntegerField(
        gettext_lazy("expiry (days, 0 = never)"), default=0,
        validators=[MaxValueValidator(EXPIRY_MAX_DAYS)])
    on_noncompliant = models.CharField(
        gettext_lazy("when a password no longer complies"), max_length=16,
        choices=NonCompliance.choices, default=NonCompliance.CHANGE_NOW)

    class Meta:
        verbose_name = gettext_lazy("password policy")
        verbose_name_plural = gettext_lazy("password policies")
        constraints = [one_per_tenant("password_policy_one_per_tenant")]

    def __str__(self) -> str:
        return f"password policy of tenant {self.tenant_id}"


class PasswordHistory(TenantOwned):
    """A previous password's hash (never the password), to refuse re-use of the last N."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    password_hash = models.CharField(max_length=256)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["tenant", "user", "-created_at"], name="password_history_user")]

    def __str__(self) -> str:
        return f"password history of {self.user_id}"


class PasswordState(TenantOwned):
    """When a person last changed their password, and whether it complied at their last sign-in."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                                related_name="password_state")
    changed_at = models.DateTimeField(gettext_lazy("password changed"))
    # None: not checked since the state was created (no sign-in yet).
    compliant = models.BooleanField(gettext_lazy("complies with the policy"), null=True)
    compliance_checked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["tenant", "compliant"], name="password_state_compliant"),
            models.Index(fields=["tenant", "changed_at"], name="password_state_changed"),
        ]

    def __str__(self) -> str:
        return f"password state of {self.user_id}"


class PasswordExpiryReminder(TenantOwned):
    """One reminder sent; the unique key makes the reminder task idempotent."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    threshold_days = models.PositiveSmallIntegerField()
    expires_on = models.DateField()
    sent_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "threshold_days", "expires_on"],
                                               name="password_reminder_once")]
        indexes = [models.Index(fields=["tenant", "expires_on"], name="password_reminder_tenant")]

    def __str__(self) -> str:
        return f"reminder {self.threshold_days}d for {self.user_id}"
