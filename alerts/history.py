"""The history of a whole batch of events, fetched at once and served from memory.

Design: the rules ask "this person's successes in the last 90 days", "the failures on this login
in the last 15 minutes", "this network's failures", "this person's exports in 30 days"; asking
the database once per event is what makes naive detectors slow (bench/detect). ``history_fetch``
runs one query per kind of history the enabled rules need, for every person, login and network
of the batch together, bounded by the batch's time span plus the longest window; ``BatchHistory``
then answers every rule's question with a bisection over sorted lists. Batch events are part of
the history, so two sign-ins of one batch see each other. The query count depends on which rules
are enabled, never on the batch's size.
"""

from __future__ import annotations

import bisect
import datetime as dt
import ipaddress
import operator
from collections import defaultdict
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import connection
from django.db.models import Count, Min

from accounts.models import User
from activity.models import ExportEvent, ExportStatus, LoginEvent, Outcome
from alerts.models import Trust, TrustKind
from alerts.rules.base import Event, ExportSample, Place
from alerts.rules.unusual_hour import local_hours

# The columns a rule's Event is built from (plus the User-Agent, which evidence keeps).
EVENT_COLUMNS = ("id", "user_id", "attempted_login", "occurred_at", "outcome", "reason", "ip",
                 "country", "browser_family", "os_family", "device_type", "mfa_method",
                 "user_agent")

# Outcomes that count as a failed attempt for the failure-window rules: a wrong password (or
# second factor), an unknown account, an attempt while locked. Policy refusals ("denied") are
# not guesses; the blocked-by-policy rule looks at the event itself.
FAILURE_OUTCOMES = (Outcome.FAILURE,)

Row = tuple[Any, ...]
PlaceOf = Callable[[str, str], Place]


def event_from_row(row: Row, *, tenant_id: int, place_of: PlaceOf | None = None) -> Event:
    """An ``Event`` from a ``values_list(*EVENT_COLUMNS)`` row; successes get their place."""
    (event_id, user_id, login, occurred_at, outcome, reason, ip, country, browser, os_family,
     device, mfa, _user_agent) = row
    place = None
    if place_of is not None and outcome == Outcome.SUCCESS:
        place = place_of(str(ip or ""), str(country or ""))
    return Event(
        id=int(event_id),
        tenant_id=tenant_id,
        user_id=user_id,
        login=str(login or ""),
        occurred_at=occurred_at,
        outcome=str(outcome),
        reason=str(reason or ""),
        ip=str(ip or ""),
        country=str(country or ""),
        browser_family=str(browser or ""),
        os_family=str(os_family or ""),
        device_type=str(device or ""),
        mfa_method=str(mfa or ""),
        place=place,
    )


def network_key(ip: str, prefix: int | None = None) -> str:
    """The network an address belongs to: /24 for IPv4 and /64 for IPv6 unless ``prefix``."""
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return ""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    if prefix is None:
        prefix = 24 if address.version == 4 else 64
    prefix = min(prefix, address.max_prefixlen)
    return str(ipaddress.ip_network(f"{address}/{prefix}", strict=False))


