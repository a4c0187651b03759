"""Query parameters → validated, frozen filters for the three log datasets.

Design: a log URL is something people paste, bookmark and tamper with, so parsing never raises.
Every parameter is checked on its own; a bad one becomes a translated message in
``ParsedFilters.errors`` and is dropped (or corrected, e.g. a swapped date range), and the rest
still apply. Only the cleaned values are echoed back (``as_query`` for links, ``as_dict`` for the
ExportEvent record), so a rejected value never travels further than the message.

Dates are days in a time zone (the tenant's for console pages, the person's own for "me" pages):
``from`` is the first instant of its day there and ``to`` is inclusive (the range ends at the
first instant of the next day). The streaming exports parse with the same functions, so a page
and its export always mean the same rows.
"""

from __future__ import annotations

import ipaddress
import re
import zoneinfo
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from urllib.parse import urlencode

from django.http import QueryDict
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import normalize_email
from activity.capture.types import FAMILY_MAX_LENGTH, DeviceType
from activity.models import AuditLogEntry, ExportStatus, MfaMethod, Outcome, Protocol, Reason
from tenants.models import Tenant

# A query value longer than this is not a filter anyone typed; refuse it before any work.
VALUE_MAX_LENGTH = 254
# Years a log can plausibly hold. Outside them a date is a typo (or year 99999), and near the
# ends of ``date`` the time-zone arithmetic would overflow.
YEAR_MIN = 2000
YEAR_MAX = 2999
# "No second factor" is stored as "" (MfaMethod.NONE); a URL needs a visible word for it.
MFA_NONE = "none"

_COUNTRY_RE = re.compile(r"^[A-Za-z]{2}$")
_SLUG_RE = re.compile(r"^[a-z0-9_.-]{1,64}$")


# --- The filter values --------------------------------------------------------------------------


def _instant(day: date, tz: str) -> datetime:
    # In UTC: Python subtracts two datetimes of the same zone on the wall clock, which would make
    # a DST day look 24 hours long to any caller doing arithmetic on the bounds.
    return datetime.combine(day, time.min, tzinfo=zoneinfo.ZoneInfo(tz)).astimezone(UTC)


@dataclass(frozen=True, slots=True)
class DateRange:
    """[starts_at, ends_before) as aware datetimes, either side open: whole days in ``tz``
    (``from``/``to``), narrowed by exact instants (``since``, inclusive; ``until``, exclusive),
    e.g. one hour of the dashboard's 24-hour chart."""

    date_from: date | None = None
    date_to: date | None = None
    tz: str = "UTC"
    since: datetime | None = None  # aware, UTC
    until: datetime | None = None  # aware, UTC

    @property
    def starts_at(self) -> datetime | None:
        day = _instant(self.date_from, self.tz) if self.date_from is not None else None
        bounds = [b for b in (day, self.since) if b is not None]
        return max(bounds) if bounds else None

    @property
    def ends_before(self) -> datetime | None:
        # Inclusive "to": everything before the next day's first instant in the zone. Combining
        # in the zone (not adding 24 h to an instant) keeps DST days 23 or 25 hours long.
        day = (_instant(self.date_to + timedelta(days=1), self.tz)
               if self.date_to is not None else None)
        bounds = [b for b in (day, self.until) if b is not None]
        return min(bounds) if bounds else None

    def _shown(self, moment: datetime) -> str:
        return moment.astimezone(zoneinfo.ZoneInfo(self.tz)).isoformat(timespec="seconds")

    def as_params(self) -> dict[str, str]:
        params = {}
        if self.date_from:
            params["from"] = self.date_from.isoformat()
        if self.date_to:
            params["to"] = self.date_to.isoformat()
        if self.since:
            params["since"] = self._shown(self.since)
        if self.until:
            params["until"] = self._shown(self.until)
        return params


