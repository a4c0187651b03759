"""The allowlist's rows: one ``NetworkPolicy`` per tenant and its ``NetworkAllowEntry`` rows."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy

from security.policies.base import Channels, Mode
from security.policies.models import TenantPolicy, one_per_tenant
from security.policies.network.rules import CIDR_MAX_LENGTH, LABEL_MAX_LENGTH, NetworkScope
from tenants.models import TenantOwned


class NetworkPolicy(TenantPolicy):
    """A tenant's allowlist settings; its entries hang off it."""

    mode = models.CharField(gettext_lazy("mode"), max_length=16, choices=Mode.choices, default=Mode.OFF)
    scope = models.CharField(gettext_lazy("applies to"), max_length=16, choices=NetworkScope.choices,
                             default=NetworkScope.EVERYONE)
    channels = models.CharField(gettext_lazy("sign-ins covered"), max_length=8, choices=Channels.choices,
                                default=Channels.BOTH)

    class Meta:
        verbose_name = gettext_lazy("network allowlist policy")
        verbose_name_plural = gettext_lazy("network allowlist policies")
        constraints = [one_per_tenant("network_policy_one_per_tenant")]

    def __str__(self) -> str:
        return f"network policy of tenant {self.tenant_id}"


class NetworkAllowEntry(TenantOwned):
    """One allowed network, stored in its normalised text form (``ipaddress`` ``str``)."""

    policy = models.ForeignKey(NetworkPolicy, on_delete=models.CASCADE, related_name="entries",
                               verbose_name=gettext_lazy("policy"))
    cidr = models.CharField(gettext_lazy("network"), max_length=CIDR_MAX_LENGTH)
    label = models.CharField(gettext_lazy("label"), max_length=LABEL_MAX_LENGTH, blank=True)
    created_at = models.DateTimeField(gettext_lazy("created"), auto_now_add=True)

    class Meta:
        ordering = ["id"]
        verbose_name = gettext_lazy("allowed network")
        verbose_name_plural = gettext_lazy("allowed networks")
        constraints = [models.UniqueConstraint(fields=["policy", "cidr"], name="network_entry_unique_cidr")]
        indexes = [models.Index(fields=["tenant", "policy"], name="network_entry_tenant")]

    def __str__(self) -> str:
        return self.cidr