def _parse_network(value: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network | None:
    try:
        return ipaddress.ip_network(value.strip(), strict=False)
    except ValueError:
        return None


_BY_TIME_AND_ID = operator.attrgetter("occurred_at", "id")


class _Timeline:
    """Events of one key sorted by (time, id), with their times for bisection.

    A person's successes are kept in one across the batches of a catch-up (``SuccessCache``):
    ``add`` puts a new event in its place (at the end, almost always), so no batch sorts a
    person's month again; the hours of the day in a time zone (the usual-hours rule) are
    computed once per event, not once per question.
    """

    __slots__ = ("_hours", "_positions", "events", "ids", "times")

    def __init__(self, events: Iterable[Event]) -> None:
        by_id = {e.id: e for e in events}
        self.events = sorted(by_id.values(), key=_BY_TIME_AND_ID)
        self.times = [e.occurred_at for e in self.events]
        self.ids = set(by_id)
        self._positions: dict[int, int] | None = None
        self._hours: dict[dt.tzinfo, bytearray] = {}

    def add(self, event: Event) -> None:
        """The event in its (time, id) place; one already held is left as it is."""
        if event.id in self.ids:
            return
        self.ids.add(event.id)
        last = self.events[-1] if self.events else None
        if last is None or (event.occurred_at, event.id) > (last.occurred_at, last.id):
            self.events.append(event)
            self.times.append(event.occurred_at)
            if self._positions is not None:
                self._positions[event.id] = len(self.events) - 1
            for zone, hours in self._hours.items():
                hours.append(event.occurred_at.astimezone(zone).hour)
            return
        at = bisect.bisect_left(self.events, (event.occurred_at, event.id), key=_BY_TIME_AND_ID)
        self.events.insert(at, event)
        self.times.insert(at, event.occurred_at)
        self._positions = None
        self._hours.clear()

    def between(self, since: dt.datetime, until: dt.datetime, *, inclusive: bool) -> list[Event]:
        lo = bisect.bisect_left(self.times, since)
        hi = (bisect.bisect_right if inclusive else bisect.bisect_left)(self.times, until)
        return self.events[lo:hi]

    def before_without(self, since: dt.datetime, before: dt.datetime, exclude_id: int) -> _Window:
        """``between(since, before)`` without the event ``exclude_id``, as a view: found by its
        position, nothing copied (the rules ask this several times per event, and a busy
        person's window holds thousands of sign-ins)."""
        lo = bisect.bisect_left(self.times, since)
        hi = bisect.bisect_left(self.times, before)
        if self._positions is None:
            self._positions = {e.id: i for i, e in enumerate(self.events)}
        at = self._positions.get(exclude_id)
        return _Window(self, lo, hi, at if at is not None and lo <= at < hi else -1)

    def count_before(self, before: dt.datetime) -> int:
        return bisect.bisect_left(self.times, before)

    def hours(self, zone: dt.tzinfo) -> bytearray:
        """The hour of the day of each event in ``zone``, in the events' order (a byte each:
        ``bytearray.count`` counts a window's sign-ins of one hour in C)."""
        hours = self._hours.get(zone)
        if hours is None:
            hours = self._hours[zone] = bytearray(local_hours(self.times, zone))
        return hours


class _Window(Sequence[Event]):
    """Events ``lo`` to ``hi`` of a timeline less the one at ``skip`` (-1: none), oldest first:
    what ``BatchHistory.successes`` answers, without copying the person's history."""

    __slots__ = ("_hi", "_lo", "_skip", "_timeline")

    def __init__(self, timeline: _Timeline, lo: int, hi: int, skip: int) -> None:
        self._timeline, self._lo, self._hi, self._skip = timeline, lo, hi, skip

    def __len__(self) -> int:
        return self._hi - self._lo - (self._skip >= 0)

    def _slice(self, values: list[Event]) -> list[Event]:
        if self._skip < 0:
            return values[self._lo:self._hi]
        return values[self._lo:self._skip] + values[self._skip + 1:self._hi]

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, slice):
            return self._slice(self._timeline.events)[index]
        size = len(self)
        if index < 0:
            index += size
        if not 0 <= index < size:
            raise IndexError("window index out of range")
        position = self._lo + index
        if 0 <= self._skip <= position:
            position += 1
        return self._timeline.events[position]

    def __iter__(self) -> Iterator[Event]:
        events = self._timeline.events
        for i in range(self._lo, self._hi):
            if i != self._skip:
                yield events[i]

    def __reversed__(self) -> Iterator[Event]:
        events = self._timeline.events
        for i in range(self._hi - 1, self._lo - 1, -1):
            if i != self._skip:
                yield events[i]

    def __eq__(self, other: object) -> bool:
        if isinstance(other, _Window | list | tuple):
            return list(self) == list(other)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"_Window({list(self)!r})"

    def hour_counts(self, zone: dt.tzinfo) -> dict[int, int]:
        """How many of these events fell in each hour of the day in ``zone`` (hours without
        any left out), for the usual-hours rule."""
        hours = self._timeline.hours(zone)
        lo, hi = self._lo, self._hi
        counts = {hour: n for hour in range(24) if (n := hours.count(hour, lo, hi))}
        if self._skip >= 0:
            skipped = hours[self._skip]
            counts[skipped] -= 1
            if not counts[skipped]:
                del counts[skipped]
        return counts


