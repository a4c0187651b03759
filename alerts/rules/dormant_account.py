"""Dormant account: a successful sign-in after ``days`` (60) without one.

An account that nobody used for two months and that suddenly signs in is a classic sign of a
leaked password of someone who left or went on leave. The person's first-ever success is not
dormant (a new account). The rule counts successes before the event's own time, so events that
arrive out of order are judged by when they happened. It compares two counts (successes before
the event, and before the start of the dormancy window) rather than reading the window's rows,
because it runs on every success; so the evidence says "at least N days", with the person's
first sign-in date when it is known.
One alert per person and dormancy (keyed by the day it ended).
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
from alerts.rules.common import (
    Spec,
    dedup_key,
    iso,
    num,
    param_fields,
    parse_iso,
    parse_params,
    place_label,
    text,
)

CODE = "dormant_account"
TITLE = gettext_lazy("Dormant account")
DEFAULT_SEVERITY = Severity.MEDIUM
EVENT_KIND = "signin"
NEEDS = frozenset({"success_count", "first_success"})


@dataclass(frozen=True, slots=True)
class Params:
    days: int = 60
    severity: Severity = DEFAULT_SEVERITY


SPECS = {
    "days": Spec(gettext_lazy("Dormant after (days)"), "int",
                 gettext_lazy("A sign-in after this many days without one is unusual."),
                 minimum=1, maximum=3650),
}
PARAM_FIELDS = param_fields(SPECS)


def params_from(data: Mapping[str, object]) -> Params:
    return parse_params(Params, SPECS, data)


def lookback(params: Params) -> dt.timedelta:
    """How far before an event this rule reads successes."""
    return dt.timedelta(days=params.days)


def evaluate(event: Event, history: History, params: Params,
             tenant: TenantContext) -> list[Finding]:
    """A success after ``days`` without one (never the first success ever)."""
    if event.outcome != Outcome.SUCCESS or event.user_id is None:
        return []
    user_id = event.user_id
    before = history.success_count(user_id=user_id, before=event.occurred_at)
    if before == 0:
        return []  # the first success ever: a new account, not a dormant one
    # Two counts instead of the window's rows: this rule runs on every success.
    if history.success_count(user_id=user_id, before=event.occurred_at - lookback(params)) < before:
        return []  # a success within the dormancy window
    first = history.first_success(user_id=user_id)
    return [Finding(
        rule=CODE, severity=params.severity, tenant_id=event.tenant_id, user_id=user_id,
        dedup_key=dedup_key(CODE, user_id, event.occurred_at.date().isoformat()),
        occurred_at=event.occurred_at, event_ids=(event.id,),
        evidence={
            "days": params.days, "ip": event.ip, "country": event.country,
            "first_success_at": iso(first) if first is not None and first < event.occurred_at else None,
            "at": iso(event.occurred_at),
        },
    )]


# The evidence's keys as the detail page names them ("The rule's figures"), beside the
# code that writes them: a key added to the evidence gets its label here.
EVIDENCE_LABELS: dict[str, Promise] = {
    "days": gettext_lazy("Days without a sign-in at least"),
    "ip": gettext_lazy("IP address"),
    "country": gettext_lazy("Country"),
    "first_success_at": gettext_lazy("First sign-in ever (UTC)"),
    "at": gettext_lazy("Time of the sign-in (UTC)"),
}


def describe(evidence: Mapping[str, Any]) -> str:
    """The finding's evidence in one sentence of the current language."""
    first = parse_iso(evidence.get("first_success_at"))
    values = {
        "days": num(evidence.get("days")), "ip": text(evidence.get("ip")),
        "place": place_label(evidence.get("country")),
        "first": first.date().isoformat() if first is not None else "",
    }
    if first is not None:
        return _("Signed in from %(ip)s (%(place)s) after at least %(days)s days without a "
                 "successful sign-in; the account first signed in on %(first)s.") % values
    return _("Signed in from %(ip)s (%(place)s) after at least %(days)s days without a "
             "successful sign-in.") % values