@dataclass(frozen=True, slots=True)
class LoginEventFilters:
    person: int | None = None
    address: str = ""
    address_exact: bool = False
    ip: str = ""  # a normalised single address, or "" (see ``network``)
    network: str = ""  # a normalised CIDR such as "10.0.0.0/8" or "2001:db8::/32", or ""
    country: str = ""
    outcome: str = ""
    reason: str = ""
    browser: str = ""
    os: str = ""
    device: str = ""
    mfa: str | None = None  # None: any; "": no second factor; else an MfaMethod value
    protocol: str = ""  # web, imap, pop3, submission (mail clients through Dovecot), or any
    dates: DateRange = field(default_factory=DateRange)

    def as_params(self) -> dict[str, str]:
        params: dict[str, str] = {}
        if self.person is not None:
            params["person"] = str(self.person)
        if self.address:
            params["address"] = self.address
            if self.address_exact:
                params["exact"] = "1"
        if self.ip or self.network:
            params["ip"] = self.ip or self.network
        for key in ("country", "outcome", "reason", "browser", "os", "device", "protocol"):
            if value := getattr(self, key):
                params[key] = value
        if self.mfa is not None:
            params["mfa"] = self.mfa or MFA_NONE
        params.update(self.dates.as_params())
        return params


@dataclass(frozen=True, slots=True)
class ExportEventFilters:
    person: int | None = None
    dataset: str = ""
    file_format: str = ""  # not "format": the export URLs use ?format= for their own output
    status: str = ""
    dates: DateRange = field(default_factory=DateRange)

    def as_params(self) -> dict[str, str]:
        params: dict[str, str] = {}
        if self.person is not None:
            params["person"] = str(self.person)
        for key in ("dataset", "file_format", "status"):
            if value := getattr(self, key):
                params[key] = value
        params.update(self.dates.as_params())
        return params


@dataclass(frozen=True, slots=True)
class AuditFilters:
    actor: int | None = None
    person: int | None = None  # the person affected: entries about them or their invitations
    object_type: str = ""  # "app_label.model" of an audited model
    object_id: str = ""  # one object of ``object_type``
    action: int | None = None
    dates: DateRange = field(default_factory=DateRange)

    def as_params(self) -> dict[str, str]:
        params: dict[str, str] = {}
        if self.actor is not None:
            params["actor"] = str(self.actor)
        if self.person is not None:
            params["person"] = str(self.person)
        if self.object_type:
            params["type"] = self.object_type
            if self.object_id:
                params["object"] = self.object_id
        if self.action is not None:
            params["action"] = str(self.action)
        params.update(self.dates.as_params())
        return params


@dataclass(frozen=True, slots=True)
class ParsedFilters[F: (LoginEventFilters, ExportEventFilters, AuditFilters)]:
    """What the parser kept (``filters``) and what it refused, as messages for the page."""

    filters: F
    errors: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, str]:
        """The cleaned filters as plain strings: the ExportEvent's ``filters`` record."""
        return self.filters.as_params()

    def as_query(self) -> str:
        """The cleaned filters as a query string (no leading "?"), for links that keep them."""
        return urlencode(self.as_dict())

    @property
    def active(self) -> bool:
        return bool(self.as_dict())


# --- Parsing ------------------------------------------------------------------------------------