_EMPTY = _Timeline(())


@dataclass
class _TrustSet:
    networks: list[tuple[str, ipaddress.IPv4Network | ipaddress.IPv6Network]] = field(default_factory=list)
    values: set[tuple[str, str, str]] = field(default_factory=set)  # (kind, value, rule)


class BatchHistory:
    """The ``alerts.rules.base.History`` of one batch, from rows fetched by ``history_fetch``.

    ``successes`` and ``success_count`` cover ``[success_since, batch end]`` exactly, and the
    counts and first success before that come from one aggregate; ``account_failures`` and
    ``network_failures`` cover the batch's span widened by the longest failure window.
    """

    def __init__(self, *, tenant_id: int, successes: Iterable[Event] = (),
                 failures: Iterable[Event] = (), exports: Iterable[ExportSample] = (),
                 first_success: Mapping[int, dt.datetime] | None = None,
                 successes_before_window: Mapping[int, int] | None = None,
                 trusts: Iterable[Trust] = (), rule: str = "",
                 success_timelines: Mapping[int, _Timeline] | None = None) -> None:
        self.tenant_id = tenant_id
        self.rule = rule
        by_user: dict[int, list[Event]] = defaultdict(list)
        for event in successes:
            if event.user_id is not None:
                by_user[event.user_id].append(event)
        self._successes = {user: _Timeline(events) for user, events in by_user.items()}
        # A catch-up's people, kept up to date from batch to batch (``SuccessCache``).
        self._successes.update(success_timelines or {})
        by_login: dict[str, list[Event]] = defaultdict(list)
        by_network: dict[str, list[Event]] = defaultdict(list)
        self._failures = _Timeline(failures)
        for event in self._failures.events:
            by_login[event.login].append(event)
            by_network[network_key(event.ip)].append(event)
        self._by_login = {login: _Timeline(events) for login, events in by_login.items()}
        self._by_network = {net: _Timeline(events) for net, events in by_network.items()}
        exports_by_user: dict[int, list[ExportSample]] = defaultdict(list)
        for sample in exports:
            if sample.user_id is not None:
                exports_by_user[sample.user_id].append(sample)
        self._exports = {user: sorted(samples, key=lambda s: (s.occurred_at, s.id))
                         for user, samples in exports_by_user.items()}
        self._first_success = dict(first_success or {})
        self._before_window = dict(successes_before_window or {})
        self._trusts: dict[int, _TrustSet] = defaultdict(_TrustSet)
        for trust in trusts:
            entry = self._trusts[trust.user_id]
            if trust.kind == TrustKind.NETWORK:
                network = _parse_network(trust.value)
                if network is not None:
                    entry.networks.append((trust.rule, network))
            else:
                entry.values.add((trust.kind, trust.value.strip().casefold(), trust.rule))

    def for_rule(self, rule: str) -> BatchHistory:
        """The same history whose ``is_trusted`` also honours trusts given for ``rule`` only."""
        view = object.__new__(BatchHistory)
        view.__dict__.update(self.__dict__)
        view.rule = rule
        return view

    # --- the History protocol ---------------------------------------------------------------

    def successes(self, *, user_id: int, since: dt.datetime, before: dt.datetime,
                  exclude_id: int) -> Sequence[Event]:
        return self._successes.get(user_id, _EMPTY).before_without(since, before, exclude_id)

    def first_success(self, *, user_id: int) -> dt.datetime | None:
        first = self._first_success.get(user_id)
        timeline = self._successes.get(user_id)
        if timeline is not None and timeline.times and (first is None or timeline.times[0] < first):
            first = timeline.times[0]
        return first

    def success_count(self, *, user_id: int, before: dt.datetime) -> int:
        timeline = self._successes.get(user_id, _EMPTY)
        return self._before_window.get(user_id, 0) + timeline.count_before(before)

    def account_failures(self, *, tenant_id: int, login: str, since: dt.datetime,
                         until: dt.datetime) -> Sequence[Event]:
        if tenant_id != self.tenant_id:
            return []
        return self._by_login.get(login, _EMPTY).between(since, until, inclusive=True)

    def network_failures(self, *, tenant_id: int, network: str, since: dt.datetime,
                         until: dt.datetime) -> Sequence[Event]:
        if tenant_id != self.tenant_id:
            return []
        wanted = _parse_network(network)
        if wanted is None:
            return []
        key = str(wanted)
        default_prefix = 24 if wanted.version == 4 else 64
        if wanted.prefixlen == default_prefix:
            return self._by_network.get(key, _EMPTY).between(since, until, inclusive=True)
        # Another prefix (a single address, a /16): filter the window's failures.
        return [e for e in self._failures.between(since, until, inclusive=True)
                if _contains(wanted, e.ip)]

    def exports(self, *, user_id: int, since: dt.datetime,
                until: dt.datetime) -> Sequence[ExportSample]:
        return [s for s in self._exports.get(user_id, ()) if since <= s.occurred_at <= until]

    def is_trusted(self, *, user_id: int, kind: str, value: str) -> bool:
        entry = self._trusts.get(user_id)
        if entry is None:
            return False
        rules = {"", self.rule}
        if kind == TrustKind.NETWORK:
            return any(rule in rules and _contains(network, value) for rule, network in entry.networks)
        folded = value.strip().casefold()
        return any((kind, folded, rule) in entry.values for rule in rules)


