"""Synthetic sign-in history: realistic enough to judge the log pages, fast enough for 10M rows.

Design: what makes a log page slow or an alert rule noisy is the *shape* of the data, so that
is what we imitate. Tenants and, within a tenant, people are Zipf-distributed (a few big
companies and busy people, a long tail); each person has two or three clients (office desktop,
home, phone) whose User-Agents come Zipf-like from ``../shared/data/user_agents.txt`` (each
distinct string parsed once with ``parse_user_agent``) and whose IPs come from public ranges of
the tenant's home country (each distinct IP's country from ``ip_country``, as capture would
store it); a few events per hundred come from abroad. Times follow a working-day curve in the
tenant's time zone, quieter at weekends. Outcomes mix as a mail provider sees them (~88%
success). A few anomalies are planted in the largest tenants: a burst of failures on one
account, a password spray from one IP across accounts, a sign-in from a new country.

Rows are generated one tenant-local day at a time, sorted by time (so ids grow with time and
each day's rows land together, as in production), and written with COPY on PostgreSQL (text
format, values escaped once per distinct string) or bulk_create on SQLite: never save(), which
the append-only guard would not mind, but which is 100 times slower.
"""

from __future__ import annotations

import functools
import ipaddress
import random
import time as clock
import zoneinfo
from bisect import bisect
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from itertools import accumulate
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.db import connection, transaction
from django.utils import timezone

from accounts.models import User
from activity.capture import ip_country, parse_user_agent
from activity.management.loading import (
    CLIENT_COLUMNS,
    Client,
    CopyClock,
    Row,
    copy_client,
    copy_head,
    copy_kind,
    copy_line,
    copy_load,
)
from activity.models import LoginEvent, MfaMethod, Outcome, Reason
from activity.partitions import partitions_ensure
from tenants.models import MailDomain, Tenant
from tenants.roles import Role

USER_AGENTS_FILE = Path(settings.BASE_DIR).parent / "shared" / "data" / "user_agents.txt"
UA_POOL_SIZE = 3000
TENANT_ZIPF_S = 1.0
PERSON_ZIPF_S = 0.8
UA_ZIPF_S = 1.1
FALLBACK_AGENTS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/126.0.0.0 Safari/537.36",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like "
    "Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
)

POPULAR_BROWSERS = frozenset({"Chrome", "Edge", "Firefox", "Safari", "Mobile Safari",
                              "Chrome Mobile", "Chrome Mobile iOS", "Samsung Internet",
                              "Opera", "Firefox Mobile", "Chrome Mobile WebView"})
# Public ranges by country (checked against ip_country; each generated IP is looked up anyway).
COUNTRY_RANGES: dict[str, tuple[str, ...]] = {
    "CN": ("223.5.0.0/16", "180.76.0.0/16", "36.110.0.0/16", "240e:300::/32"),
    "US": ("24.0.0.0/12", "12.0.0.0/12", "66.249.64.0/19", "2600:1700::/32"),
    "DE": ("85.214.0.0/15", "91.0.0.0/12", "217.0.0.0/13", "2003:e0::/32"),
    "GB": ("81.2.69.0/24", "86.128.0.0/12", "2a00:23c0::/32"),
    "JP": ("126.0.0.0/10", "60.32.0.0/12"),
    "FR": ("90.0.0.0/10", "2a01:e00::/32"),
    "BR": ("177.0.0.0/12", "186.192.0.0/12"),
    "IN": ("117.192.0.0/12", "49.32.0.0/12"),
    "AU": ("1.128.0.0/11", "101.160.0.0/11"),
    "SG": ("116.86.0.0/15",),
    "NL": ("145.100.0.0/16", "77.160.0.0/12"),
    "RU": ("95.24.0.0/13",),
    "NG": ("105.112.0.0/12",),
}
ZONES = (("Asia/Shanghai", "CN"), ("America/New_York", "US"), ("Europe/Berlin", "DE"),
         ("Europe/London", "GB"), ("Asia/Tokyo", "JP"), ("Europe/Paris", "FR"),
         ("America/Sao_Paulo", "BR"), ("Asia/Kolkata", "IN"), ("Australia/Sydney", "AU"),
         ("Asia/Singapore", "SG"), ("Europe/Amsterdam", "NL"), ("America/Los_Angeles", "US"))