class _Reader:
    """Reads one QueryDict defensively and collects the messages for what it refused."""

    def __init__(self, params: QueryDict | Mapping[str, str]) -> None:
        self.params = params
        self.errors: list[str] = []

    def text(self, key: str, label: str, *, max_length: int = VALUE_MAX_LENGTH) -> str:
        try:
            raw = self.params.get(key, "")
        except Exception:  # a hostile mapping; QueryDict itself does not raise here
            raw = ""
        if not isinstance(raw, str):
            raw = ""
        value = raw.strip()
        if not value:
            return ""
        if "\x00" in value or not value.isprintable():
            # PostgreSQL refuses NUL in text, and control characters are never in stored values.
            self.errors.append(_("%(label)s contains characters that are not allowed; the filter "
                                 "was ignored.") % {"label": label})
            return ""
        if len(value) > max_length:
            self.errors.append(_("%(label)s is longer than %(n)d characters; the filter was "
                                 "ignored.") % {"label": label, "n": max_length})
            return ""
        return value

    def choice(self, key: str, label: str, choices: Mapping[str, Any]) -> str:
        value = self.text(key, label)
        if value and value not in choices:
            self.errors.append(_("%(label)s: “%(value)s” is not one of the choices; the filter "
                                 "was ignored.") % {"label": label, "value": value[:40]})
            return ""
        return value

    def positive_int(self, key: str, label: str) -> int | None:
        value = self.text(key, label, max_length=18)
        if not value:
            return None
        if not value.isascii() or not value.isdigit() or int(value) == 0 or int(value) >= 2**63:
            self.errors.append(_("%(label)s must be a positive whole number; the filter was "
                                 "ignored.") % {"label": label})
            return None
        return int(value)

    def day(self, key: str, label: str) -> date | None:
        value = self.text(key, label, max_length=32)
        if not value:
            return None
        try:
            day = date.fromisoformat(value) if len(value) == 10 else None
        except ValueError:
            day = None
        if day is None:
            self.errors.append(_("%(label)s must be a date such as 2026-03-31; the filter was "
                                 "ignored.") % {"label": label})
            return None
        if not YEAR_MIN <= day.year <= YEAR_MAX:
            self.errors.append(_("%(label)s must be between the years %(min)d and %(max)d; the "
                                 "filter was ignored.") % {"label": label, "min": YEAR_MIN,
                                                           "max": YEAR_MAX})
            return None
        return day

    def instant(self, key: str, label: str, tz: str) -> datetime | None:
        """An ISO 8601 date and time; with no offset, a time in ``tz``. Returned in UTC."""
        value = self.text(key, label, max_length=40)
        if not value:
            return None
        # "+08:00" pasted into a URL unencoded arrives as " 08:00".
        if len(value) > 19 and value[-6] == " " and value[-5:-3].isdigit():
            value = f"{value[:-6]}+{value[-5:]}"
        try:
            moment = datetime.fromisoformat(value) if len(value) >= 16 and value[10] in "T " \
                else None
        except ValueError:
            moment = None
        if moment is None:
            self.errors.append(_("%(label)s must be a date and time such as "
                                 "2026-03-31T14:00:00+08:00; the filter was ignored.")
                               % {"label": label})
            return None
        if not YEAR_MIN <= moment.year <= YEAR_MAX:
            self.errors.append(_("%(label)s must be between the years %(min)d and %(max)d; the "
                                 "filter was ignored.") % {"label": label, "min": YEAR_MIN,
                                                           "max": YEAR_MAX})
            return None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=zoneinfo.ZoneInfo(tz))
        return moment.astimezone(UTC)

    def dates(self, tz: str) -> DateRange:
        date_from = self.day("from", _("From"))
        date_to = self.day("to", _("To"))
        if date_from and date_to and date_from > date_to:
            self.errors.append(_("“From” was after “To”; the dates were swapped."))
            date_from, date_to = date_to, date_from
        since = self.instant("since", _("Since"), tz)
        until = self.instant("until", _("Until"), tz)
        if since and until and since > until:
            self.errors.append(_("“Since” was after “Until”; the times were swapped."))
            since, until = until, since
        return DateRange(date_from=date_from, date_to=date_to, tz=tz, since=since, until=until)


def _zone(tenant: Tenant, tz: str | None) -> str:
    name = tz or getattr(tenant, "timezone", "") or "UTC"
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return "UTC"
    return name


def _address(reader: _Reader) -> tuple[str, str]:
    """(single ip, network) from ``ip``: one of them set, or neither."""
    value = reader.text("ip", _("IP address"), max_length=64)
    if not value:
        return "", ""
    try:
        if "/" in value:
            # strict=False: "10.1.2.3/8" means the network it lies in, as people write it.
            network = ipaddress.ip_network(value, strict=False)
            if isinstance(network, ipaddress.IPv6Network) and network.prefixlen >= 96 and (
                mapped := network.network_address.ipv4_mapped
            ):
                network = ipaddress.IPv4Network(f"{mapped}/{network.prefixlen - 96}")
            if network.num_addresses == 1:
                return str(network.network_address), ""
            return "", str(network)
        address = ipaddress.ip_address(value)
    except ValueError:
        reader.errors.append(_("“%(value)s” is not an IP address or network (such as 192.0.2.7, "
                               "10.0.0.0/8 or 2001:db8::/32); the filter was ignored.")
                             % {"value": value[:64]})
        return "", ""
    # Stored addresses unpack IPv4-mapped IPv6 (unpack_ipv4=True); match them the same way.
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    return str(address), ""


