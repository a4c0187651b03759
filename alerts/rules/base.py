"""What every rule sees and returns. Rules are pure: no ORM, no clock, no settings.

The detector (``alerts.detect``) reads a batch of new events, fetches the history every event of
the batch needs in a constant number of queries, and hands each rule one ``Event`` with a
``History`` built in memory. A rule returns ``Finding``s; the detector turns them into alerts,
deduplicated by ``Finding.dedup_key`` under a unique constraint, so evaluating the same event twice
changes nothing.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol


class Severity(enum.StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"


class RuleMode(enum.StrEnum):
    ALERT = "alert"      # open an alert and notify
    RECORD = "record"    # shadow mode: keep the finding, page nobody


@dataclass(frozen=True, slots=True)
class Place:
    """Where an IP is, as precisely as the configured resolver knows."""

    country: str                   # ISO 3166-1 alpha-2, "" when unknown
    latitude: float | None = None
    longitude: float | None = None
    accuracy_km: float = 0.0       # the resolver's radius: 0 for a city point, large for a centroid
    city: str = ""


@dataclass(frozen=True, slots=True)
class Event:
    """One sign-in row as the rules see it (``activity.LoginEvent``)."""

    id: int
    tenant_id: int
    user_id: int | None
    login: str                     # the attempted login, normalised
    occurred_at: dt.datetime       # aware, UTC
    outcome: str                   # activity.Outcome value
    reason: str                    # activity.Reason value or ""
    ip: str
    country: str
    browser_family: str
    os_family: str
    device_type: str
    mfa_method: str = ""
    place: Place | None = None     # filled by the detector for successful sign-ins


@dataclass(frozen=True, slots=True)
class ExportSample:
    """One export (``activity.ExportEvent``) as the mass-export rule sees it."""

    id: int
    tenant_id: int
    user_id: int | None
    occurred_at: dt.datetime
    dataset: str
    row_count: int


class History(Protocol):
    """What happened before an event, from rows the detector fetched for the whole batch.

    Every method returns rows strictly before ``before`` (or up to it, inclusive, where the name
    says so), oldest first, never the event itself.
    """

    def successes(self, *, user_id: int, since: dt.datetime, before: dt.datetime,
                  exclude_id: int) -> Sequence[Event]: ...

    def first_success(self, *, user_id: int) -> dt.datetime | None: ...

    def success_count(self, *, user_id: int, before: dt.datetime) -> int: ...

    def account_failures(self, *, tenant_id: int, login: str, since: dt.datetime,
                         until: dt.datetime) -> Sequence[Event]: ...

    def network_failures(self, *, tenant_id: int, network: str, since: dt.datetime,
                         until: dt.datetime) -> Sequence[Event]: ...

    def exports(self, *, user_id: int, since: dt.datetime,
                until: dt.datetime) -> Sequence[ExportSample]: ...

    def is_trusted(self, *, user_id: int, kind: str, value: str) -> bool: ...


@dataclass(frozen=True, slots=True)
class TenantContext:
    """The tenant facts some rules need (time zone for quiet hours)."""

    tenant_id: int
    timezone: str


@dataclass(frozen=True, slots=True)
class Finding:
    """One rule's conclusion about one event (or one window of events).

    ``dedup_key`` identifies the alert this finding belongs to: the same key (within the rule's
    window) is one alert whose count and last-seen grow with each distinct evidence event.
    ``evidence`` holds the figures a person checks (km/h, the usual hours, the failure count and
    window), JSON-serialisable; ``event_ids`` are the record rows that prove it.
    """

    rule: str
    severity: Severity
    tenant_id: int
    user_id: int | None
    dedup_key: str
    occurred_at: dt.datetime
    event_ids: tuple[int, ...]
    evidence: Mapping[str, Any] = field(default_factory=dict)


class Rule(Protocol):
    """A rule module exposes these names (``alerts.rules.<name>``)."""

    CODE: str
    DEFAULT_SEVERITY: Severity

    def evaluate(self, event: Event, history: History, params: Any,
                 tenant: TenantContext) -> list[Finding]: ...