def _contains(network: ipaddress.IPv4Network | ipaddress.IPv6Network, ip: str) -> bool:
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    return address.version == network.version and address in network


@dataclass(frozen=True, slots=True)
class HistoryNeeds:
    """What one batch's rules need, and how far back."""

    successes_since: dt.datetime | None = None       # None: no success history needed
    learning: bool = False                           # first_success / success_count
    failures_window: dt.timedelta | None = None      # None: no failure history needed
    exports_since: dt.datetime | None = None
    trusts: bool = True


# The columns of a success in the history: an Event's, without the User-Agent (the longest
# value, which only evidence keeps; the detector fetches it for the few rows that prove a finding).
HISTORY_COLUMNS = EVENT_COLUMNS[:-1]


class EventCache(dict[int, Event]):
    """Events already built from their rows during one catch-up of one tenant, by id.

    A person's history is read again in every batch they appear in (a month of sign-ins, five
    times); a record row never changes while the detector runs, so its Event is built once. The
    detector makes one per tenant and run and drops it afterwards.
    """

    LIMIT = 500_000

    def event(self, row: Row, *, tenant_id: int, place_of: PlaceOf | None) -> Event:
        event_id = int(row[0])
        event = self.get(event_id)
        if event is None:
            if len(self) >= self.LIMIT:
                self.clear()
            event = self[event_id] = event_from_row(
                row if len(row) == len(EVENT_COLUMNS) else (*row, ""), tenant_id=tenant_id,
                place_of=place_of)
        return event


