"""New device: a successful sign-in with a browser family, OS family and device type that this
person has not used in the previous ``days`` (90).

A device is the triple (browser family, OS family, device type) the capture parsed, so a
browser update is not a new device but Firefox beside Chrome is. Nothing fires while the person
is in the learning period (``alerts.rules.common``: 14 days since their first success and 10
earlier successes), nor for a device an admin trusted for the person (trust kind ``device``,
value "Chrome|Windows|desktop"). A blank triple (nothing parsed at all) is never judged.
One alert per person and device. A device stays new for 24 hours after its first use (uses
of the last 24 hours do not make it known), so the repeats of someone else's sign-ins on it add
evidence to the open alert, and a new laptop the person keeps using stops firing after a day.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
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
    device_label,
    device_value,
    in_learning_period,
    integer,
    param_fields,
    parse_params,
    place_label,
    text,
)

CODE = "new_device"
TITLE = gettext_lazy("New device")
DEFAULT_SEVERITY = Severity.LOW
EVENT_KIND = "signin"
NEEDS = frozenset({"successes", "first_success", "success_count", "is_trusted"})
# A device first used less than this ago is still new (see the module docstring).
REPEAT = dt.timedelta(hours=24)
KNOWN_SHOWN = 5  # devices listed in the evidence


@dataclass(frozen=True, slots=True)
class Params:
    days: int = 90
    learning_days: int = 14
    learning_successes: int = 10
    severity: Severity = DEFAULT_SEVERITY


SPECS = {
    "days": Spec(gettext_lazy("Remembered for (days)"), "int",
                 gettext_lazy("A device not used for this many days counts as new again."),
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
    """A success with a device this person has not used in ``days``, after learning."""
    if event.outcome != Outcome.SUCCESS or event.user_id is None:
        return []
    triple = (event.browser_family, event.os_family, event.device_type)
    if not any(triple):
        return []
    user_id = event.user_id
    if in_learning_period(history, user_id=user_id, at=event.occurred_at,
                          days=params.learning_days, successes=params.learning_successes):
        return []
    # Uses within REPEAT do not make it known: its repeats grow the open alert.
    earlier = history.successes(user_id=user_id, since=event.occurred_at - lookback(params),
                                before=event.occurred_at - REPEAT, exclude_id=event.id)
    browser, os_family, device = triple
    # Newest first: the usual device is found at once, which is almost every sign-in.
    for e in reversed(earlier):
        if e.browser_family == browser and e.os_family == os_family and e.device_type == device:
            return []
    value = device_value(*triple)
    if history.is_trusted(user_id=user_id, kind="device", value=value):
        return []
    return [Finding(
        rule=CODE, severity=params.severity, tenant_id=event.tenant_id, user_id=user_id,
        dedup_key=dedup_key(CODE, user_id, value), occurred_at=event.occurred_at,
        event_ids=(event.id,),
        evidence={
            "browser_family": event.browser_family, "os_family": event.os_family,
            "device_type": event.device_type, "country": event.country, "ip": event.ip,
            "days": params.days, "earlier_successes": len(earlier),
            "known_devices": _known(earlier),
        },
    )]


def _known(earlier: Sequence[Event]) -> list[list[str]]:
    """The devices used in the window, most recent first, for the evidence."""
    known: dict[tuple[str, str, str], None] = {}
    for e in reversed(earlier):
        known.setdefault((e.browser_family, e.os_family, e.device_type), None)
        if len(known) == KNOWN_SHOWN:
            break
    return [list(t) for t in known]


# The evidence's keys as the detail page names them ("The rule's figures"), beside the
# code that writes them: a key added to the evidence gets its label here.
EVIDENCE_LABELS: dict[str, Promise] = {
    "browser_family": gettext_lazy("Browser"),
    "os_family": gettext_lazy("Operating system"),
    "device_type": gettext_lazy("Device"),
    "country": gettext_lazy("Country"),
    "ip": gettext_lazy("IP address"),
    "days": gettext_lazy("Looked back (days)"),
    "earlier_successes": gettext_lazy("Earlier sign-ins looked at"),
    "known_devices": gettext_lazy("Devices used before"),
}


def describe(evidence: Mapping[str, Any]) -> str:
    """The finding's evidence in one sentence of the current language."""
    return _("Signed in with %(device)s from %(place)s, a device this person had not used in "
             "the previous %(days)s days.") % {
        "device": device_label(evidence.get("browser_family"), evidence.get("os_family"),
                               evidence.get("device_type")),
        "place": place_label(evidence.get("country")),
        "days": integer(evidence.get("days"), 0) or text(evidence.get("days")),
    }
