"""Password validators: Django's validator protocol over a tenant's rules, and the validators
that apply to one person.

Django's ``MinimumLengthValidator`` is left out for tenant people: length belongs to the tenant
policy (the Classic profile's 8 would otherwise be overruled by the platform's 12), and the
policy's own floor (8) and its NFKC character count replace it. Operators, who belong to no
tenant, get the settings' validators unchanged.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.hashers import check_password
from django.contrib.auth.password_validation import (
    MinimumLengthValidator,
    get_default_password_validators,
)
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from security.policies.password.models import PasswordHistory
from security.policies.password.rules import PasswordRules, password_problems
from security.policies.password.selectors import password_rules_for


def password_validators_for(user: Any) -> list[Any]:
    """The validators of this person's password: the platform's and their tenant's policy."""
    defaults = list(get_default_password_validators())
    if user is None or getattr(user, "tenant_id", None) is None:
        return defaults
    rules = password_rules_for(tenant=user.tenant)
    # Django's CommonPasswordValidator is in the defaults: the policy must not report it twice.
    return [v for v in defaults if not isinstance(v, MinimumLengthValidator)] + [
        PolicyPasswordValidator(rules, check_common=False, check_history=True)
    ]


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
