"""Password rules: what a tenant accepts as a password, and whether a typed one still passes.

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
only query is the history check, and only when the policy keeps history (``validators``).
Only password *hashes* are ever stored (``PasswordHistory``).
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from django.contrib.auth.password_validation import CommonPasswordValidator
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from activity.models import Reason
from security.policies.base import Decision

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


class PasswordSettings(Protocol):
    """What the rules read from a ``PasswordPolicy`` row (the model imports this module)."""

    min_length: int
    max_length: int
    require_upper: bool
    require_lower: bool
    require_digit: bool
    require_symbol: bool
    history_count: int
    expiry_days: int
    on_noncompliant: str


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
    def from_policy(cls, policy: PasswordSettings, *, context_words: Iterable[str] = ()) -> PasswordRules:
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
        return Decision.challenge(Reason.PASSWORD_EXPIRED)
    if password_problems(password, user, rules, check_common=True):
        if rules.on_noncompliant == NonCompliance.REPORT_ONLY:
            return Decision.would_deny(Reason.PASSWORD_CHANGE_REQUIRED)
        return Decision.challenge(Reason.PASSWORD_CHANGE_REQUIRED)
    return Decision.allow()
