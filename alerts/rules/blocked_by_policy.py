"""Correct password, blocked by policy: the password was right, but the network allowlist or the
sign-in hours refused the attempt (``network_denied``, ``hours_denied``) or would have refused it
in monitor mode (``network_monitor``, ``hours_monitor``, let through). Someone who knows the
password is signing in from where or when the company does not expect.

Severity: an enforced refusal carries the rule's severity (high by default); a monitor-mode
attempt, which a tenant trying a new policy sees for many legitimate people, one step lower. A
network an admin trusted for the person (trust kind ``network``) does not fire. One alert per
person and source network (/24, /64) for the allowlist, one per person for the sign-in hours.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from activity.models import Reason
from alerts.rules.base import Event, Finding, History, Severity, TenantContext
from alerts.rules.common import (
    dedup_key,
    network_of,
    param_fields,
    parse_params,
    place_label,
    text,
)

CODE = "blocked_by_policy"
TITLE = gettext_lazy("Correct password, blocked by policy")
DEFAULT_SEVERITY = Severity.HIGH
EVENT_KIND = "signin"
NEEDS = frozenset({"is_trusted"})

# reason -> (policy, mode)
REASONS: dict[str, tuple[str, str]] = {
    Reason.NETWORK_DENIED: ("network", "enforce"),
    Reason.NETWORK_MONITOR: ("network", "monitor"),
    Reason.HOURS_DENIED: ("hours", "enforce"),
    Reason.HOURS_MONITOR: ("hours", "monitor"),
}
_LOWER = {Severity.HIGH: Severity.MEDIUM, Severity.MEDIUM: Severity.LOW, Severity.LOW: Severity.LOW}


@dataclass(frozen=True, slots=True)
class Params:
    severity: Severity = DEFAULT_SEVERITY


SPECS: dict[str, Any] = {}
PARAM_FIELDS = param_fields(SPECS)


def params_from(data: Mapping[str, object]) -> Params:
    return parse_params(Params, SPECS, data)


def lookback(params: Params) -> dt.timedelta:
    """This rule reads no history."""
    return dt.timedelta(0)


def evaluate(event: Event, history: History, params: Params,
             tenant: TenantContext) -> list[Finding]:
    """An attempt with the right password that the allowlist or sign-in hours refused."""
    if event.reason not in REASONS or event.user_id is None:
        return []
    policy, mode = REASONS[event.reason]
    if event.ip and history.is_trusted(user_id=event.user_id, kind="network", value=event.ip):
        return []
    severity = params.severity if mode == "enforce" else _LOWER[params.severity]
    return [Finding(
        rule=CODE, severity=severity, tenant_id=event.tenant_id, user_id=event.user_id,
        dedup_key=_key(event, policy),
        occurred_at=event.occurred_at, event_ids=(event.id,),
        evidence={
            "policy": policy, "mode": mode, "reason": event.reason, "outcome": event.outcome,
            "ip": event.ip, "country": event.country, "login": event.login,
            "at": event.occurred_at.isoformat(),
        },
    )]


def _key(event: Event, policy: str) -> str:
    """Network refusals: one alert per person and source network (/24, /64), so an attacker's
    repeats from one line grow it; sign-in hours: one per person, whatever the address."""
    if policy == "hours":
        return dedup_key(CODE, event.user_id, policy)
    source = network_of(event.ip, v4_prefix=24, v6_prefix=64) or event.ip or "-"
    return dedup_key(CODE, event.user_id, policy, source)


# The evidence's keys as the detail page names them ("The rule's figures"), beside the
# code that writes them: a key added to the evidence gets its label here.
EVIDENCE_LABELS: dict[str, Promise] = {
    "policy": gettext_lazy("Policy that refused it"),
    "mode": gettext_lazy("Policy mode"),
    "reason": gettext_lazy("Reason recorded"),
    "outcome": gettext_lazy("Outcome"),
    "ip": gettext_lazy("IP address"),
    "country": gettext_lazy("Country"),
    "login": gettext_lazy("Account"),
    "at": gettext_lazy("Time of the sign-in (UTC)"),
}


def describe(evidence: Mapping[str, Any]) -> str:
    """The finding's evidence in one sentence of the current language."""
    values = {"ip": text(evidence.get("ip")), "place": place_label(evidence.get("country"))}
    policy, mode = evidence.get("policy"), evidence.get("mode")
    if policy == "network" and mode == "monitor":
        return _("The correct password was used from %(ip)s (%(place)s), outside the network "
                 "allowlist; monitor mode let the sign-in through.") % values
    if policy == "network":
        return _("The correct password was used from %(ip)s (%(place)s), outside the network "
                 "allowlist, which refused the sign-in.") % values
    if mode == "monitor":
        return _("The correct password was used from %(ip)s (%(place)s) outside the sign-in "
                 "hours; monitor mode let the sign-in through.") % values
    return _("The correct password was used from %(ip)s (%(place)s) outside the sign-in hours, "
             "which refused the sign-in.") % values