ZONE_COUNTRY = dict(ZONES)
# Sign-ins per local hour: night trough, morning peak, lunch dip, afternoon, evening tail.
HOURLY = (1, 1, 1, 1, 1, 2, 4, 9, 16, 18, 16, 13, 10, 13, 15, 14, 12, 9, 6, 5, 4, 3, 2, 1)
FIRST = ("ana", "ben", "chen", "dana", "eli", "fatima", "george", "hana", "ivan", "jing",
         "karl", "lena", "mei", "nora", "omar", "priya", "quinn", "rosa", "sven", "tariq",
         "uma", "victor", "wei", "xia", "yusuf", "zoe")
LAST = ("li", "smith", "mueller", "wang", "garcia", "tanaka", "martin", "silva", "kumar",
        "brown", "zhang", "rossi", "novak", "kim", "dubois", "jensen", "ali", "lopez")


@dataclass(frozen=True, slots=True)
class Kind:
    outcome: str
    reason: str
    mfa: str = ""
    known: bool = True  # a person of the tenant (else an unknown address, user NULL)
    session: bool = False

    def __post_init__(self) -> None:
        # Plain str, not the TextChoices members: formatting an enum member into each COPY
        # line goes through Enum.__format__, 4x the cost of a str.
        for name in ("outcome", "reason", "mfa"):
            object.__setattr__(self, name, str(getattr(self, name)))


# (kind, weight): ~88% success; failures, challenges, sign-outs and a few policy denials.
KINDS: tuple[tuple[Kind, float], ...] = (
    (Kind(Outcome.SUCCESS, Reason.PASSWORD_OK, session=True), 74.0),
    (Kind(Outcome.SUCCESS, Reason.MFA_VERIFIED, MfaMethod.TOTP, session=True), 15.5),
    (Kind(Outcome.SUCCESS, Reason.MFA_VERIFIED, MfaMethod.BACKUP_CODE, session=True), 0.5),
    (Kind(Outcome.CHALLENGE, Reason.MFA_CHALLENGE), 2.5),
    (Kind(Outcome.SIGNOUT, Reason.SIGNED_OUT, session=True), 2.0),
    (Kind(Outcome.SIGNOUT, Reason.SESSION_IDLE_TIMEOUT, session=True), 0.8),
    (Kind(Outcome.FAILURE, Reason.BAD_CREDENTIALS), 4.5),
    (Kind(Outcome.FAILURE, Reason.UNKNOWN_ACCOUNT, known=False), 1.2),
    (Kind(Outcome.FAILURE, Reason.LOCKED_OUT), 0.4),
    (Kind(Outcome.FAILURE, Reason.MFA_FAILED), 0.3),
    (Kind(Outcome.DENIED, Reason.NETWORK_DENIED), 0.2),
    (Kind(Outcome.DENIED, Reason.HOURS_DENIED), 0.1),
)
CLIENT_FIELDS = CLIENT_COLUMNS


def _cum_zipf(n: int, s: float) -> list[float]:
    return list(accumulate(1.0 / (rank ** s) for rank in range(1, n + 1)))


def _shares(total: int, weights: Sequence[float]) -> list[int]:
    """``total`` split in proportion to ``weights`` (largest remainder): sums exactly."""
    scale = sum(weights)
    raw = [total * w / scale for w in weights]
    shares = [int(r) for r in raw]
    order = sorted(range(len(raw)), key=lambda i: raw[i] - shares[i], reverse=True)
    for i in order[: total - sum(shares)]:
        shares[i] += 1
    return shares


# --- clients: User-Agents and IPs --------------------------------------------------------------


