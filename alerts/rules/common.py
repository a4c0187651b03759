"""What the rule modules share: parameter parsing, the learning period, geometry, keys, wording.

Parameters. Each rule module declares a frozen ``Params`` dataclass (defaults = the issue's
defaults) and a ``SPECS`` mapping ``field name -> Spec`` (label, kind, help, bounds).
``parse_params`` turns a tenant's saved JSON (``RuleSetting.params``) or a form's cleaned data
into ``Params``: missing keys take their defaults, unknown keys are ignored (a setting saved by
an older release still loads), every bad value is reported under its own field in one
``ValidationError({field: [message, ...]})`` and nothing is returned. ``severity`` is accepted
in the same mapping (the engine passes the tenant's ``RuleSetting.severity`` there, or uses
``dataclasses.replace``); it is not in ``PARAM_FIELDS`` because the settings page shows it as its
own column. ``params_data`` is the inverse: a JSON-ready dict to save.

Learning period (new device, new country): a person is still learning while fewer than
``learning_days`` (14) have passed since their first successful sign-in **or** fewer than
``learning_successes`` (10) successes came before this one. Both must be met before these rules
judge anything new: a person with ten sign-ins on their first morning has not shown their week
yet, and a person who signed in twice in a month has no habit to depart from. The 11th success
on day 15 is the first one judged.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import hashlib
import ipaddress
import math
import re
import zoneinfo
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from django.core.exceptions import ValidationError
from django.utils.formats import number_format
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from activity.capture.types import DeviceType
from alerts.rules.base import History, Severity
from alerts.rules.countries import country_name

Kind = Literal["int", "time", "bool", "str"]

# Alert.dedup_key's column length.
DEDUP_KEY_MAX = 200
EARTH_RADIUS_KM = 6371.0088  # mean radius (IUGG)
_TIME = re.compile(r"^([0-9]{1,2}):([0-9]{2})(?::([0-9]{2}))?$")
_INT = re.compile(r"^[+-]?[0-9]{1,12}$")
_TRUE = {"1", "true", "on", "yes"}
_FALSE = {"0", "false", "off", "no", ""}


@dataclass(frozen=True, slots=True)
class Spec:
    """One tunable of a rule, as the settings page shows it and ``parse_params`` checks it."""

    label: Promise | str
    kind: Kind
    help: Promise | str
    minimum: int | None = None
    maximum: int | None = None


def param_fields(specs: Mapping[str, Spec]) -> dict[str, tuple[Promise | str, Kind, Promise | str]]:
    """``PARAM_FIELDS`` for the settings form: field name -> (label, kind, help)."""
    return {name: (spec.label, spec.kind, spec.help) for name, spec in specs.items()}


def _parse_int(value: object, spec: Spec) -> int:
    if isinstance(value, bool) or not isinstance(value, int | str | float):
        raise ValidationError(_("Enter a whole number."), code="invalid")
    if isinstance(value, float):
        if not value.is_integer():
            raise ValidationError(_("Enter a whole number."), code="invalid")
        number = int(value)
    elif isinstance(value, str):
        if not _INT.match(value.strip()):
            raise ValidationError(_("Enter a whole number."), code="invalid")
        number = int(value.strip())
    else:
        number = value
    if spec.minimum is not None and number < spec.minimum:
        raise ValidationError(_("Enter a number of at least %(min)s."), code="min_value",
                              params={"min": number_format(spec.minimum, force_grouping=True)})
    if spec.maximum is not None and number > spec.maximum:
        raise ValidationError(_("Enter a number of at most %(max)s."), code="max_value",
                              params={"max": number_format(spec.maximum, force_grouping=True)})
    return number


def _parse_time(value: object) -> dt.time:
    if isinstance(value, dt.datetime):
        raise ValidationError(_("Enter a time such as 00:00 or 05:30."), code="invalid")
    if isinstance(value, dt.time):
        return value.replace(second=0, microsecond=0, tzinfo=None)
    match = _TIME.match(value.strip()) if isinstance(value, str) and len(value) <= 10 else None
    if match is not None:
        hours, minutes = int(match[1]), int(match[2])
        if hours < 24 and minutes < 60:
            return dt.time(hours, minutes)
        if hours == 24 and minutes == 0:
            raise ValidationError(_("24:00 is not a time of day: a window that ends at midnight "
                                    "ends at 00:00."), code="invalid")
    raise ValidationError(_("Enter a time such as 00:00 or 05:30."), code="invalid")


def _parse_bool(value: object) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
        return value.strip().lower() in _TRUE
    raise ValidationError(_("Choose yes or no."), code="invalid")


def _parse_str(value: object, spec: Spec) -> str:
    if not isinstance(value, str):
        raise ValidationError(_("Enter text."), code="invalid")
    if spec.maximum is not None and len(value) > spec.maximum:
        raise ValidationError(_("Enter at most %(max)d characters."), code="max_length",
                              params={"max": spec.maximum})
    return value.strip()


def parse_severity(value: object) -> Severity:
    if isinstance(value, str) and value in Severity._value2member_map_:
        return Severity(value)
    raise ValidationError(_("Choose low, medium or high."), code="invalid")


def parse_params[P](cls: type[P], specs: Mapping[str, Spec], data: Mapping[str, object], *,
                 check: Callable[[P], Mapping[str, ValidationError]] | None = None) -> P:
    """``cls`` from ``data`` (see the module docstring); every bad field in one ValidationError."""
    if not isinstance(data, Mapping):
        raise ValidationError(_("The rule's settings are not a set of named values."),
                              code="invalid")
    values: dict[str, Any] = {}
    errors: dict[str, list[ValidationError]] = {}
    for name, spec in specs.items():
        if name not in data or data[name] is None:
            continue
        raw = data[name]
        try:
            if spec.kind == "int":
                values[name] = _parse_int(raw, spec)
            elif spec.kind == "time":
                values[name] = _parse_time(raw)
            elif spec.kind == "bool":
                values[name] = _parse_bool(raw)
            else:
                values[name] = _parse_str(raw, spec)
        except ValidationError as exc:
            errors[name] = [exc]
    if "severity" in data and data["severity"] not in (None, ""):
        try:
            values["severity"] = parse_severity(data["severity"])
        except ValidationError as exc:
            errors["severity"] = [exc]
    # The checks across fields run on the valid values too, so one save reports everything.
    params = cls(**values)
    if check is not None:
        for name, problem in check(params).items():
            errors.setdefault(name, []).append(problem)
    if errors:
        raise ValidationError(errors)
    return params


def params_data(params: object) -> dict[str, object]:
    """A ``Params`` as JSON-ready values (times as "HH:MM", severity as its code), to save."""
    assert dataclasses.is_dataclass(params) and not isinstance(params, type)
    out: dict[str, object] = {}
    for f in dataclasses.fields(params):
        value = getattr(params, f.name)
        if isinstance(value, dt.time):
            value = f"{value.hour:02d}:{value.minute:02d}"
        elif isinstance(value, Severity):
            value = value.value
        out[f.name] = value
    return out


# --- the learning period ----------------------------------------------------------------------

def in_learning_period(history: History, *, user_id: int, at: dt.datetime, days: int,
                       successes: int) -> bool:
    """True while the person is still learning (module docstring): too new or too few sign-ins."""
    first = history.first_success(user_id=user_id)
    if first is None or at - first < dt.timedelta(days=days):
        return True
    return history.success_count(user_id=user_id, before=at) < successes


# --- geometry -----------------------------------------------------------------------------------

def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in km between two points in degrees (haversine, spherical Earth)."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    dphi = phi2 - phi1
    dlambda = math.radians(lon2 - lon1)
    a = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlambda / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(a)))


# --- networks -----------------------------------------------------------------------------------

def network_of(ip: str, *, v4_prefix: int, v6_prefix: int) -> str | None:
    """The CIDR an address belongs to ("203.0.113.0/24", "2001:db8:1:2::/64"); None if no IP.

    An IPv4-mapped IPv6 address counts as its IPv4 address.
    """
    return _network_of(ip.strip(), v4_prefix, v6_prefix)


@functools.lru_cache(maxsize=65_536)
def _network_of(ip: str, v4_prefix: int, v6_prefix: int) -> str | None:
    # ``ipaddress`` costs microseconds per call and a spray repeats its addresses: cached, with
    # the everyday case (a canonical dotted quad into a /24 or /32) done on the string.
    parts = ip.split(".")
    if (v4_prefix in (24, 32) and len(parts) == 4
            and all(p.isdigit() and p.isascii() and len(p) <= 3 and int(p) <= 255
                    and (p == "0" or not p.startswith("0")) for p in parts)):
        return f"{ip}/32" if v4_prefix == 32 else f"{parts[0]}.{parts[1]}.{parts[2]}.0/24"
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    prefix = v4_prefix if address.version == 4 else v6_prefix
    return str(ipaddress.ip_network(f"{address}/{prefix}", strict=False))


# --- keys and windows ---------------------------------------------------------------------------

def dedup_key(*parts: object) -> str:
    """Parts joined by ":"; a key longer than the column keeps its head and hashes the rest."""
    key = ":".join(str(p) for p in parts)
    if len(key) <= DEDUP_KEY_MAX:
        return key
    digest = hashlib.sha256(key.encode()).hexdigest()[:40]
    return f"{key[:DEDUP_KEY_MAX - 41]}~{digest}"


@functools.lru_cache(maxsize=512)
def zone(name: str) -> dt.tzinfo:
    """The tenant's time zone; UTC when the name is not a zone."""
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return dt.UTC


