"""Password policy: what a tenant accepts as a password, and whether a typed one still passes.

Design: one ``PasswordPolicy`` per tenant, either a profile or custom knobs.

- "Recommended" (the default) follows NIST SP 800-63B: at least 12 characters, long passphrases
  accepted (up to 256 by default, never fewer than 64), no composition rules, no expiry, and a
  blocklist: Django's common passwords plus context words (the tenant's name, slug and mail
  domains, the person's address and name).
- "Classic" is what many large mail vendors still enforce: 8 characters, upper, lower, digit
  and symbol, expiry after 90 days, the last 5 passwords refused.

Lengths are counted in characters after NFKC normalisation (a full-width letter is its
ordinary letter, an emoji one character), and a password is never truncated: what is hashed is what was typed.

The pure part (``PasswordRules``, ``password_problems``, ``compliance``) has no database access.
``PolicyPasswordValidator`` speaks Django's validator protocol so forms show its help text; its
only query is the history check, and only when the policy keeps history. Only password *hashes*
are ever stored (``PasswordHistory``); the services live in ``security.policies.getters``.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.password_validation import CommonPasswordValidator
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from security.policies.base import Decision
from tenants.models import TenantOwned

CHANGE_REQUIRED = "password_change_required"
EXPIRED = "password_expired"

# Bounds of the custom knobs. 8 is the platform floor; 64 is NIST's "accept at least".
MIN_LENGTH_FLOOR, MIN_LENGTH_CEILING = 8, 128
MAX_LENGTH_FLOOR, MAX_LENGTH_CEILING = 64, 1024
HISTORY_MAX = 24
EXPIRY_MAX_DAYS = 3650


class PasswordProfile(models.TextChoices):
    RECOMMENDED = "recommended", gettext_lazy("Recommended (NIST 800-63B)")
    CLASSIC = "classic", gettext_lazy("Classic (8 characters, four classes, 90-day expiry)")
    CUSTOM = "custom", gettext_lazy("Custom")


class NonCompliance(models.TextChoices):
    CHANGE_NOW = "change_now", gettext_lazy("Change it at sign-in")
    REPORT_ONLY = "report_only", gettext_lazy("Report only")


# The knobs each profile sets; "custom" takes them from the admin.
PROFILE_SETTINGS: dict[str, dict[str, Any]] = {
    PasswordProfile.RECOMMENDED: {
        "min_length": 12, "max_length": 256, "require_upper": False, "require_lower": False,
        "require_digit": False, "require_symbol": False, "history_count": 0, "expiry_days": 0,
    },
    PasswordProfile.CLASSIC: {
        "min_length": 8, "max_length": 256, "require_upper": True, "require_lower": True,
        "require_digit": True, "require_symbol": True, "history_count": 5, "expiry_days": 90,
    },
}
KNOBS = tuple(PROFILE_SETTINGS[PasswordProfile.RECOMMENDED])


class PasswordPolicy(TenantOwned):
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
    updated_at = models.DateTimeField(gettext_lazy("updated"), auto_now=True)
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True,
                                   blank=True, related_name="+", verbose_name=gettext_lazy("updated by"))

    class Meta:
        verbose_name = gettext_lazy("password policy")
        verbose_name_plural = gettext_lazy("password policies")
        constraints = [models.UniqueConstraint(fields=["tenant"], name="password_policy_one_per_tenant")]

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


# --- Pure part -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PasswordRules:
    min_length: int = 12
    max_length: int = 256
    require_upper: bool = False
    require_lower: bool = False
    require_digit: bool = False
    require_symbol: bool = False
    history_count: int = 0
    expiry_days: int = 0
    on_noncompliant: str = NonCompliance.CHANGE_NOW
    # The tenant's context words (name, slug, mail domain labels), already normalised.
    context_words: tuple[str, ...] = field(default=())

    @classmethod
    def from_policy(cls, policy: PasswordPolicy, *, context_words: Iterable[str] = ()) -> PasswordRules:
        return cls(**{knob: getattr(policy, knob) for knob in KNOBS},
                   on_noncompliant=policy.on_noncompliant, context_words=tuple(context_words))


def normalize_password(password: str) -> str:
    return unicodedata.normalize("NFKC", password or "")


def _fold(text: str) -> str:
    return unicodedata.normalize("NFKC", text or "").casefold()


_SPLIT = re.compile(r"[\W_]+")


def _meaningful(word: str) -> bool:
    # Two Han/Kana/Hangul characters are a name; two Latin letters match far too many passwords.
    if any(ord(c) >= 0x2E80 for c in word):
        return len(word) >= 2
    return len(word) >= 3


def context_words(*texts: str) -> tuple[str, ...]:
    """Folded words worth blocking: each text whole (separators removed) and its parts."""
    words: set[str] = set()
    for text in texts:
        folded = _fold(text)
        parts = [p for p in _SPLIT.split(folded) if p]
        words.update(parts)
        words.add("".join(parts))
    return tuple(sorted(w for w in words if _meaningful(w)))


def domain_context_words(domain: str) -> tuple[str, ...]:
    # Every label but the last: "acme" from acme.example, but not "com" or "example" alone.
    labels = (domain or "").lower().split(".")
    return context_words(*labels[:-1]) if len(labels) > 1 else context_words(*labels)


def user_context_words(user: Any) -> tuple[str, ...]:
    if user is None:
        return ()
    email = getattr(user, "email", "") or ""
    return context_words(email.split("@", 1)[0], getattr(user, "display_name", "") or "")


@functools.cache
def _common_passwords() -> CommonPasswordValidator:
    # Reading the 20,000-entry list costs milliseconds; do it once per process.
    return CommonPasswordValidator()


def _too_short(n: int) -> ValidationError:
    return ValidationError(
        ngettext("This password is too short. It must contain at least %(min_length)d character.",
                 "This password is too short. It must contain at least %(min_length)d characters.", n),
        code="password_too_short", params={"min_length": n})


def password_problems(password: str, user: Any, rules: PasswordRules, *,
                      check_common: bool = True) -> list[ValidationError]:
    """Every way this password breaks the rules (history aside); empty when it complies."""
    problems: list[ValidationError] = []
    text = normalize_password(password)
    length = len(text)
    if length < rules.min_length:
        problems.append(_too_short(rules.min_length))
    if length > rules.max_length:
        problems.append(ValidationError(
            ngettext("This password is too long. It may contain at most %(max_length)d character.",
                     "This password is too long. It may contain at most %(max_length)d characters.",
                     rules.max_length),
            code="password_too_long", params={"max_length": rules.max_length}))
    if rules.require_upper and not any(c.isupper() for c in text):
        problems.append(ValidationError(_("This password must contain an upper-case letter."),
                                        code="password_no_upper"))
    if rules.require_lower and not any(c.islower() for c in text):
        problems.append(ValidationError(_("This password must contain a lower-case letter."),
                                        code="password_no_lower"))
    if rules.require_digit and not any(c.isdecimal() for c in text):
        problems.append(ValidationError(_("This password must contain a digit."),
                                        code="password_no_digit"))
    if rules.require_symbol and not any(unicodedata.category(c)[0] in "PS" for c in text):
        problems.append(ValidationError(_("This password must contain a symbol, such as ! or #."),
                                        code="password_no_symbol"))
    folded = text.casefold()
    for word in (*rules.context_words, *user_context_words(user)):
        if word in folded:
            problems.append(ValidationError(
                _("This password contains “%(word)s”, which is easy to guess for anyone who knows "
                  "you or your company."), code="password_context_word", params={"word": word}))
            break
    if check_common:
        try:
            _common_passwords().validate(text)
        except ValidationError as exc:
            problems.extend(exc.error_list)
    return problems


def password_expires_at(changed_at: datetime | None, rules: PasswordRules) -> datetime | None:
    if not rules.expiry_days or changed_at is None:
        return None
    return changed_at + timedelta(days=rules.expiry_days)


def compliance(password: str, user: Any, rules: PasswordRules, *,
               changed_at: datetime | None = None, now: datetime | None = None) -> Decision:
    """The password step at sign-in, once the typed password is known to be right.

    Expired → challenge ``password_expired``; no longer compliant → challenge
    ``password_change_required`` (or, in report-only mode, allowed and flagged as monitored).
    ``changed_at`` unknown means never expired: the clock starts at the first recorded change.
    """
    expires_at = password_expires_at(changed_at, rules)
    if expires_at is not None and now is not None and now >= expires_at:
        return Decision.challenge(EXPIRED)
    if password_problems(password, user, rules, check_common=True):
        if rules.on_noncompliant == NonCompliance.REPORT_ONLY:
            return Decision.would_deny(CHANGE_REQUIRED)
        return Decision.challenge(CHANGE_REQUIRED)
    return Decision.allow()


class PolicyPasswordValidator:
    """Django's validator protocol over a tenant's ``PasswordRules``.

    ``check_common`` is off when Django's own ``CommonPasswordValidator`` runs alongside, so a
    common password is reported once.
    """

    def __init__(self, rules: PasswordRules | None = None, *, check_common: bool = False,
                 check_history: bool = True) -> None:
        self.rules = rules or PasswordRules()
        self.check_common = check_common
        self.check_history = check_history

    def validate(self, password: str, user: Any = None) -> None:
        problems = password_problems(password, user, self.rules, check_common=self.check_common)
        if self.check_history and self.rules.history_count and _reused(password, user, self.rules):
            problems.append(ValidationError(
                ngettext("You used this password recently. Choose one that is not your last password.",
                         "You used this password recently. Choose one that is not among your last "
                         "%(count)d passwords.", self.rules.history_count),
                code="password_reused", params={"count": self.rules.history_count}))
        if problems:
            raise ValidationError(problems)

    def get_help_text(self) -> str:
        rules = self.rules
        parts = [
            _("Your password must contain at least %(min)d characters (up to %(max)d); a long "
              "passphrase with spaces is welcome.") % {"min": rules.min_length, "max": rules.max_length},
        ]
        classes = [label for flag, label in (
            (rules.require_upper, _("an upper-case letter")),
            (rules.require_lower, _("a lower-case letter")),
            (rules.require_digit, _("a digit")),
            (rules.require_symbol, _("a symbol")),
        ) if flag]
        if classes:
            parts.append(_("It must include %(classes)s.") % {"classes": ", ".join(classes)})
        parts.append(_("It cannot contain your name, your e-mail address or your company's name, "
                       "and cannot be a commonly used password."))
        if rules.history_count:
            parts.append(ngettext("It cannot be your previous password.",
                                  "It cannot be one of your last %(count)d passwords.",
                                  rules.history_count) % {"count": rules.history_count})
        if rules.expiry_days:
            parts.append(ngettext("It expires after %(days)d day.", "It expires after %(days)d days.",
                                  rules.expiry_days) % {"days": rules.expiry_days})
        return " ".join(parts)


def _reused(password: str, user: Any, rules: PasswordRules) -> bool:
    """The one query of the validator: the last N hashes (current password included)."""
    from django.contrib.auth.hashers import check_password

    if user is None or getattr(user, "pk", None) is None:
        return False
    hashes = list(
        PasswordHistory.objects.filter(tenant_id=user.tenant_id, user_id=user.pk)
        .order_by("-created_at", "-id").values_list("password_hash", flat=True)[:rules.history_count]
    )
    current = getattr(user, "password", "")
    if current and current not in hashes:
        # People whose current password predates the history still may not "change" to it.
        hashes.insert(0, current)
    # check_password, not user.check_password: no re-hash, no save, as a side effect.
    return any(check_password(password, encoded) for encoded in hashes[:rules.history_count])