class ClientPool:
    """Parsed User-Agents (Zipf by rank) and public IPs by country, each resolved once."""

    def __init__(self, rng: random.Random, *, ua_pool_size: int = UA_POOL_SIZE) -> None:
        self.rng = rng
        try:
            lines = USER_AGENTS_FILE.read_text(encoding="utf-8", errors="replace").splitlines()
        except OSError:
            lines = list(FALLBACK_AGENTS)
        lines = [line for line in lines if line.strip()]
        sample = rng.sample(lines, min(ua_pool_size, len(lines)))
        agents = [parse_user_agent(ua) for ua in sample]
        # Today's common browsers take the top ranks; old ones, oddities and bots the long tail.
        agents.sort(key=lambda a: 0 if a.browser_family in POPULAR_BROWSERS else
                    2 if a.device_type in ("bot", "other") or a.browser_family == "Other" else 1)
        self.agents = agents
        self.agent_weights = _cum_zipf(len(agents), UA_ZIPF_S)
        self.networks = {
            country: [ipaddress.ip_network(r) for r in ranges]
            for country, ranges in COUNTRY_RANGES.items()
        }
        self._countries: dict[str, str] = {}

    def agent(self, *, mobile: bool | None = None) -> tuple[str, str, str, str, str, str]:
        for _ in range(20):
            agent = self.rng.choices(self.agents, cum_weights=self.agent_weights)[0]
            if mobile is None or (agent.device_type in ("mobile", "tablet")) == mobile:
                break
        return (agent.user_agent, agent.browser_family, agent.browser_version, agent.os_family,
                agent.os_version, str(agent.device_type))

    def ip(self, country: str) -> tuple[str, str]:
        """A public address in ``country``'s ranges and the country ip_country gives it."""
        network = self.rng.choice(self.networks[country])
        address = str(network.network_address + self.rng.randrange(1, min(network.num_addresses, 1 << 24) - 1))
        if address not in self._countries:
            self._countries[address] = ip_country(address)
        return address, self._countries[address]

    def client(self, country: str, *, mobile: bool | None = None,
               agent: tuple[str, str, str, str, str, str] | None = None) -> Client:
        ip, resolved = self.ip(country)
        return (ip, resolved, *(agent or self.agent(mobile=mobile)))

    def foreign_country(self, home: str) -> str:
        return self.rng.choice([c for c in COUNTRY_RANGES if c != home])


# --- tenants and people ------------------------------------------------------------------------


@dataclass(slots=True)
class Person:
    user_id: int | None
    login: str
    clients: list[Client]
    client_weights: list[float]  # cumulative
    tenant_id: int
    # Computed once for the per-row draw and COPY line (see _day_rows): the total weight, the
    # last index, the line's head and each client's fields as COPY text.
    client_total: float = field(init=False)
    client_last: int = field(init=False)
    copy_head: str = field(init=False)
    copy_clients: list[str] = field(init=False)

    def __post_init__(self) -> None:
        self.client_total = self.client_weights[-1]
        self.client_last = len(self.client_weights) - 1
        self.copy_head = copy_head(self.tenant_id, self.user_id, self.login)
        self.copy_clients = [self.copy_head + copy_client(client) for client in self.clients]


@dataclass
class TenantPlan:
    tenant: Tenant
    domain: str
    country: str
    people: list[Person]
    person_weights: list[float]
    travel: list[Client] = field(default_factory=list)
    unknown_logins: list[str] = field(default_factory=list)
    # The same as COPY text: travel clients' fields, and unknown logins' heads.
    copy_travel: list[str] = field(init=False)
    copy_unknown: list[str] = field(init=False)

    def __post_init__(self) -> None:
        self.copy_travel = [copy_client(client) for client in self.travel]
        self.copy_unknown = [copy_head(self.tenant.pk, None, login) for login in self.unknown_logins]


def tenants_create(*, count: int, prefix: str) -> list[Tenant]:
    """``count`` tenants ``<prefix>-001``…, each with a mail domain; existing slugs are reused."""
    tenants = []
    for n in range(1, count + 1):
        slug = f"{prefix}-{n:03d}"
        zone = ZONES[(n - 1) % len(ZONES)][0]
        tenant, _ = Tenant.objects.get_or_create(
            slug=slug, defaults={"name": f"{prefix.title()} {n:03d}", "timezone": zone})
        MailDomain.objects.get_or_create(domain=f"{slug}.example", defaults={"tenant": tenant})
        tenants.append(tenant)
    return tenants


def _people_ensure(tenant: Tenant, domain: str, wanted: int, rng: random.Random,
                   password: str) -> list[tuple[int, str]]:
    existing = list(User.objects.filter(tenant=tenant, status=User.Status.ACTIVE)
                    .order_by("pk").values_list("pk", "email"))
    missing = wanted - len(existing)
    if missing > 0:
        start = User.objects.filter(tenant=tenant).count()
        new = []
        for n in range(start, start + missing):
            first, last = rng.choice(FIRST), rng.choice(LAST)
            role = Role.OWNER if n == 0 else Role.ADMIN if n < 3 else Role.AUDITOR if n < 5 else Role.MEMBER
            new.append(User(email=f"{first}.{last}.{n}@{domain}", display_name=f"{first.title()} {last.title()}",
                            tenant=tenant, role=role, status=User.Status.ACTIVE, password=password))
        User.objects.bulk_create(new, batch_size=2000)
        existing = list(User.objects.filter(tenant=tenant, status=User.Status.ACTIVE)
                        .order_by("pk").values_list("pk", "email"))
    rng.shuffle(existing)  # who is busiest is not who was created first
    return existing[:wanted] if wanted > 0 else existing


