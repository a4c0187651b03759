"""An in-memory ``alerts.rules.base.History`` for the rules' tests, and builders of events.

``FakeHistory`` holds everything it is given and answers the protocol the way the detector's
``alerts.history.BatchHistory`` must, so a rule tested here behaves the same in the worker:

- Every list is oldest first, ordered by ``(occurred_at, id)``.
- ``successes(user_id, since, before, exclude_id)``: the person's rows with outcome ``success``,
  ``since <= occurred_at < before`` (strictly before ``before``), without the row ``exclude_id``.
- ``first_success(user_id)``: the time of the person's earliest success in the whole record,
  which may be the event being judged itself; None when they never signed in.
- ``success_count(user_id, before)``: how many successes the person has strictly before ``before``.
- ``account_failures(tenant_id, login, since, until)``: the tenant's rows with outcome
  ``failure`` (any reason: wrong password, unknown account, wrong code, locked out, throttled)
  for that attempted login, ``since <= occurred_at <= until`` (``until`` inclusive). The
  History does not know which event is being judged, so a failure being judged may or may not
  be among them (the batch's own events are part of the real history); rules count by id.
- ``network_failures(tenant_id, network, since, until)``: the same for every failure whose IP
  lies in the CIDR ``network`` (an IPv4-mapped IPv6 address counts as its IPv4 address).
- ``exports(user_id, since, until)``: the person's export samples, ``since <= at <= until``.
- ``is_trusted(user_id, kind, value)``: kind ``network`` asks whether the IP ``value`` lies in one
  of the person's trusted CIDRs; ``device`` ("Chrome|Windows|desktop") and ``country`` ("DE")
  compare case-insensitively. Revoked trusts are simply not given to the History.

``calls`` records which methods a rule used, so a test can hold a rule's ``NEEDS`` to the truth.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import itertools
from collections.abc import Iterable, Sequence

from alerts.rules.base import Event, ExportSample, Place, TenantContext

UTC = dt.UTC
TENANT = TenantContext(tenant_id=1, timezone="Europe/Berlin")
_ids = itertools.count(1000)


def at(text: str) -> dt.datetime:
    """An aware UTC instant from "2026-12-01 09:30" (or with seconds)."""
    return dt.datetime.fromisoformat(text).replace(tzinfo=UTC)


def signin(when: dt.datetime | str, *, user_id: int | None = 7, outcome: str = "success",
           reason: str = "", login: str = "ana@acme.example", ip: str = "198.51.100.7",
           country: str = "DE", browser: str = "Chrome", os: str = "Windows",
           device: str = "desktop", place: Place | None = None, tenant_id: int = 1,
           event_id: int | None = None) -> Event:
    return Event(
        id=next(_ids) if event_id is None else event_id, tenant_id=tenant_id, user_id=user_id,
        login=login, occurred_at=at(when) if isinstance(when, str) else when, outcome=outcome,
        reason=reason, ip=ip, country=country, browser_family=browser, os_family=os,
        device_type=device, place=place,
    )


def failure(when: dt.datetime | str, **kwargs: object) -> Event:
    kwargs.setdefault("reason", "bad_credentials")
    return signin(when, outcome="failure", **kwargs)  # type: ignore[arg-type]


def export(when: dt.datetime | str, rows: int, *, user_id: int | None = 7,
           dataset: str = "signins", tenant_id: int = 1) -> ExportSample:
    return ExportSample(id=next(_ids), tenant_id=tenant_id, user_id=user_id,
                        occurred_at=at(when) if isinstance(when, str) else when,
                        dataset=dataset, row_count=rows)


def _address(ip: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def _order(e: Event | ExportSample) -> tuple[dt.datetime, int]:
    return (e.occurred_at, e.id)


class FakeHistory:
    """The whole record in lists; see the module docstring for each method's semantics."""

    def __init__(self, events: Iterable[Event] = (), *, exports: Iterable[ExportSample] = (),
                 trusts: Iterable[tuple[int, str, str]] = ()) -> None:
        self.events = sorted(events, key=_order)
        self.samples = sorted(exports, key=_order)
        self.trusts = [(user, kind, value.strip().casefold()) for user, kind, value in trusts]
        self.calls: set[str] = set()

    def successes(self, *, user_id: int, since: dt.datetime, before: dt.datetime,
                  exclude_id: int) -> Sequence[Event]:
        self.calls.add("successes")
        return [e for e in self.events
                if e.user_id == user_id and e.outcome == "success" and since <= e.occurred_at < before
                and e.id != exclude_id]

    def first_success(self, *, user_id: int) -> dt.datetime | None:
        self.calls.add("first_success")
        return next((e.occurred_at for e in self.events
                     if e.user_id == user_id and e.outcome == "success"), None)

    def success_count(self, *, user_id: int, before: dt.datetime) -> int:
        self.calls.add("success_count")
        return sum(1 for e in self.events
                   if e.user_id == user_id and e.outcome == "success" and e.occurred_at < before)

    def account_failures(self, *, tenant_id: int, login: str, since: dt.datetime,
                         until: dt.datetime) -> Sequence[Event]:
        self.calls.add("account_failures")
        return [e for e in self.events
                if e.tenant_id == tenant_id and e.login == login and e.outcome == "failure"
                and since <= e.occurred_at <= until]

    def network_failures(self, *, tenant_id: int, network: str, since: dt.datetime,
                         until: dt.datetime) -> Sequence[Event]:
        self.calls.add("network_failures")
        net = ipaddress.ip_network(network, strict=False)
        found = []
        for e in self.events:
            address = _address(e.ip)
            if (e.tenant_id == tenant_id and e.outcome == "failure" and address is not None
                    and address.version == net.version and address in net
                    and since <= e.occurred_at <= until):
                found.append(e)
        return found

    def exports(self, *, user_id: int, since: dt.datetime,
                until: dt.datetime) -> Sequence[ExportSample]:
        self.calls.add("exports")
        return [s for s in self.samples if s.user_id == user_id and since <= s.occurred_at <= until]

    def is_trusted(self, *, user_id: int, kind: str, value: str) -> bool:
        self.calls.add("is_trusted")
        for user, trusted_kind, trusted in self.trusts:
            if user != user_id or trusted_kind != kind:
                continue
            if kind == "network":
                address = _address(value)
                net = ipaddress.ip_network(trusted, strict=False)
                if address is not None and address.version == net.version and address in net:
                    return True
            elif trusted == value.strip().casefold():
                return True
        return False


def habit(start: dt.datetime | str, *, days: int, per_day: int = 1, hour: int = 9,
          **kwargs: object) -> list[Event]:
    """A person's routine: ``per_day`` successes a day for ``days`` days from ``start``'s date."""
    first = at(start) if isinstance(start, str) else start
    base = first.replace(hour=hour, minute=0, second=0, microsecond=0)
    return [signin(base + dt.timedelta(days=d, minutes=5 * n), **kwargs)  # type: ignore[arg-type]
            for d in range(days) for n in range(per_day)]
