"""Network allowlist rules: parsing, validation and the pure ``evaluate``.

Design: one ``NetworkPolicy`` per tenant (mode off / monitor / enforce, scope everyone or admin
roles only, channels the web console, mail clients or both) with its ``NetworkAllowEntry`` rows
(a normalised CIDR and a label). The sign-in pipeline never reads the models:
``network_rules_for`` (selectors) builds a frozen ``NetworkRules`` once, with the networks
collapsed into sorted integer ranges, and the pure ``evaluate`` answers with a binary search,
so 50 or 5,000 entries cost the same few microseconds and no query.

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
from typing import Protocol

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from activity.models import Reason
from security.policies.base import Channel, Channels, Decision, Mode, SignInContext, channel_covered
from tenants.roles import ADMIN_ROLES

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

# Bounds that keep a pasted 10 KB blob an error message instead of a slow request.
MAX_ENTRIES = 1000
LABEL_MAX_LENGTH = 100
CIDR_MAX_LENGTH = 49  # the longest IPv6 text form with a /128 is 43 characters


class NetworkScope(models.TextChoices):
    EVERYONE = "everyone", gettext_lazy("Everyone")
    ADMIN_ROLES = "admin_roles", gettext_lazy("Owners and administrators only")


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
    channels: str = Channels.BOTH
    networks: tuple[IPNetwork, ...] = ()
    v4_first: tuple[int, ...] = ()
    v4_last: tuple[int, ...] = ()
    v6_first: tuple[int, ...] = ()
    v6_last: tuple[int, ...] = ()

    @classmethod
    def build(cls, *, mode: str, scope: str, networks: Iterable[IPNetwork],
              channels: str = Channels.BOTH) -> NetworkRules:
        nets = tuple(networks)
        v4_first, v4_last = _ranges(n for n in nets if n.version == 4)
        v6_first, v6_last = _ranges(n for n in nets if n.version == 6)
        return cls(mode=mode, scope=scope, channels=channels, networks=nets, v4_first=v4_first,
                   v4_last=v4_last, v6_first=v6_first, v6_last=v6_last)

    def applies_to(self, role: str, channel: Channel = Channel.WEB) -> bool:
        if self.mode == Mode.OFF or not channel_covered(self.channels, channel):
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


def evaluate(ctx: SignInContext, rules: NetworkRules) -> Decision:
    """The allowlist's verdict on one sign-in attempt (or one request of a session), over the
    attempt's channel: a list kept to the web console lets every mail client through, and the
    other way round."""
    if not rules.applies_to(ctx.role, ctx.channel) or ip_allowed(ctx.ip, rules):
        return Decision.allow()
    if rules.mode == Mode.ENFORCE:
        return Decision.deny(Reason.NETWORK_DENIED)
    return Decision.would_deny(Reason.NETWORK_MONITOR)


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


def networks_from(cidrs: Iterable[str]) -> list[IPNetwork]:
    """Stored CIDRs as networks, skipping any that no longer parse."""
    networks = []
    for cidr in cidrs:
        try:
            networks.append(parse_network(cidr))
        except ValidationError:
            continue  # rows are validated on save; a stray one must neither open nor break sign-in
    return networks


class _Listed(Protocol):
    @property
    def cidr(self) -> str: ...
    @property
    def label(self) -> str: ...


def entries_text(entries: Iterable[_Listed]) -> str:
    """An allowlist as the page shows it and the audit trail records it: one ``cidr label`` a line."""
    return "\n".join(f"{entry.cidr} {entry.label}".strip() for entry in entries)