def _plan(tenant: Tenant, people: list[tuple[int, str]], pool: ClientPool,
          rng: random.Random) -> TenantPlan:
    domain = (MailDomain.objects.filter(tenant=tenant).values_list("domain", flat=True).first()
              or f"{tenant.slug}.example")
    country = ZONE_COUNTRY.get(tenant.timezone, "US")
    offices = [pool.ip(country) for _ in range(rng.randint(1, 4))]
    planned = []
    for user_id, email in people:
        desktop = pool.agent(mobile=False)
        office_ip, office_country = rng.choice(offices)
        clients: list[Client] = [(office_ip, office_country, *desktop),
                                 pool.client(country, agent=desktop)]
        weights = [6.0, 2.5]
        if rng.random() < 0.7:
            clients.append(pool.client(country, mobile=True))
            weights.append(1.5)
        planned.append(Person(user_id, email, clients, list(accumulate(weights)), tenant.pk))
    travel = [pool.client(pool.foreign_country(country)) for _ in range(12)]
    unknown = [f"{rng.choice(FIRST)}{rng.choice(('', '.', '_'))}{rng.choice(LAST)}@{domain}"
               for _ in range(40)] + [f"admin@{domain}", f"info@{domain}", f"test@{domain}"]
    return TenantPlan(tenant, domain, country, planned, _cum_zipf(len(planned), PERSON_ZIPF_S),
                      travel, unknown)


# --- events ------------------------------------------------------------------------------------

# Each kind as the tuple a row needs (unpacking one is cheaper than five attribute reads per row),
# with its outcome, reason and second factor as COPY text for known and unknown logins.
_KIND_ROWS = [(k.known, k.session, k.outcome, k.reason, k.mfa, copy_kind(k.outcome, k.reason, k.mfa),
               copy_kind(k.outcome, k.reason, "")) for k, _ in KINDS]
_KIND_WEIGHTS = list(accumulate(w for _, w in KINDS))
_HOUR_WEIGHTS = list(accumulate(HOURLY))
_DOMESTIC_SHARE = 0.97


@functools.cache
def _zone(name: str) -> zoneinfo.ZoneInfo:
    # ZoneInfo's own cache keeps 8 zones strongly and the rest weakly: with 12 zones in turn it
    # read a zone file from disk for most of the 17,000 midnights of a 100-tenant, 85-day load.
    return zoneinfo.ZoneInfo(name)


@functools.cache
def _local_midnight(day: date, zone: str) -> int:
    return int(datetime.combine(day, time.min, tzinfo=_zone(zone)).timestamp())