def local_day(at: dt.datetime, timezone: str) -> str:
    """The tenant's calendar day of ``at`` ("2026-12-01").

    Windowed rules (brute force, spray, success after failures, mass export) key their alerts by
    account or network and this day: every finding of a burst grows one alert however long it
    lasts within the day, a burst is not split in two at an arbitrary window boundary, and the
    key is the same when a batch is replayed. A new day opens a new alert (the admin's "today").
    """
    return at.astimezone(zone(timezone)).date().isoformat()


def iso(at: dt.datetime) -> str:
    return at.astimezone(dt.UTC).isoformat(timespec="seconds")


def parse_iso(value: object) -> dt.datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=dt.UTC)


def device_value(browser_family: str, os_family: str, device_type: str) -> str:
    """A device as trust rows and keys spell it: "Chrome|Windows|desktop"."""
    return f"{browser_family}|{os_family}|{device_type}"


# --- wording ------------------------------------------------------------------------------------

def num(value: object, digits: int = 0) -> str:
    """A figure for a sentence, grouped the current language's way ("2,436")."""
    if not isinstance(value, int | float) or isinstance(value, bool) or not math.isfinite(value):
        return "?"
    if digits == 0:
        return number_format(round(value), force_grouping=True)
    return number_format(round(value, digits), decimal_pos=digits, force_grouping=True)


