"""Password validators that apply to one person: the platform's plus their tenant's policy.

Django's ``MinimumLengthValidator`` is left out for tenant people: length belongs to the tenant
policy (the Classic profile's 8 would otherwise be overruled by the platform's 12), and the
policy's own floor (8) and its NFKC character count replace it. Operators, who belong to no
tenant, get the settings' validators unchanged.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.password_validation import (
    MinimumLengthValidator,
    get_default_password_validators,
)

from security.policies.password import PolicyPasswordValidator


def password_validators_for(user: Any) -> list[Any]:
    defaults = list(get_default_password_validators())
    if user is None or getattr(user, "tenant_id", None) is None:
        return defaults
    from security.policies.getters import password_rules_for

    rules = password_rules_for(tenant=user.tenant)
    # Django's CommonPasswordValidator is in the defaults: the policy must not report it twice.
    return [v for v in defaults if not isinstance(v, MinimumLengthValidator)] + [
        PolicyPasswordValidator(rules, check_common=False, check_history=True)
    ]