def _day_rows(plan: TenantPlan, count: int, midnight: int, rng: random.Random,
              copy_clock: CopyClock | None = None) -> list[Any]:
    """``count`` rows of ``plan``'s tenant on the local day from ``midnight``, in draw order.

    As Rows, or with ``copy_clock`` as (time, COPY line) Lines (see activity.management.loading):
    the same draws from the same random stream either way.
    """
    if count <= 0 or not plan.people:
        return []
    tenant_id = plan.tenant.pk
    people = rng.choices(plan.people, cum_weights=plan.person_weights, k=count)
    kinds = rng.choices(_KIND_ROWS, cum_weights=_KIND_WEIGHTS, k=count)
    # The hour's first second, drawn as the hour itself would be (same index, same stream).
    hours = rng.choices(range(midnight, midnight + 24 * 3600, 3600), cum_weights=_HOUR_WEIGHTS,
                        k=count)
    rows: list[Any] = []
    append = rows.append
    random_, randrange, getrandbits = rng.random, rng.randrange, rng.getrandbits
    domestic = _DOMESTIC_SHARE
    travel, unknown_logins = plan.travel, plan.unknown_logins
    copy_travel, copy_unknown = plan.copy_travel, plan.copy_unknown
    seconds, day_text = (copy_clock.seconds, copy_clock.day) if copy_clock else ((), None)
    day_number, day_prefix = -1, ""
    for person, (known, has_session, outcome, reason, mfa, kind_text, unknown_kind_text), hour in zip(
            people, kinds, hours, strict=True):
        if random_() < domestic:
            # rng.choices(person.clients, cum_weights=...)[0] spelt out: the same draw from the
            # same random stream, without a call's validation on every row (a third of the time).
            pick = bisect(person.client_weights, random_() * person.client_total, 0,
                          person.client_last)
            client = person.clients[pick]
            client_text = None
        else:
            pick = randrange(len(travel))
            client = travel[pick]
            client_text = copy_travel[pick]
        at = hour + int(random_() * 3600)  # randrange costs 5x more
        session = f"{getrandbits(32):08x}" if has_session else ""
        if day_text is None:
            if known:
                append((tenant_id, person.user_id, person.login, at, client, outcome, reason, mfa,
                        session))
            else:
                append((tenant_id, None, unknown_logins[randrange(len(unknown_logins))], at,
                        client, outcome, reason, "", ""))
            continue
        day, second = divmod(at, 86400)
        if day != day_number:
            day_number, day_prefix = day, day_text(day)
        if known:
            head = (person.copy_clients[pick] if client_text is None
                    else person.copy_head + client_text)
            append((at, f"{head}{kind_text}{day_prefix}{seconds[second]}\t{session}\n"))
        else:
            head = copy_unknown[randrange(len(unknown_logins))]
            if client_text is None:
                client_text = person.copy_clients[pick][len(person.copy_head):]
            append((at, f"{head}{client_text}{unknown_kind_text}{day_prefix}{seconds[second]}\t\n"))
    return rows


def _anomalies(plan: TenantPlan, midnight: int, pool: ClientPool, rng: random.Random) -> list[Row]:
    """A brute force on one account, a password spray from one IP, a sign-in from a new country."""
    tid = plan.tenant.pk
    rows: list[Row] = []
    victim = plan.people[0]
    attacker = pool.client(pool.foreign_country(plan.country))
    start = midnight + 2 * 3600 + rng.randrange(3600)
    for n in range(rng.randint(25, 60)):
        reason = Reason.BAD_CREDENTIALS if n < 10 else Reason.LOCKED_OUT
        rows.append((tid, victim.user_id, victim.login, start + n * rng.randint(2, 9), attacker,
                     Outcome.FAILURE, reason, "", ""))
    sprayer = pool.client(pool.foreign_country(plan.country))
    start = midnight + 4 * 3600 + rng.randrange(3600)
    targets = rng.sample(plan.people, min(len(plan.people), 40))
    for n, person in enumerate(targets):
        rows.append((tid, person.user_id, person.login, start + n * 20, sprayer,
                     Outcome.FAILURE, Reason.BAD_CREDENTIALS, "", ""))
    traveller = plan.people[-1]
    elsewhere = pool.client("NG" if plan.country != "NG" else "RU", agent=traveller.clients[0][2:])  # type: ignore[arg-type]
    rows.append((tid, traveller.user_id, traveller.login, midnight + 13 * 3600, elsewhere,
                 Outcome.SUCCESS, Reason.PASSWORD_OK, "", f"{rng.getrandbits(32):08x}"))
    return rows


# --- writing -----------------------------------------------------------------------------------


def _model_rows(rows: list[Row]) -> list[LoginEvent]:
    return [
        LoginEvent(tenant_id=tenant_id, user_id=user_id, attempted_login=login,
                   occurred_at=datetime.fromtimestamp(at, UTC), outcome=outcome, reason=reason,
                   mfa_method=mfa, session_ref=session,
                   **dict(zip(CLIENT_FIELDS, client, strict=True)))
        for tenant_id, user_id, login, at, client, outcome, reason, mfa, session in rows
    ]


@dataclass(frozen=True)
class GenerateResult:
    tenants: list[Tenant]
    people: int
    events: int
    seconds: float  # writing the events (generation included), after setup

    @property
    def rate(self) -> float:
        return self.events / self.seconds if self.seconds else float("inf")


