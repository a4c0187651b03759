"""Password spray and credential stuffing: one network failing on ``accounts`` (5) distinct
accounts of a tenant within ``minutes`` (10).

The network is the failing address's /24 for IPv4 and /64 for IPv6 by default (one customer
line, one IPv6 subnet: an attacker rotating the last bits is still one source); prefixes of 32
and 128 judge single addresses. An IPv4-mapped IPv6 address counts as IPv4. Accounts are the
attempted logins, so guesses at addresses that have no account count: that is what stuffing
with a leaked list looks like. Every failure counts, whatever its reason. A tenant lists the
networks never judged (``ignore_networks``: its offices' and VPN's outgoing addresses, where many
people mistyping at nine in the morning is not an attack).

The alert is keyed by network and the tenant's calendar day, and concerns no single person.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from activity.models import Outcome
from alerts.rules.base import Event, Finding, History, Severity, TenantContext
from alerts.rules.common import (
    Spec,
    dedup_key,
    iso,
    local_day,
    network_of,
    num,
    param_fields,
    parse_params,
    text,
)

CODE = "password_spray"
TITLE = gettext_lazy("Password spray")
DEFAULT_SEVERITY = Severity.HIGH
EVENT_KIND = "signin"
NEEDS = frozenset({"network_failures"})
ACCOUNTS_SHOWN = 50


@dataclass(frozen=True, slots=True)
class Params:
    accounts: int = 5
    minutes: int = 10
    ipv4_prefix: int = 24
    ipv6_prefix: int = 64
    ignore_networks: str = ""  # CIDRs, comma-separated, normalised by params_from
    severity: Severity = DEFAULT_SEVERITY


SPECS = {
    "accounts": Spec(gettext_lazy("Distinct accounts"), "int",
                     gettext_lazy("Failures on this many different accounts from one network is a spray."),
                     minimum=2, maximum=10000),
    "minutes": Spec(gettext_lazy("Window (minutes)"), "int",
                    gettext_lazy("How far back failures are counted."),
                    minimum=1, maximum=1440),
    "ipv4_prefix": Spec(gettext_lazy("IPv4 network size (prefix length)"), "int",
                        gettext_lazy("24 groups a /24 (256 addresses); 32 judges each address alone."),
                        minimum=16, maximum=32),
    "ipv6_prefix": Spec(gettext_lazy("IPv6 network size (prefix length)"), "int",
                        gettext_lazy("64 groups one subnet; 128 judges each address alone."),
                        minimum=32, maximum=128),
    "ignore_networks": Spec(gettext_lazy("Networks never judged"), "str",
                            gettext_lazy("Your offices' or VPN's outgoing networks, separated by commas "
                                         "(203.0.113.0/24, 2001:db8::/48): many people mistyping "
                                         "there is not a spray."),
                            maximum=200),
}
PARAM_FIELDS = param_fields(SPECS)
MAX_IGNORED = 20


def _check(params: Params) -> dict[str, ValidationError]:
    try:
        _ignored(params.ignore_networks)
    except ValueError as exc:
        return {"ignore_networks": ValidationError(
            _("“%(value)s” is not a network such as 203.0.113.0/24 or 2001:db8::/48."),
            code="invalid", params={"value": str(exc)[:60]})}
    if len(_ignored(params.ignore_networks)) > MAX_IGNORED:
        return {"ignore_networks": ValidationError(
            _("List at most %(max)d networks."), code="too_many", params={"max": MAX_IGNORED})}
    return {}


def params_from(data: Mapping[str, object]) -> Params:
    params = parse_params(Params, SPECS, data, check=_check)
    normal = ", ".join(str(n) for n in _ignored(params.ignore_networks))
    return dataclasses.replace(params, ignore_networks=normal)


@functools.lru_cache(maxsize=1024)
def _ignored(text: str) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    """The networks of ``ignore_networks``; ValueError(the bad entry) if one does not parse."""
    networks = []
    for entry in (e.strip() for e in text.split(",")):
        if not entry:
            continue
        try:
            networks.append(ipaddress.ip_network(entry, strict=False))
        except ValueError:
            raise ValueError(entry) from None
    return tuple(networks)


def _is_ignored(ip: str, networks: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]) -> bool:
    try:
        address = ipaddress.ip_address(ip.strip())
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return any(address.version == n.version and address in n for n in networks)


def lookback(params: Params) -> dt.timedelta:
    """How far before an event this rule reads failures."""
    return dt.timedelta(minutes=params.minutes)


def evaluate(event: Event, history: History, params: Params,
             tenant: TenantContext) -> list[Finding]:
    """A failure that makes ``accounts`` or more distinct accounts failing from its network."""
    if event.outcome != Outcome.FAILURE:
        return []
    network = network_of(event.ip, v4_prefix=params.ipv4_prefix, v6_prefix=params.ipv6_prefix)
    if network is None:
        return []
    ignored = _ignored(params.ignore_networks) if params.ignore_networks else ()
    if ignored and _is_ignored(event.ip, ignored):
        return []
    rows = history.network_failures(tenant_id=event.tenant_id, network=network,
                                    since=event.occurred_at - lookback(params),
                                    until=event.occurred_at)
    failures = {e.id: e for e in rows if e.outcome == Outcome.FAILURE}
    failures.setdefault(event.id, event)
    ordered = sorted(failures.values(), key=lambda e: (e.occurred_at, e.id))
    accounts: dict[str, None] = {}
    ips: dict[str, None] = {}
    for e in ordered:
        if e.login:
            accounts.setdefault(e.login, None)
        ips.setdefault(e.ip, None)
    if len(accounts) < params.accounts:
        return []
    return [Finding(
        rule=CODE, severity=params.severity, tenant_id=event.tenant_id, user_id=None,
        dedup_key=dedup_key(CODE, network, local_day(event.occurred_at, tenant.timezone)),
        occurred_at=event.occurred_at,
        event_ids=tuple(e.id for e in ordered),
        evidence={
            "network": network, "account_count": len(accounts),
            "accounts": list(accounts)[:ACCOUNTS_SHOWN], "failures": len(ordered),
            "ips": list(ips)[:ACCOUNTS_SHOWN], "ip_count": len(ips),
            "minutes": params.minutes, "threshold": params.accounts,
            "first_at": iso(ordered[0].occurred_at), "last_at": iso(ordered[-1].occurred_at),
        },
    )]


# The evidence's keys as the detail page names them ("The rule's figures"), beside the
# code that writes them: a key added to the evidence gets its label here.
EVIDENCE_LABELS: dict[str, Promise] = {
    "network": gettext_lazy("Network"),
    "account_count": gettext_lazy("Distinct accounts"),
    "accounts": gettext_lazy("Accounts tried"),
    "failures": gettext_lazy("Failures"),
    "ips": gettext_lazy("IP addresses"),
    "ip_count": gettext_lazy("Distinct IP addresses"),
    "minutes": gettext_lazy("Window (minutes)"),
    "threshold": gettext_lazy("Accounts that make an alert"),
    "first_at": gettext_lazy("First failure (UTC)"),
    "last_at": gettext_lazy("Last failure (UTC)"),
}


def describe(evidence: Mapping[str, Any]) -> str:
    """The finding's evidence in one sentence of the current language."""
    return _("%(failures)s failed sign-ins on %(accounts)s different accounts from the network "
             "%(network)s within %(minutes)s minutes (the threshold is %(threshold)s accounts).") % {
        "failures": num(evidence.get("failures")), "accounts": num(evidence.get("account_count")),
        "network": text(evidence.get("network")), "minutes": num(evidence.get("minutes")),
        "threshold": num(evidence.get("threshold")),
    }
