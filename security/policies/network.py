"""Network allowlist: which client addresses may sign in, per tenant.

Design: one ``NetworkPolicy`` per tenant (mode off / monitor / enforce, scope everyone or admin
roles only) with its ``NetworkAllowEntry`` rows (a normalised CIDR and a label). The sign-in
pipeline never reads the models: ``network_rules_for`` builds a frozen ``NetworkRules`` once,
with the networks collapsed into sorted integer ranges, and the pure ``evaluate`` answers with a
binary search, so 50 or 5,000 entries cost the same few microseconds and no query.

The client address is the one ``activity.clientip.client_ip`` decided (never a raw header).
IPv4-mapped IPv6 addresses are unwrapped so they match IPv4 entries, and the "unknown" sentinel
(``0.0.0.0`` or ``::``) matches nothing, not even ``0.0.0.0/0``: an address we could not
establish must not be let in by a catch-all entry.

Entries are validated strictly and never silently fixed: ``10.0.0.1/24`` is an error that
suggests ``10.0.0.0/24``, because the admin may have meant ``10.0.0.1/32``. Saving an enforced
list that would refuse the acting admin's own current address needs an explicit confirmation.
"""

from __future__ import annotations

import ipaddress
from bisect import bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from auditlog.context import disable_auditlog
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from security.policies.base import Decision, Mode, SignInContext
from tenants.models import Tenant, TenantOwned
from tenants.roles import ADMIN_ROLES

if TYPE_CHECKING:
    from accounts.models import User

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

DENIED = "network_denied"
MONITORED = "network_monitor"

# Bounds that keep a pasted 10 KB blob an error message instead of a slow request.
MAX_ENTRIES = 1000
LABEL_MAX_LENGTH = 100
CIDR_MAX_LENGTH = 49  # the longest IPv6 text form with a /128 is 43 characters


class NetworkScope(models.TextChoices):
    EVERYONE = "everyone", gettext_lazy("Everyone")
    ADMIN_ROLES = "admin_roles", gettext_lazy("Owners and administrators only")


class NetworkPolicy(TenantOwned):
    """A tenant's allowlist settings; its entries hang off it."""

    mode = models.CharField(gettext_lazy("mode"), max_length=16, choices=Mode.choices, default=Mode.OFF)
    scope = models.CharField(gettext_lazy("applies to"), max_length=16, choices=NetworkScope.choices,
                             default=NetworkScope.EVERYONE)
    updated_at = models.DateTimeField(gettext_lazy("updated"), auto_now=True)
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True,
                                   blank=True, related_name="+", verbose_name=gettext_lazy("updated by"))

    class Meta:
        verbose_name = gettext_lazy("network allowlist policy")
        verbose_name_plural = gettext_lazy("network allowlist policies")
        constraints = [models.UniqueConstraint(fields=["tenant"], name="network_policy_one_per_tenant")]

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


# --- Pure part: parsing, validation, evaluation ---------------------------------------------------


@dataclass(frozen=True, slots=True)
class AllowEntry:
    network: IPNetwork
    label: str = ""

    @property
    def cidr(self) -> str:
        return str(self.network)


def _ranges(networks: Iterable[IPNetwork]) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """Collapsed networks as parallel sorted tuples of first and last address integers."""
    collapsed = list(ipaddress.collapse_addresses(networks))  # type: ignore[type-var]  # merges, sorts
    return (tuple(int(n.network_address) for n in collapsed),
            tuple(int(n.broadcast_address) for n in collapsed))


@dataclass(frozen=True, slots=True)
class NetworkRules:
    """What ``evaluate`` needs, built once from the models; no database behind it."""

    mode: str = Mode.OFF
    scope: str = NetworkScope.EVERYONE
    networks: tuple[IPNetwork, ...] = ()
    v4_first: tuple[int, ...] = ()
    v4_last: tuple[int, ...] = ()
    v6_first: tuple[int, ...] = ()
    v6_last: tuple[int, ...] = ()

    @classmethod
    def build(cls, *, mode: str, scope: str, networks: Iterable[IPNetwork]) -> NetworkRules:
        nets = tuple(networks)
        v4_first, v4_last = _ranges(n for n in nets if n.version == 4)
        v6_first, v6_last = _ranges(n for n in nets if n.version == 6)
        return cls(mode=mode, scope=scope, networks=nets, v4_first=v4_first, v4_last=v4_last,
                   v6_first=v6_first, v6_last=v6_last)

    def applies_to(self, role: str) -> bool:
        if self.mode == Mode.OFF:
            return False
        return self.scope != NetworkScope.ADMIN_ROLES or role in ADMIN_ROLES


