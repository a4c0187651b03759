"""Impossible travel: two successful sign-ins of one person further apart than anyone travels in
the time between them.

The previous place is the person's latest earlier success (by ``occurred_at``, so events that
arrive out of order are compared in the order they happened) whose place has coordinates; a
success in between without coordinates does not hide an impossible journey around it. The
distance is the haversine great-circle distance in km; the speed divides it by the elapsed time
in fractional hours (not days). Location is uncertain by each place's ``accuracy_km`` (0 for a
city point, a country's size for a centroid), so the distance judged is the shortest one the two
places allow, ``distance - (accuracy_1 + accuracy_2)``: a journey within the radii, or under
``min_distance_km`` (50), is not travel. The same instant at two real places is an infinite
speed and fires. Earlier successes further back than the longest possible journey at
``speed_kmh`` (half the Earth's circumference) cannot make an impossible one and are not read.

A network an admin trusted for the person (trust kind ``network``: a VPN or proxy exit) at either
end of the journey does not fire, so switching the VPN on and off is quiet both ways. One alert
per person and pair of places (countries, or cities within one country), either direction, so
flipping between an untrusted VPN and the office grows one alert.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from activity.models import Outcome
from alerts.rules.base import Event, Finding, History, Place, Severity, TenantContext
from alerts.rules.common import (
    EARTH_RADIUS_KM,
    Spec,
    dedup_key,
    duration,
    haversine_km,
    num,
    param_fields,
    parse_params,
    place_label,
)

CODE = "impossible_travel"
TITLE = gettext_lazy("Impossible travel")
DEFAULT_SEVERITY = Severity.HIGH
EVENT_KIND = "signin"
NEEDS = frozenset({"successes", "is_trusted"})
HALF_CIRCUMFERENCE_KM = math.pi * EARTH_RADIUS_KM
SAME_INSTANT = dt.timedelta(microseconds=1)


@dataclass(frozen=True, slots=True)
class Params:
    speed_kmh: int = 900
    min_distance_km: int = 50
    severity: Severity = DEFAULT_SEVERITY


SPECS = {
    "speed_kmh": Spec(gettext_lazy("Fastest travel (km/h)"), "int",
                      gettext_lazy("Two sign-ins further apart than this speed allows are impossible travel. "
                                   "900 km/h is an airliner."),
                      minimum=100, maximum=5000),
    "min_distance_km": Spec(gettext_lazy("Shortest journey (km)"), "int",
                            gettext_lazy("Jumps shorter than this are never travel (mobile networks, "
                                         "imprecise locations)."),
                            minimum=1, maximum=5000),
}
PARAM_FIELDS = param_fields(SPECS)


def params_from(data: Mapping[str, object]) -> Params:
    return parse_params(Params, SPECS, data)


def lookback(params: Params) -> dt.timedelta:
    """How far before an event this rule reads successes: the longest journey at the speed."""
    return dt.timedelta(hours=HALF_CIRCUMFERENCE_KM / params.speed_kmh + 1)


def _located(place: Place | None) -> bool:
    return place is not None and place.latitude is not None and place.longitude is not None


def _label(place: Place) -> str:
    return f"{place.country}/{place.city[:40]}"


def evaluate(event: Event, history: History, params: Params,
             tenant: TenantContext) -> list[Finding]:
    """A success further from the person's previous located success than ``speed_kmh`` allows."""
    if event.outcome != Outcome.SUCCESS or event.user_id is None or not _located(event.place):
        return []
    here = event.place
    assert here is not None and here.latitude is not None and here.longitude is not None
    # Up to and including the event's instant: another place at the same moment is infinite speed.
    earlier = history.successes(user_id=event.user_id, since=event.occurred_at - lookback(params),
                                before=event.occurred_at + SAME_INSTANT, exclude_id=event.id)
    previous = next((e for e in reversed(earlier) if _located(e.place)), None)
    if previous is None:
        return []
    there = previous.place
    assert there is not None and there.latitude is not None and there.longitude is not None
    distance = haversine_km(there.latitude, there.longitude, here.latitude, here.longitude)
    shortest = distance - (there.accuracy_km + here.accuracy_km)
    if shortest <= 0 or shortest < params.min_distance_km:
        return []
    seconds = (event.occurred_at - previous.occurred_at).total_seconds()
    hours = seconds / 3600
    speed = math.inf if hours <= 0 else shortest / hours
    if speed <= params.speed_kmh:
        return []
    # A trusted network (a VPN exit) at either end explains the jump, there and back.
    if any(history.is_trusted(user_id=event.user_id, kind="network", value=ip)
           for ip in (event.ip, previous.ip) if ip):
        return []
    if here.country != there.country:
        pair = sorted([here.country, there.country])
    else:
        pair = sorted([_label(here), _label(there)])
    return [Finding(
        rule=CODE, severity=params.severity, tenant_id=event.tenant_id, user_id=event.user_id,
        dedup_key=dedup_key(CODE, event.user_id, *pair), occurred_at=event.occurred_at,
        event_ids=(previous.id, event.id),
        evidence={
            "from_country": there.country, "from_city": there.city, "from_ip": previous.ip,
            "from_at": previous.occurred_at.isoformat(),
            "to_country": here.country, "to_city": here.city, "to_ip": event.ip,
            "to_at": event.occurred_at.isoformat(),
            "distance_km": round(distance, 1),
            "shortest_km": round(shortest, 1),
            "accuracy_km": round(there.accuracy_km + here.accuracy_km, 1),
            "elapsed_minutes": round(seconds / 60, 1),
            # JSON has no infinity: the same instant at two places is a speed of None.
            "speed_kmh": None if math.isinf(speed) else round(speed),
            "limit_kmh": params.speed_kmh,
        },
    )]