def duration(minutes: object) -> str:
    """"20 minutes", "1 minute", "3.5 hours": an elapsed time as a person says it."""
    if not isinstance(minutes, int | float) or isinstance(minutes, bool) or minutes < 0:
        return "?"
    if minutes < 120:
        whole = round(minutes)
        return ngettext("%(count)s minute", "%(count)s minutes", whole) % {"count": num(whole)}
    hours = round(minutes / 60, 1)
    return ngettext("%(count)s hour", "%(count)s hours", 1 if hours == 1 else 2) % {
        "count": num(hours, 1) if not hours.is_integer() else num(int(hours))}


def text(value: object, default: str = "?") -> str:
    return value if isinstance(value, str) and value else default


def items(value: object) -> list[Any]:
    """A stored list, or nothing when the evidence holds something else there."""
    return value if isinstance(value, list) else []


def integer(value: object, default: int = 0) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else default


def device_label(browser_family: object, os_family: object, device_type: object) -> str:
    """"Chrome on Windows (desktop)" in the current language; blanks read as "unknown"."""
    unknown = _("unknown")
    kind = text(device_type, "")
    try:
        kind_label = str(DeviceType(kind).label)
    except ValueError:
        kind_label = kind or unknown
    return _("%(browser)s on %(os)s (%(device)s)") % {
        "browser": text(browser_family, unknown), "os": text(os_family, unknown),
        "device": kind_label,
    }


def place_label(country: object, city: object = "") -> str:
    """"Berlin, Germany", "Germany", or "an unknown country"."""
    code = text(country, "")
    name = country_name(code) if code else _("an unknown country")
    town = text(city, "")
    return _("%(city)s, %(country)s") % {"city": town, "country": name} if town else name