class SuccessCache:
    """The successes of every person one catch-up has read so far, kept up to date batch by batch.

    Batches of a catch-up move forward in time, and a person's 90 days of history would be read
    again in each batch they appear in. Instead a person is read in full once (their successes
    since the batch's window start, and the learning counts before it); after that each batch
    reads only the tenant's successes since the previous batch's end, less the late-commit window
    (``ALERTS_DETECT_LOOKBACK_SECONDS``, the same rows the detector's own late-row read allows
    for), and adds them to the people already held. A person whose window would start earlier
    than the one they were read with is read again in full. The detector makes one per tenant and
    run (``tenant_detect``); a beat run of one batch reads as before.
    """

    def __init__(self) -> None:
        self.timelines: dict[int, _Timeline] = {}
        self.since: dict[int, dt.datetime] = {}
        self.first: dict[int, dt.datetime] = {}
        self.before: dict[int, int] = {}
        self.until: dt.datetime | None = None


def _ids_array(ids: Iterable[int]) -> str:
    """A PostgreSQL array literal of integers: one parameter however many ids (``= ANY(%s)``)."""
    return "{" + ",".join(str(int(i)) for i in ids) + "}"


def _select(columns: Sequence[str], where: str) -> str:
    meta = LoginEvent._meta
    column_of = {f.attname: f.column for f in meta.concrete_fields}
    names = ", ".join(_quote(column_of[c]) for c in columns)
    return f"SELECT {names} FROM {_quote(meta.db_table)} WHERE {where}"  # noqa: S608  # nosec B608  # identifiers from the model's meta, values are parameters


def _quote(name: str | None) -> str:
    if name is None:  # a concrete field always has a column; the stubs allow None
        raise TypeError("a field without a column")
    return '"' + name.replace('"', '""') + '"'


def _successes_rows(*, tenant_id: int, users: Sequence[int], since: dt.datetime,
                    until: dt.datetime, raw: bool) -> Iterable[Row]:
    if raw:
        sql = _select(HISTORY_COLUMNS, '"tenant_id" = %s AND "user_id" = ANY(%s::bigint[]) '
                      'AND "outcome" = %s AND "occurred_at" >= %s AND "occurred_at" <= %s')
        with connection.cursor() as cursor:
            cursor.execute(sql, [tenant_id, _ids_array(users), Outcome.SUCCESS, since, until])
            return cursor.fetchall()
    return (LoginEvent.objects.filter(tenant_id=tenant_id, user_id__in=users,
                                      outcome=Outcome.SUCCESS, occurred_at__gte=since,
                                      occurred_at__lte=until)
            .order_by().values_list(*HISTORY_COLUMNS))


def _tenant_successes_rows(*, tenant_id: int, since: dt.datetime, until: dt.datetime,
                           raw: bool) -> Iterable[Row]:
    if raw:
        sql = _select(HISTORY_COLUMNS, '"tenant_id" = %s AND "outcome" = %s '
                      'AND "occurred_at" >= %s AND "occurred_at" <= %s')
        with connection.cursor() as cursor:
            cursor.execute(sql, [tenant_id, Outcome.SUCCESS, since, until])
            return cursor.fetchall()
    return (LoginEvent.objects.filter(tenant_id=tenant_id, outcome=Outcome.SUCCESS,
                                      occurred_at__gte=since, occurred_at__lte=until)
            .order_by().values_list(*HISTORY_COLUMNS))