def login_filters_from_query(
    *, tenant: Tenant, params: QueryDict | Mapping[str, str], tz: str | None = None
) -> ParsedFilters[LoginEventFilters]:
    """Sign-in log filters; dates are days in ``tz`` (default: the tenant's time zone)."""
    reader = _Reader(params)
    person = reader.positive_int("person", _("Person"))
    address = reader.text("address", _("Address"))
    exact = bool(address) and reader.text("exact", _("Exact address")) in {"1", "on", "true"}
    if exact:
        address = normalize_email(address)
    ip, network = _address(reader)
    country = reader.text("country", _("Country"), max_length=8)
    if country and not _COUNTRY_RE.match(country):
        reader.errors.append(_("Country must be a two-letter code such as CN or US; the filter "
                               "was ignored."))
        country = ""
    outcome = reader.choice("outcome", _("Outcome"), dict(Outcome.choices))
    reason = reader.choice("reason", _("Reason"), dict(Reason.choices))
    browser = reader.text("browser", _("Browser"), max_length=FAMILY_MAX_LENGTH)
    os_family = reader.text("os", _("Operating system"), max_length=FAMILY_MAX_LENGTH)
    device = reader.choice("device", _("Device"), dict(DeviceType.choices))
    mfa_choices = {MFA_NONE: "", **{v: v for v in MfaMethod.values if v}}
    mfa_raw = reader.choice("mfa", _("Second factor"), mfa_choices)
    protocol = reader.choice("protocol", _("Protocol"), dict(Protocol.choices))
    filters = LoginEventFilters(
        person=person, address=address, address_exact=exact, ip=ip, network=network,
        country=country.upper(), outcome=outcome, reason=reason, browser=browser, os=os_family,
        device=device, mfa=mfa_choices[mfa_raw] if mfa_raw else None, protocol=protocol,
        dates=reader.dates(_zone(tenant, tz)),
    )
    return ParsedFilters(filters=filters, errors=reader.errors)


def export_filters_from_query(
    *, tenant: Tenant, params: QueryDict | Mapping[str, str], tz: str | None = None
) -> ParsedFilters[ExportEventFilters]:
    """Export log filters; dates are days in ``tz`` (default: the tenant's time zone)."""
    reader = _Reader(params)
    person = reader.positive_int("person", _("Person"))
    dataset = reader.text("dataset", _("Dataset"), max_length=64)
    if dataset and not _SLUG_RE.match(dataset):
        reader.errors.append(_("Dataset: “%(value)s” is not a dataset name; the filter was "
                               "ignored.") % {"value": dataset[:40]})
        dataset = ""
    file_format = reader.text("file_format", _("Format"), max_length=16)
    if file_format and not _SLUG_RE.match(file_format):
        reader.errors.append(_("Format: “%(value)s” is not a file format; the filter was "
                               "ignored.") % {"value": file_format[:16]})
        file_format = ""
    status = reader.choice("status", _("Status"), dict(ExportStatus.choices))
    filters = ExportEventFilters(
        person=person, dataset=dataset, file_format=file_format, status=status,
        dates=reader.dates(_zone(tenant, tz)),
    )
    return ParsedFilters(filters=filters, errors=reader.errors)


def audited_object_types() -> dict[str, str]:
    """The object types of the audit trail: "app_label.model" → its readable name."""
    from auditlog.registry import auditlog

    types = {
        model._meta.label_lower: str(model._meta.verbose_name).capitalize()
        for model in auditlog.get_models()
    }
    return dict(sorted(types.items(), key=lambda item: item[1]))


def audit_actions() -> dict[str, str]:
    return {str(value): str(label).capitalize() for value, label in AuditLogEntry.Action.choices}


def audit_filters_from_query(
    *, tenant: Tenant, params: QueryDict | Mapping[str, str], tz: str | None = None
) -> ParsedFilters[AuditFilters]:
    """Audit trail filters; dates are days in ``tz`` (default: the tenant's time zone)."""
    reader = _Reader(params)
    actor = reader.positive_int("actor", _("Actor"))
    person = reader.positive_int("person", _("Person affected"))
    object_type = reader.choice("type", _("Object type"), audited_object_types())
    object_id = reader.positive_int("object", _("Object")) if object_type else None
    action = reader.choice("action", _("Action"), audit_actions())
    filters = AuditFilters(
        actor=actor, person=person, object_type=object_type,
        object_id=str(object_id) if object_id is not None else "",
        action=int(action) if action else None,
        dates=reader.dates(_zone(tenant, tz)),
    )
    return ParsedFilters(filters=filters, errors=reader.errors)


