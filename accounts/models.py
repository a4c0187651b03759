"""The custom user: one person, employed by exactly one tenant; the e-mail address is the login."""

from __future__ import annotations

import unicodedata

from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.db import models
from django.utils import timezone as dj_timezone
from django.utils.translation import gettext_lazy as _

from tenants.models import Tenant, TenantQuerySet, validate_timezone
from tenants.roles import Role, role_has


def normalize_email(value: str) -> str:
    """One canonical form per address: ``Alice@ACME.example`` and ``alice@acme.example`` are one."""
    return unicodedata.normalize("NFKC", value or "").strip().lower()


class UserQuerySet(TenantQuerySet):
    pass


class UserManager(BaseUserManager.from_queryset(UserQuerySet)):  # type: ignore[misc]
    use_in_migrations = True

    def get_by_natural_key(self, username: str) -> User:
        return self.get(email=normalize_email(username))

    def create_user(self, email: str, password: str | None = None, **extra: object) -> User:
        user = self.model(email=normalize_email(email), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **extra: object) -> User:
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        extra.setdefault("tenant", None)
        return self.create_user(email, password, **extra)


class User(AbstractBaseUser, PermissionsMixin):
    class Status(models.TextChoices):
        INVITED = "invited", _("Invited")
        ACTIVE = "active", _("Active")
        SUSPENDED = "suspended", _("Suspended")
        OFFBOARDED = "offboarded", _("Offboarded")

    email = models.EmailField(_("e-mail address"), max_length=254, unique=True)
    display_name = models.CharField(_("display name"), max_length=150, blank=True)
    # Null only for platform operators (superusers); see the check constraint below.
    tenant = models.ForeignKey(
        Tenant, on_delete=models.PROTECT, null=True, blank=True, related_name="people",
        verbose_name=_("tenant"),
    )
    role = models.CharField(_("role"), max_length=16, choices=Role.choices, default=Role.MEMBER)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.ACTIVE)
    language = models.CharField(_("language"), max_length=16, blank=True)
    timezone = models.CharField(_("time zone"), max_length=64, blank=True, validators=[validate_timezone])
    is_staff = models.BooleanField(_("operator"), default=False)
    date_joined = models.DateTimeField(_("joined"), default=dj_timezone.now)
    status_changed_at = models.DateTimeField(null=True, blank=True)
    # Set when the account is secured after a compromise ("This wasn't me", offboarding, reset):
    # the next sign-in must choose a new password. Cleared by the person's own password change.
    must_change_password = models.BooleanField(_("must change password at next sign-in"), default=False)
    # An admin's switch on the person page (security.policies.mail): no IMAP, POP3 or SMTP sign-in
    # at all, refused by the mail policy endpoint and hidden from the passdb view; the web console
    # is not affected.
    mail_protocols_off = models.BooleanField(_("mail protocols off"), default=False)
    # A scheduled offboarding (people.offboarding): the beat task carries it out once
    # ``offboard_at`` has passed; cancelling or reactivating clears all three. After it is
    # carried out they stay as they were, so the person page says when, why and at whose request.
    offboard_at = models.DateTimeField(_("offboarding date"), null=True, blank=True)
    offboard_reason = models.CharField(_("offboarding reason"), max_length=500, blank=True)
    offboard_requested_by = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="+",
        verbose_name=_("offboarding requested by"),
    )

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = []  # Django's own class attribute

    class Meta:
        ordering = ["email"]
        verbose_name = _("person")
        verbose_name_plural = _("people")
        indexes = [
            models.Index(fields=["tenant", "role"]),
            models.Index(fields=["tenant", "status"]),
            # The beat task's "which offboardings are due": only scheduled rows are indexed, so
            # the whole (small) index is read; tenant first, as every tenant data index.
            models.Index(fields=["tenant", "offboard_at"], name="user_offboard_scheduled",
                         condition=models.Q(offboard_at__isnull=False)),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(tenant__isnull=False) | models.Q(is_superuser=True),
                name="user_tenant_or_operator",
            ),
        ]

    def __str__(self) -> str:
        return self.display_name or self.email

    def save(self, *args: object, **kwargs: object) -> None:
        self.email = normalize_email(self.email)
        super().save(*args, **kwargs)  # type: ignore[arg-type]

    @property
    def is_active(self) -> bool:  # type: ignore[override]
        """Only active people of an active tenant (or operators) may sign in."""
        if self.status != self.Status.ACTIVE:
            return False
        return self.tenant is None or self.tenant.is_active

    def can(self, cap: object) -> bool:
        return self.tenant_id is not None and role_has(self.role, cap)  # type: ignore[arg-type]

    def get_full_name(self) -> str:
        return self.display_name or self.email

    def get_short_name(self) -> str:
        return self.display_name or self.email.split("@", 1)[0]

    @property
    def effective_timezone(self) -> str:
        if self.timezone:
            return self.timezone
        return self.tenant.timezone if self.tenant is not None else "UTC"


from accounts.mailclients.models import *  # noqa: E402,F403  (client-specific passwords)
from accounts.mfa.models import *  # noqa: E402,F403  (MFA devices live in accounts.mfa)