def _successes_cached(*, tenant_id: int, users: Sequence[int], since: dt.datetime,
                      batch_end: dt.datetime, learning: bool, held: SuccessCache, cache: EventCache,
                      place_of: PlaceOf | None, raw: bool) -> tuple[dict[int, _Timeline],
                                                                   dict[int, dt.datetime],
                                                                   dict[int, int]]:
    """``history_fetch``'s successes (each person's timeline) and learning counts through
    ``held`` (``SuccessCache``)."""
    if held.until is not None and held.timelines:
        # What every person held missed since the last batch (its late commits included).
        late = dt.timedelta(seconds=settings.ALERTS_DETECT_LOOKBACK_SECONDS)
        for row in _tenant_successes_rows(tenant_id=tenant_id, since=held.until - late,
                                          until=max(batch_end, held.until), raw=raw):
            timeline = held.timelines.get(row[1])
            if timeline is not None and int(row[0]) not in timeline.ids:
                timeline.add(cache.event(row, tenant_id=tenant_id, place_of=place_of))
    unread = [u for u in users if u not in held.timelines or since < held.since[u]]
    if unread:
        read: dict[int, list[Event]] = {u: [] for u in unread}
        for row in _successes_rows(tenant_id=tenant_id, users=unread, since=since,
                                   until=max(batch_end, held.until or batch_end), raw=raw):
            read[row[1]].append(cache.event(row, tenant_id=tenant_id, place_of=place_of))
        for user_id in unread:
            held.timelines[user_id] = _Timeline(read[user_id])
            held.since[user_id] = since
            held.first.pop(user_id, None)
            held.before.pop(user_id, None)
        if learning:
            for user_id, first_at, count in _learning_rows(tenant_id=tenant_id, users=unread,
                                                           before=since, raw=raw):
                held.first[user_id] = first_at
                held.before[user_id] = count
    held.until = max(batch_end, held.until or batch_end)
    timelines = {u: held.timelines[u] for u in users}
    first = {u: held.first[u] for u in users if u in held.first}
    before = {u: held.before[u] for u in users if u in held.before}
    return timelines, first, before


def _learning_rows(*, tenant_id: int, users: Sequence[int], before: dt.datetime,
                   raw: bool) -> Iterable[Row]:
    if raw:
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT \"user_id\", MIN(\"occurred_at\"), COUNT(*) FROM {_quote(LoginEvent._meta.db_table)} "  # noqa: S608  # nosec B608  # the table from the model's meta
                'WHERE "tenant_id" = %s AND "user_id" = ANY(%s::bigint[]) AND "outcome" = %s '
                'AND "occurred_at" < %s GROUP BY "user_id"',
                [tenant_id, _ids_array(users), Outcome.SUCCESS, before])
            return cursor.fetchall()
    return (LoginEvent.objects.filter(tenant_id=tenant_id, user_id__in=users,
                                      outcome=Outcome.SUCCESS, occurred_at__lt=before)
            .order_by().values("user_id").annotate(first=Min("occurred_at"), n=Count("id"))
            .values_list("user_id", "first", "n"))


def _failure_rows(*, tenant_id: int, since: dt.datetime, until: dt.datetime,
                  raw: bool) -> Iterable[Row]:
    if raw:
        sql = _select(EVENT_COLUMNS, '"tenant_id" = %s AND "outcome" = ANY(%s::varchar[]) '
                      'AND "occurred_at" >= %s AND "occurred_at" <= %s')
        with connection.cursor() as cursor:
            cursor.execute(sql, [tenant_id, "{" + ",".join(FAILURE_OUTCOMES) + "}", since, until])
            return cursor.fetchall()
    return (LoginEvent.objects.filter(tenant_id=tenant_id, outcome__in=FAILURE_OUTCOMES,
                                      occurred_at__gte=since, occurred_at__lte=until)
            .order_by().values_list(*EVENT_COLUMNS))