# --- Reading a recorded filter set back -------------------------------------------------------

_LABELS: dict[str, Any] = {
    "person": gettext_lazy("Person"),
    "address": gettext_lazy("Address"),
    "exact": gettext_lazy("Exact address"),
    "ip": gettext_lazy("IP address"),
    "country": gettext_lazy("Country"),
    "outcome": gettext_lazy("Outcome"),
    "reason": gettext_lazy("Reason"),
    "browser": gettext_lazy("Browser"),
    "os": gettext_lazy("Operating system"),
    "device": gettext_lazy("Device"),
    "mfa": gettext_lazy("Second factor"),
    "protocol": gettext_lazy("Protocol"),
    "from": gettext_lazy("From"),
    "to": gettext_lazy("To"),
    "since": gettext_lazy("Since"),
    "until": gettext_lazy("Until"),
    "dataset": gettext_lazy("Dataset"),
    "file_format": gettext_lazy("Format"),
    "status": gettext_lazy("Status"),
    "actor": gettext_lazy("Actor"),
    "type": gettext_lazy("Object type"),
    "object": gettext_lazy("Object"),
    "action": gettext_lazy("Action"),
    "grey": gettext_lazy("Records pending deletion"),
    "month": gettext_lazy("Month"),  # the Reports page's monthly CSV (retention)
}


def _value_labels() -> dict[str, Callable[[str], str]]:
    def from_choices(choices: Mapping[str, Any]) -> Callable[[str], str]:
        return lambda value: str(choices.get(value, value))

    mfa = {MFA_NONE: MfaMethod.NONE.label, **dict(MfaMethod.choices)}
    return {
        "outcome": from_choices(dict(Outcome.choices)),
        "reason": from_choices(dict(Reason.choices)),
        "device": from_choices(dict(DeviceType.choices)),
        "mfa": from_choices(mfa),
        "protocol": from_choices(dict(Protocol.choices)),
        "status": from_choices(dict(ExportStatus.choices)),
        "type": from_choices(audited_object_types()),
        "action": from_choices(audit_actions()),
        "exact": lambda value: _("yes"),
        "grey": lambda value: _("included"),
    }


# Recorded filters that hold a person's id: named through ``people`` (see filters_describe).
PERSON_KEYS = ("person", "actor")


def filters_person_ids(recorded: Mapping[str, Any] | Any) -> set[int]:
    """The person ids a recorded filter set names (``person``, ``actor``), to look up at once."""
    if not isinstance(recorded, Mapping):
        return set()
    ids = set()
    for key in PERSON_KEYS:
        value = str(recorded.get(key, ""))
        if value.isascii() and value.isdigit() and 0 < int(value) < 2**63:
            ids.add(int(value))
    return ids


def filters_describe(recorded: Mapping[str, Any] | Any,
                     people: Mapping[int, str] | None = None) -> list[tuple[str, str]]:
    """A recorded ``as_dict()`` as (label, readable value) pairs, e.g. for the export log.

    ``people``: the names of the reader's tenant's people by id (``filters_person_ids`` says
    which to look up); a person filter then reads as the name, and an id not among them (another
    tenant's, a deleted person) as "unknown person", never as the bare id.

    Tolerates anything (the record is JSON written by another release): unknown keys keep their
    name, non-dict input describes as nothing.
    """
    if not isinstance(recorded, Mapping):
        return []
    readable = _value_labels()
    pairs = []
    for key, value in recorded.items():
        text = str(value)[:VALUE_MAX_LENGTH]
        if people is not None and str(key) in PERSON_KEYS:
            pk = int(text) if text.isascii() and text.isdigit() else None
            shown = people.get(pk, _("unknown person")) if pk is not None else _("unknown person")
            pairs.append((str(_LABELS[str(key)]), shown))
            continue
        describe = readable.get(str(key))
        pairs.append((str(_LABELS.get(str(key), key)), describe(text) if describe else text))
    return pairs


__all__ = [
    "AuditFilters",
    "DateRange",
    "ExportEventFilters",
    "LoginEventFilters",
    "ParsedFilters",
    "audit_actions",
    "audit_filters_from_query",
    "audited_object_types",
    "export_filters_from_query",
    "filters_describe",
    "filters_person_ids",
    "login_filters_from_query",
]

