"""Brute force: ``failures`` (10) failed attempts on one account within ``minutes`` (15).

The account is the attempted login, so guesses at an address that has no account count too.
Every failure counts, whatever its reason: a wrong password, a wrong second-factor code, and the
attempts refused unchecked while the account was locked (``locked_out``) or throttled by the
per-account ceiling (``account_throttled``), which are exactly the attempts of someone who does
not stop. The window ends at the failure being judged and looks back ``minutes``; the failure
itself is counted once whether or not the history returns it.

The alert is keyed by account and the tenant's calendar day (``alerts.rules.common.local_day``):
a sustained attack grows one alert with every failure as evidence instead of one per window, and
replaying the same failures gives the same key.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy, ngettext

from activity.models import Outcome, Reason
from alerts.rules.base import Event, Finding, History, Severity, TenantContext
from alerts.rules.common import (
    Spec,
    dedup_key,
    integer,
    iso,
    local_day,
    num,
    param_fields,
    parse_params,
    text,
)

CODE = "brute_force"
TITLE = gettext_lazy("Brute force on one account")
DEFAULT_SEVERITY = Severity.MEDIUM
EVENT_KIND = "signin"
NEEDS = frozenset({"account_failures"})
IPS_SHOWN = 20


@dataclass(frozen=True, slots=True)
class Params:
    failures: int = 10
    minutes: int = 15
    severity: Severity = DEFAULT_SEVERITY


SPECS = {
    "failures": Spec(gettext_lazy("Failed attempts"), "int",
                     gettext_lazy("This many failures on one account within the window is an attack."),
                     minimum=2, maximum=10000),
    "minutes": Spec(gettext_lazy("Window (minutes)"), "int",
                    gettext_lazy("How far back failures are counted."),
                    minimum=1, maximum=1440),
}
PARAM_FIELDS = param_fields(SPECS)


def params_from(data: Mapping[str, object]) -> Params:
    return parse_params(Params, SPECS, data)


def lookback(params: Params) -> dt.timedelta:
    """How far before an event this rule reads failures."""
    return dt.timedelta(minutes=params.minutes)


def failures_in_window(event: Event, history: History, minutes: int) -> list[Event]:
    """The account's failures in the ``minutes`` up to the event, oldest first, each once."""
    rows = history.account_failures(tenant_id=event.tenant_id, login=event.login,
                                    since=event.occurred_at - dt.timedelta(minutes=minutes),
                                    until=event.occurred_at)
    found = [e for e in rows if e.outcome == Outcome.FAILURE]
    if event.outcome == Outcome.FAILURE and all(e.id != event.id for e in found):
        # A History that does not hold the event itself: count it too, in its place.
        found.append(event)
        found.sort(key=lambda e: (e.occurred_at, e.id))
    return found


def evaluate(event: Event, history: History, params: Params,
             tenant: TenantContext) -> list[Finding]:
    """A failure that makes ``failures`` or more on its account within ``minutes``."""
    if event.outcome != Outcome.FAILURE or not event.login:
        return []
    failures = failures_in_window(event, history, params.minutes)
    if len(failures) < params.failures:
        return []
    reasons: dict[str, int] = {}
    ips: dict[str, None] = {}
    for e in failures:
        reasons[e.reason or "unknown"] = reasons.get(e.reason or "unknown", 0) + 1
        if e.ip:
            ips.setdefault(e.ip, None)
    user_id = next((e.user_id for e in reversed(failures) if e.user_id is not None), None)
    return [Finding(
        rule=CODE, severity=params.severity, tenant_id=event.tenant_id, user_id=user_id,
        dedup_key=dedup_key(CODE, event.login, local_day(event.occurred_at, tenant.timezone)),
        occurred_at=event.occurred_at,
        event_ids=tuple(e.id for e in failures),
        evidence={
            "login": event.login, "failures": len(failures), "minutes": params.minutes,
            "threshold": params.failures, "first_at": iso(failures[0].occurred_at),
            "last_at": iso(failures[-1].occurred_at), "reasons": reasons,
            "ip_count": len(ips), "ips": list(ips)[:IPS_SHOWN],
            "locked_out": reasons.get(Reason.LOCKED_OUT, 0),
            "throttled": reasons.get(Reason.ACCOUNT_THROTTLED, 0),
        },
    )]


# The evidence's keys as the detail page names them ("The rule's figures"), beside the
# code that writes them: a key added to the evidence gets its label here.
EVIDENCE_LABELS: dict[str, Promise] = {
    "login": gettext_lazy("Account"),
    "failures": gettext_lazy("Failures"),
    "minutes": gettext_lazy("Window (minutes)"),
    "threshold": gettext_lazy("Failures that make an alert"),
    "first_at": gettext_lazy("First failure (UTC)"),
    "last_at": gettext_lazy("Last failure (UTC)"),
    "reasons": gettext_lazy("Failures by reason"),
    "ip_count": gettext_lazy("Distinct IP addresses"),
    "ips": gettext_lazy("IP addresses"),
    "locked_out": gettext_lazy("Tries while locked out"),
    "throttled": gettext_lazy("Tries over the account ceiling"),
}


def describe(evidence: Mapping[str, Any]) -> str:
    """The finding's evidence in one sentence of the current language."""
    ip_count = integer(evidence.get("ip_count"))
    refused = integer(evidence.get("locked_out")) + integer(evidence.get("throttled"))
    values = {
        "failures": num(evidence.get("failures")), "login": text(evidence.get("login")),
        "minutes": num(evidence.get("minutes")), "ips": num(ip_count),
        "threshold": num(integer(evidence.get("threshold"))), "refused": num(refused),
    }
    if refused:
        return ngettext(
            "%(failures)s failed sign-ins on %(login)s within %(minutes)s minutes from one IP "
            "address, %(refused)s of them refused unchecked while the account was locked or "
            "throttled (the threshold is %(threshold)s).",
            "%(failures)s failed sign-ins on %(login)s within %(minutes)s minutes from %(ips)s IP "
            "addresses, %(refused)s of them refused unchecked while the account was locked or "
            "throttled (the threshold is %(threshold)s).",
            ip_count) % values
    return ngettext(
        "%(failures)s failed sign-ins on %(login)s within %(minutes)s minutes from one IP "
        "address (the threshold is %(threshold)s).",
        "%(failures)s failed sign-ins on %(login)s within %(minutes)s minutes from %(ips)s IP "
        "addresses (the threshold is %(threshold)s).",
        ip_count) % values
