"""New country: a successful sign-in from a country this person has not signed in from in the
previous ``days`` (90).

An unknown country ("": a private address, a resolver without an answer) never fires, and an
earlier success from an unknown country does not count as having been anywhere. Same learning
period as new device (``alerts.rules.common``). A country an admin trusted for the person (trust
kind ``country``, value "DE") is not new. One alert per person and country; as for new device,
a country stays new for 24 hours after the first sign-in from it, so its repeats add evidence.
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
    in_learning_period,
    integer,
    items,
    param_fields,
    parse_params,
    place_label,
    text,
)
from alerts.rules.countries import country_name

CODE = "new_country"
TITLE = gettext_lazy("New country")
DEFAULT_SEVERITY = Severity.MEDIUM
EVENT_KIND = "signin"
NEEDS = frozenset({"successes", "first_success", "success_count", "is_trusted"})
# A country first used less than this ago is still new (see the module docstring).
REPEAT = dt.timedelta(hours=24)


@dataclass(frozen=True, slots=True)
class Params:
    days: int = 90
    learning_days: int = 14
    learning_successes: int = 10
    severity: Severity = DEFAULT_SEVERITY


SPECS = {
    "days": Spec(gettext_lazy("Remembered for (days)"), "int",
                 gettext_lazy("A country not signed in from for this many days counts as new again."),
                 minimum=1, maximum=730),
    "learning_days": Spec(gettext_lazy("Learning period (days)"), "int",
                          gettext_lazy("No finding until this many days after a person's first sign-in."),
                          minimum=1, maximum=365),
    "learning_successes": Spec(gettext_lazy("Learning period (sign-ins)"), "int",
                               gettext_lazy("No finding until a person has signed in this many times."),
                               minimum=1, maximum=1000),
}
PARAM_FIELDS = param_fields(SPECS)


def params_from(data: Mapping[str, object]) -> Params:
    return parse_params(Params, SPECS, data)


def lookback(params: Params) -> dt.timedelta:
    """How far before an event this rule reads successes."""
    return dt.timedelta(days=params.days)


def evaluate(event: Event, history: History, params: Params,
             tenant: TenantContext) -> list[Finding]:
    """A success from a country this person has not signed in from in ``days``, after learning."""
    if event.outcome != Outcome.SUCCESS or event.user_id is None or not event.country:
        return []
    user_id = event.user_id
    if in_learning_period(history, user_id=user_id, at=event.occurred_at,
                          days=params.learning_days, successes=params.learning_successes):
        return []
    # Uses within REPEAT do not make it known: its repeats grow the open alert.
    earlier = history.successes(user_id=user_id, since=event.occurred_at - lookback(params),
                                before=event.occurred_at - REPEAT, exclude_id=event.id)
    country = event.country
    if any(e.country == country for e in reversed(earlier)):
        return []
    known = dict.fromkeys(e.country for e in reversed(earlier) if e.country)
    if history.is_trusted(user_id=user_id, kind="country", value=event.country):
        return []
    return [Finding(
        rule=CODE, severity=params.severity, tenant_id=event.tenant_id, user_id=user_id,
        dedup_key=dedup_key(CODE, user_id, event.country), occurred_at=event.occurred_at,
        event_ids=(event.id,),
        evidence={
            "country": event.country, "ip": event.ip, "days": params.days,
            "city": event.place.city if event.place is not None else "",
            "known_countries": list(known),
            "browser_family": event.browser_family, "os_family": event.os_family,
            "device_type": event.device_type,
        },
    )]


# The evidence's keys as the detail page names them ("The rule's figures"), beside the
# code that writes them: a key added to the evidence gets its label here.
EVIDENCE_LABELS: dict[str, Promise] = {
    "country": gettext_lazy("Country"),
    "ip": gettext_lazy("IP address"),
    "days": gettext_lazy("Looked back (days)"),
    "city": gettext_lazy("City"),
    "known_countries": gettext_lazy("Countries used before"),
    "browser_family": gettext_lazy("Browser"),
    "os_family": gettext_lazy("Operating system"),
    "device_type": gettext_lazy("Device"),
}


def describe(evidence: Mapping[str, Any]) -> str:
    """The finding's evidence in one sentence of the current language."""
    known = [country_name(c) for c in items(evidence.get("known_countries")) if isinstance(c, str)]
    values = {
        "place": place_label(evidence.get("country"), evidence.get("city")),
        "days": integer(evidence.get("days"), 0) or text(evidence.get("days")),
        "known": ", ".join(known),
    }
    if known:
        return _("Signed in from %(place)s, a country this person had not signed in from in the "
                 "previous %(days)s days (they had signed in from %(known)s).") % values
    return _("Signed in from %(place)s, a country this person had not signed in from in the "
             "previous %(days)s days.") % values
