"""The sign-in hours row: one ``SignInHoursPolicy`` per tenant, its schedule one JSON list."""

from __future__ import annotations

from typing import Any

from django.db import models
from django.utils.translation import gettext_lazy

from security.policies.base import Channels, Mode
from security.policies.hours.rules import HoursScope, hours_schedule_clean
from security.policies.models import TenantPolicy, one_per_tenant


def validate_schedule(value: Any) -> None:
    """Model-field validator: the same rules as the service, for ``full_clean`` and the admin."""
    hours_schedule_clean(value)


class SignInHoursPolicy(TenantPolicy):
    mode = models.CharField(gettext_lazy("mode"), max_length=16, choices=Mode.choices, default=Mode.OFF)
    scope = models.CharField(gettext_lazy("applies to"), max_length=16, choices=HoursScope.choices,
                             default=HoursScope.EVERYONE)
    channels = models.CharField(gettext_lazy("sign-ins covered"), max_length=8, choices=Channels.choices,
                                default=Channels.BOTH)
    schedule = models.JSONField(gettext_lazy("weekly schedule"), default=list, blank=True,
                                validators=[validate_schedule])

    class Meta:
        verbose_name = gettext_lazy("sign-in hours policy")
        verbose_name_plural = gettext_lazy("sign-in hours policies")
        constraints = [one_per_tenant("hours_policy_one_per_tenant")]

    def __str__(self) -> str:
        return f"sign-in hours of tenant {self.tenant_id}"