def _client_address(ip: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        address = ipaddress.ip_address(ip.strip())
    except (ValueError, AttributeError):
        return None
    if isinstance(address, ipaddress.IPv6Address):
        if address.scope_id:
            address = ipaddress.IPv6Address(str(address).split("%", 1)[0])
        if address.ipv4_mapped is not None:
            address = address.ipv4_mapped
    if address.is_unspecified:  # activity.clientip.UNKNOWN_IP, or "::"
        return None
    return address


def ip_allowed(ip: str, rules: NetworkRules) -> bool:
    """Whether the address is inside one of the allowed networks (unknown addresses never are)."""
    address = _client_address(ip)
    if address is None:
        return False
    firsts, lasts = (rules.v4_first, rules.v4_last) if address.version == 4 else (rules.v6_first, rules.v6_last)
    value = int(address)
    index = bisect_right(firsts, value) - 1
    return index >= 0 and value <= lasts[index]


def evaluate(ctx: SignInContext, policy: NetworkRules) -> Decision:
    """The allowlist's verdict on one sign-in attempt (or one request of a session)."""
    if not policy.applies_to(ctx.role) or ip_allowed(ctx.ip, policy):
        return Decision.allow()
    if policy.mode == Mode.ENFORCE:
        return Decision.deny(DENIED)
    return Decision.would_deny(MONITORED)


def _shown(text: str) -> str:
    # Echo bad input back, but never a 10 KB line inside an error message.
    return text if len(text) <= 60 else text[:57] + "…"


def parse_network(text: str) -> IPNetwork:
    """One CIDR (or bare address) as a network; raises a translated ``ValidationError``."""
    value = (text or "").strip()
    if not value or len(value) > CIDR_MAX_LENGTH:
        raise ValidationError(
            _("“%(value)s” is not a valid IPv4 or IPv6 network, such as 192.0.2.0/24 or 2001:db8::/32."),
            code="cidr_invalid", params={"value": _shown(value)})
    try:
        network = ipaddress.ip_network(value, strict=True)
    except ValueError:
        try:
            loose = ipaddress.ip_network(value, strict=False)
        except ValueError:
            loose = None
        if loose is not None:
            raise ValidationError(
                _("“%(value)s” has host bits set. Did you mean the network %(network)s, "
                  "or the single address %(address)s?"),
                code="cidr_host_bits",
                params={"value": value, "network": str(loose),
                        "address": f"{value.split('/', 1)[0]}/{loose.max_prefixlen}"}) from None
        raise ValidationError(
            _("“%(value)s” is not a valid IPv4 or IPv6 network, such as 192.0.2.0/24 or 2001:db8::/32."),
            code="cidr_invalid", params={"value": _shown(value)}) from None
    # An IPv4-mapped IPv6 network means IPv4 addresses, which is how clients are compared.
    if (isinstance(network, ipaddress.IPv6Network) and network.prefixlen >= 96
            and network.network_address.ipv4_mapped is not None):
        network = ipaddress.IPv4Network((network.network_address.ipv4_mapped, network.prefixlen - 96))
    return network


def network_entries_clean(entries: Sequence[tuple[str, str]], *, mode: str = Mode.OFF) -> list[AllowEntry]:
    """Validate ``(cidr, label)`` pairs; every problem is reported at once, nothing is fixed."""
    errors: list[ValidationError] = []
    if len(entries) > MAX_ENTRIES:
        raise ValidationError(_("An allowlist holds at most %(max)d entries."), code="too_many",
                              params={"max": MAX_ENTRIES})
    cleaned: list[AllowEntry] = []
    seen: dict[IPNetwork, str] = {}
    for cidr, label in entries:
        try:
            network = parse_network(cidr)
        except ValidationError as exc:
            errors.append(exc)
            continue
        label = (label or "").strip()
        if len(label) > LABEL_MAX_LENGTH:
            errors.append(ValidationError(
                _("The label of %(network)s is longer than %(max)d characters."), code="label_too_long",
                params={"network": str(network), "max": LABEL_MAX_LENGTH}))
            continue
        if network in seen:
            errors.append(ValidationError(
                _("%(network)s is listed more than once (as “%(first)s” and “%(again)s”)."),
                code="cidr_duplicate",
                params={"network": str(network), "first": seen[network], "again": _shown(cidr.strip())}))
            continue
        seen[network] = cidr.strip()
        cleaned.append(AllowEntry(network=network, label=label))
    if errors:
        raise ValidationError(errors)
    if mode == Mode.ENFORCE and not cleaned:
        raise ValidationError(
            _("An enforced allowlist with no entries would stop everyone from signing in. "
              "Add at least one network, or choose monitor or off."),
            code="empty_enforce")
    return cleaned


# --- Services and selectors ---------------------------------------------------------------------


def network_policy_get(*, tenant: Tenant) -> NetworkPolicy:
    """The tenant's network policy, created with safe defaults (off, everyone) if missing."""
    existing = NetworkPolicy.objects.filter(tenant=tenant).first()
    if existing is not None:
        return existing
    # Materialising the defaults is not a policy change: keep it out of the audit trail.
    with disable_auditlog():
        policy, _created = NetworkPolicy.objects.get_or_create(tenant=tenant)
    return policy


def network_rules_for(*, tenant: Tenant) -> NetworkRules:
    """The tenant's allowlist as pure rules for ``evaluate`` (two queries at most, no writes)."""
    policy = NetworkPolicy.objects.filter(tenant=tenant).first()
    if policy is None or policy.mode == Mode.OFF:
        return NetworkRules(mode=Mode.OFF, scope=policy.scope if policy else NetworkScope.EVERYONE)
    cidrs = NetworkAllowEntry.objects.filter(tenant=tenant, policy=policy).values_list("cidr", flat=True)
    return NetworkRules.build(mode=policy.mode, scope=policy.scope, networks=networks_from(cidrs))


def networks_from(cidrs: Iterable[str]) -> list[IPNetwork]:
    """Stored CIDRs as networks, skipping any that no longer parse."""
    networks = []
    for cidr in cidrs:
        try:
            networks.append(parse_network(cidr))
        except ValidationError:
            continue  # rows are validated on save; a stray one must neither open nor break sign-in
    return networks


def network_entries_list(*, tenant: Tenant, policy: NetworkPolicy) -> list[NetworkAllowEntry]:
    return list(NetworkAllowEntry.objects.filter(tenant=tenant, policy=policy).order_by("id"))


def _check_choice(value: str, choices: Iterable[str], field: str) -> None:
    if value not in choices:
        raise ValidationError(_("Choose a valid %(field)s."), code="invalid_choice", params={"field": field})


@transaction.atomic
def network_policy_update(
    *, tenant: Tenant, actor: User, entries: list[tuple[str, str]], mode: str, scope: str,
    confirm_self_lockout: bool, actor_ip: str, now: datetime | None = None,
) -> NetworkPolicy:
    """Replace the tenant's allowlist and settings; refuses to lock out the actor unless confirmed."""
    if actor.tenant_id != tenant.pk:
        raise ValidationError(_("You can only change your own company's policies."), code="wrong_tenant")
    _check_choice(mode, Mode.values, _("mode"))
    _check_choice(scope, NetworkScope.values, _("scope"))
    cleaned = network_entries_clean(entries, mode=mode)
    rules = NetworkRules.build(mode=mode, scope=scope, networks=(e.network for e in cleaned))
    ctx = SignInContext(ip=actor_ip, now=now or timezone.now(), role=actor.role, user_id=actor.pk)
    if mode == Mode.ENFORCE and not evaluate(ctx, rules).allowed and not confirm_self_lockout:
        raise ValidationError(
            _("Your current address %(ip)s is not in this allowlist: once saved, you would no longer "
              "be able to sign in from here. Confirm to save anyway."),
            code="self_lockout", params={"ip": actor_ip})

    network_policy_get(tenant=tenant)
    policy = NetworkPolicy.objects.select_for_update().get(tenant=tenant)
    current = {e.cidr: e for e in NetworkAllowEntry.objects.filter(tenant=tenant, policy=policy)}
    wanted = {e.cidr: e for e in cleaned}
    changed = policy.mode != mode or policy.scope != scope
    # Row by row rather than delete-all/insert-all, so the audit trail shows what really changed.
    for cidr, stale in current.items():
        if cidr not in wanted:
            stale.delete()
            changed = True
    for cidr, entry in wanted.items():
        row = current.get(cidr)
        if row is None:
            NetworkAllowEntry.objects.create(tenant=tenant, policy=policy, cidr=cidr, label=entry.label)
            changed = True
        elif row.label != entry.label:
            row.label = entry.label
            row.save(update_fields=["label"])
            changed = True
    if changed:
        policy.mode, policy.scope, policy.updated_by = mode, scope, actor
        policy.save()
    return policy