def history_fetch(*, tenant_id: int, events: Sequence[Event], samples: Sequence[ExportSample] = (),
                  needs: HistoryNeeds, place_of: PlaceOf | None = None,
                  rows: dict[int, Row] | None = None, cache: EventCache | None = None,
                  held: SuccessCache | None = None, raw: bool | None = None) -> BatchHistory:
    """Fetch every history the batch needs in one query per kind; ``rows`` collects the raw rows
    of the failures by id (the detector copies evidence from them; it fetches the few successes
    outside the batch that prove a finding itself). ``cache``: Events built in earlier batches;
    ``held``: the successes earlier batches of the same catch-up read (``SuccessCache``).

    On PostgreSQL the record's queries are plain SQL with the batch's people as one array
    parameter (``raw``; an ``IN`` list of two thousand placeholders cost more to build and send
    than the query took); elsewhere the same queries through the ORM.
    """
    users = sorted({e.user_id for e in events if e.user_id is not None}
                   | {s.user_id for s in samples if s.user_id is not None})
    times = [e.occurred_at for e in events] + [s.occurred_at for s in samples]
    if not times:
        return BatchHistory(tenant_id=tenant_id)
    batch_start, batch_end = min(times), max(times)
    raw = connection.vendor == "postgresql" if raw is None else raw
    collected = rows if rows is not None else {}
    cache = EventCache() if cache is None else cache

    successes: list[Event] = []
    timelines: dict[int, _Timeline] = {}
    first: dict[int, dt.datetime] = {}
    before_window: dict[int, int] = {}
    if needs.successes_since is not None and users and held is not None:
        timelines, first, before_window = _successes_cached(
            tenant_id=tenant_id, users=users, since=min(needs.successes_since, batch_start),
            batch_end=batch_end, learning=needs.learning, held=held, cache=cache,
            place_of=place_of, raw=raw)
    elif needs.successes_since is not None and users:
        since = min(needs.successes_since, batch_start)
        successes = [cache.event(row, tenant_id=tenant_id, place_of=place_of)
                     for row in _successes_rows(tenant_id=tenant_id, users=users, since=since,
                                                until=batch_end, raw=raw)]
        if needs.learning:
            for user_id, first_at, count in _learning_rows(tenant_id=tenant_id, users=users,
                                                           before=since, raw=raw):
                first[user_id] = first_at
                before_window[user_id] = count

    failures: list[Event] = []
    if needs.failures_window is not None:
        # Every failure of the tenant in the batch's span widened by the longest window: the
        # batch's logins and networks need them, whatever prefix a spray rule groups by.
        for row in _failure_rows(tenant_id=tenant_id, since=batch_start - needs.failures_window,
                                 until=batch_end, raw=raw):
            collected[int(row[0])] = row
            failures.append(cache.event(row, tenant_id=tenant_id, place_of=place_of))

    exports: list[ExportSample] = []
    if needs.exports_since is not None and samples:
        export_users = sorted({s.user_id for s in samples if s.user_id is not None})
        for sample_row in (ExportEvent.objects.filter(
                tenant_id=tenant_id, user_id__in=export_users,
                status__in=(ExportStatus.COMPLETED, ExportStatus.INCOMPLETE),
                occurred_at__gte=min(needs.exports_since, batch_start), occurred_at__lte=batch_end)
                .order_by().values_list("id", "user_id", "occurred_at", "dataset", "row_count")):
            exports.append(export_sample_from_row(sample_row, tenant_id=tenant_id))

    trusts: list[Trust] = []
    if needs.trusts and users:
        # The tenant's trusts are few (each an admin's decision): filtered here rather than
        # sending every person of the batch as a parameter.
        wanted = set(users)
        trusts = [trust for trust in Trust.objects.filter(tenant_id=tenant_id, revoked_at__isnull=True)
                  if trust.user_id in wanted]
    return BatchHistory(tenant_id=tenant_id, successes=successes, failures=failures,
                        exports=exports, first_success=first, successes_before_window=before_window,
                        trusts=trusts, success_timelines=timelines)


def export_sample_from_row(row: Row, *, tenant_id: int) -> ExportSample:
    event_id, user_id, occurred_at, dataset, row_count = row
    return ExportSample(id=int(event_id), tenant_id=tenant_id,
                        user_id=user_id, occurred_at=occurred_at,
                        dataset=str(dataset), row_count=int(row_count or 0))


def users_existing(*, tenant_id: int, user_ids: Collection[int]) -> dict[int, User]:
    """Which of these people still exist (a finding about a deleted person keeps no FK), with
    their tenant, so what notifies about their alerts does not fetch them again."""
    if not user_ids:
        return {}
    return {user.pk: user for user in User.objects.filter(tenant_id=tenant_id, pk__in=list(user_ids))
            .select_related("tenant")}
