"""Success after failures: a successful sign-in preceded by at least ``failures`` (5) failed
attempts on that account within ``minutes`` (15): the guessing may have worked.

The failures are those on the account's login up to the success (every reason counts, as for
brute force). The evidence says whether the success came from one of the failing addresses,
which is what separates "the attacker got in" from "the owner typed it right at last" for the
person triaging. A network an admin trusted for the person (trust kind ``network``) does not
fire. One alert per person and day (the tenant's).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from activity.models import Outcome
from alerts.rules.base import Event, Finding, History, Severity, TenantContext
from alerts.rules.brute_force import failures_in_window
from alerts.rules.common import (
    Spec,
    dedup_key,
    iso,
    local_day,
    num,
    param_fields,
    parse_params,
    text,
)

CODE = "success_after_failures"
TITLE = gettext_lazy("Success after failures")
DEFAULT_SEVERITY = Severity.HIGH
EVENT_KIND = "signin"
NEEDS = frozenset({"account_failures", "is_trusted"})
IPS_SHOWN = 20


@dataclass(frozen=True, slots=True)
class Params:
    failures: int = 5
    minutes: int = 15
    severity: Severity = DEFAULT_SEVERITY


SPECS = {
    "failures": Spec(gettext_lazy("Failed attempts before"), "int",
                     gettext_lazy("A success after this many failures on the account is suspicious."),
                     minimum=1, maximum=10000),
    "minutes": Spec(gettext_lazy("Window (minutes)"), "int",
                    gettext_lazy("How far before the success failures are counted."),
                    minimum=1, maximum=1440),
}
PARAM_FIELDS = param_fields(SPECS)


def params_from(data: Mapping[str, object]) -> Params:
    return parse_params(Params, SPECS, data)


def lookback(params: Params) -> dt.timedelta:
    """How far before an event this rule reads failures."""
    return dt.timedelta(minutes=params.minutes)


def evaluate(event: Event, history: History, params: Params,
             tenant: TenantContext) -> list[Finding]:
    """A success after ``failures`` or more failures on its account within ``minutes``."""
    if event.outcome != Outcome.SUCCESS or event.user_id is None or not event.login:
        return []
    failures = failures_in_window(event, history, params.minutes)
    if len(failures) < params.failures:
        return []
    if history.is_trusted(user_id=event.user_id, kind="network", value=event.ip):
        return []
    ips: dict[str, None] = {}
    for e in failures:
        if e.ip:
            ips.setdefault(e.ip, None)
    return [Finding(
        rule=CODE, severity=params.severity, tenant_id=event.tenant_id, user_id=event.user_id,
        dedup_key=dedup_key(CODE, event.user_id, local_day(event.occurred_at, tenant.timezone)),
        occurred_at=event.occurred_at,
        event_ids=(*(e.id for e in failures), event.id),
        evidence={
            "login": event.login, "failures": len(failures), "minutes": params.minutes,
            "threshold": params.failures, "first_failure_at": iso(failures[0].occurred_at),
            "success_at": iso(event.occurred_at), "success_ip": event.ip,
            "success_country": event.country,
            "same_ip": event.ip in ips, "ips": list(ips)[:IPS_SHOWN], "ip_count": len(ips),
        },
    )]


# The evidence's keys as the detail page names them ("The rule's figures"), beside the
# code that writes them: a key added to the evidence gets its label here.
EVIDENCE_LABELS: dict[str, Promise] = {
    "login": gettext_lazy("Account"),
    "failures": gettext_lazy("Failures before"),
    "minutes": gettext_lazy("Window (minutes)"),
    "threshold": gettext_lazy("Failures that make an alert"),
    "first_failure_at": gettext_lazy("First failure (UTC)"),
    "success_at": gettext_lazy("Time of the sign-in (UTC)"),
    "success_ip": gettext_lazy("IP address of the sign-in"),
    "success_country": gettext_lazy("Country of the sign-in"),
    "same_ip": gettext_lazy("Signed in from an address that failed"),
    "ips": gettext_lazy("IP addresses that failed"),
    "ip_count": gettext_lazy("Distinct IP addresses that failed"),
}


def describe(evidence: Mapping[str, Any]) -> str:
    """The finding's evidence in one sentence of the current language."""
    values = {
        "failures": num(evidence.get("failures")), "login": text(evidence.get("login")),
        "minutes": num(evidence.get("minutes")), "ip": text(evidence.get("success_ip")),
    }
    if evidence.get("same_ip"):
        return _("%(login)s signed in from %(ip)s after %(failures)s failed attempts within "
                 "%(minutes)s minutes, some of them from that same address.") % values
    return _("%(login)s signed in from %(ip)s after %(failures)s failed attempts within "
             "%(minutes)s minutes from other addresses.") % values