# The evidence's keys as the detail page names them ("The rule's figures"), beside the
# code that writes them: a key added to the evidence gets its label here.
EVIDENCE_LABELS: dict[str, Promise] = {
    "from_country": gettext_lazy("Earlier country"),
    "from_city": gettext_lazy("Earlier city"),
    "from_ip": gettext_lazy("Earlier IP address"),
    "from_at": gettext_lazy("Earlier sign-in (UTC)"),
    "to_country": gettext_lazy("Country"),
    "to_city": gettext_lazy("City"),
    "to_ip": gettext_lazy("IP address"),
    "to_at": gettext_lazy("Time of the sign-in (UTC)"),
    "distance_km": gettext_lazy("Distance (km)"),
    "shortest_km": gettext_lazy("Shortest possible distance (km)"),
    "accuracy_km": gettext_lazy("Location accuracy (km)"),
    "elapsed_minutes": gettext_lazy("Time between them (minutes)"),
    "speed_kmh": gettext_lazy("Speed needed (km/h)"),
    "limit_kmh": gettext_lazy("Speed limit (km/h)"),
}


def describe(evidence: Mapping[str, Any]) -> str:
    """The finding's evidence in one sentence of the current language."""
    values = {
        "to": place_label(evidence.get("to_country"), evidence.get("to_city")),
        "from": place_label(evidence.get("from_country"), evidence.get("from_city")),
        "distance": num(evidence.get("distance_km")),
        "shortest": num(evidence.get("shortest_km")),
        "elapsed": duration(evidence.get("elapsed_minutes")),
        "speed": num(evidence.get("speed_kmh")),
    }
    speed = evidence.get("speed_kmh")
    precise = not evidence.get("accuracy_km")
    if speed is None:
        if precise:
            return _("Signed in from %(to)s %(distance)s km from the sign-in in %(from)s at the "
                     "same moment.") % values
        return _("Signed in from %(to)s %(distance)s km (at least %(shortest)s km) from the "
                 "sign-in in %(from)s at the same moment.") % values
    if precise:
        return _("Signed in from %(to)s %(distance)s km from the previous sign-in in %(from)s "
                 "%(elapsed)s earlier: %(speed)s km/h.") % values
    return _("Signed in from %(to)s %(distance)s km (at least %(shortest)s km, given how precisely "
             "the places are known) from the previous sign-in in %(from)s %(elapsed)s "
             "earlier: at least %(speed)s km/h.") % values