def activity_generate(
    *,
    tenants: list[Tenant],
    people: int | None,
    events: int,
    days: int,
    seed: int = 0,
    anomalies: bool = True,
    end: date | None = None,
    progress: Callable[[int], None] | None = None,
) -> GenerateResult:
    """Add ``events`` synthetic sign-in events to ``tenants`` over the ``days`` days before ``end``.

    ``people`` is the total number of active people the events are spread over (Zipf across
    tenants, at least two each; missing people are created with an unusable password); None
    uses each tenant's existing active people. Tenants are Zipf-weighted in the given order.
    """
    if days < 1 or events < 0 or not tenants:
        raise ValueError("need at least one tenant, one day and a non-negative event count")
    rng = random.Random(seed)  # noqa: S311  # synthetic data, reproducible by seed
    # The last day is "yesterday" in the westernmost tenant's zone, so no row is in the future.
    end = end or min(timezone.localdate(timezone=zoneinfo.ZoneInfo(t.timezone)) for t in tenants)
    first_day = end - timedelta(days=days)
    # The days ahead and the DEFAULT partition; the loader creates each past day's partition
    # itself, after filling it (see activity.management.loading).
    partitions_ensure()
    pool = ClientPool(rng)
    tenant_weights = [1.0 / (rank ** TENANT_ZIPF_S) for rank in range(1, len(tenants) + 1)]
    wanted = [0] * len(tenants) if people is None else [max(2, n) for n in _shares(people, tenant_weights)]
    password = make_password(None)
    plans = []
    with transaction.atomic():
        for tenant, want in zip(tenants, wanted, strict=True):
            domain = (MailDomain.objects.filter(tenant=tenant).values_list("domain", flat=True).first()
                      or f"{tenant.slug}.example")
            plans.append(_plan(tenant, _people_ensure(tenant, domain, want, rng, password), pool, rng))
    plans_with_people = [p for p in plans if p.people]
    if not plans_with_people:
        raise ValueError("the tenants have no active people to sign in")
    day_list = [first_day + timedelta(days=n) for n in range(days)]
    anomaly_days = {plan.tenant.pk: rng.randrange(days) for plan in plans_with_people[:3]} if anomalies else {}
    started = clock.perf_counter()
    anomaly_rows = {
        (plan.tenant.pk, anomaly_days[plan.tenant.pk]): _anomalies(
            plan, _local_midnight(day_list[anomaly_days[plan.tenant.pk]], plan.tenant.timezone), pool, rng)
        for plan in plans_with_people if plan.tenant.pk in anomaly_days
    }
    regular = max(0, events - sum(len(r) for r in anomaly_rows.values()))
    if regular == 0:  # too few events asked for to plant anomalies: plain rows only
        anomaly_rows, regular = {}, events
    per_tenant = _shares(regular, [1.0 / (r ** TENANT_ZIPF_S) for r in range(1, len(plans_with_people) + 1)])
    day_weights = [0.35 if d.weekday() >= 5 else 1.0 for d in day_list]
    per_day = [_shares(n, day_weights) for n in per_tenant]

    # On PostgreSQL the rows are drawn straight as COPY lines (activity.management.loading).
    copy_clock = CopyClock() if connection.vendor == "postgresql" else None

    def batches() -> Iterator[tuple[list[Any], int]]:  # Rows, or Lines for COPY
        for d, day in enumerate(day_list):
            rows: list[Any] = []
            for plan, counts in zip(plans_with_people, per_day, strict=True):
                midnight = _local_midnight(day, plan.tenant.timezone)
                rows += _day_rows(plan, counts[d], midnight, rng, copy_clock)
                planted = anomaly_rows.get((plan.tenant.pk, d), [])
                rows += (planted if copy_clock is None
                         else [copy_line(row, copy_clock) for row in planted])
            later_from = min(_local_midnight(day + timedelta(days=1), plan.tenant.timezone)
                             for plan in plans_with_people)
            yield rows, later_from

    with transaction.atomic():
        if connection.vendor == "postgresql":
            written = copy_load(batches(), progress=progress)
        else:
            written = 0
            for rows, _later in batches():
                LoginEvent.objects.bulk_create(_model_rows(rows), batch_size=500)
                written += len(rows)
                if progress is not None:
                    progress(written)
    seconds = clock.perf_counter() - started
    return GenerateResult(tenants=[p.tenant for p in plans], people=sum(len(p.people) for p in plans),
                          events=written, seconds=seconds)
