"""Sign-in: our full POST /signin/ (every policy on, capture on) vs a bare LoginView + axes.

Both sides are full POST requests through Django's test ``Client``, in one process, against one
throwaway PostgreSQL 15 (started like tests/harness.py: a temporary cluster, fsync off, run as
the ``postgres`` user when we are root; deleted at the end) and the same data. Django is
configured for it through environment variables before ``django.setup()`` (``DEBUG=0``, no
``REDIS_URL`` so the cache is local memory, persistent connections); never a real database.

- **baseline** — ``django.contrib.auth.views.LoginView`` on its own URLconf
  (``bench.signin.baseline_urls``) with ``AxesStandaloneBackend`` + ``ModelBackend``, axes'
  own defaults (limit 5, cool-off 15 min, ``[["username", "ip_address"]]``, reset on success,
  no project callables), startproject's default middleware stack plus axes and Django's own
  database session engine: a plain person of a tenant without policies signs in.
- **ours** — ``POST /signin/`` through the full ``MIDDLEWARE`` and ``mailadmin.urls``, with a
  tenant that has every policy on: a network allowlist of 50 CIDRs in enforce mode (the client
  inside the last one), sign-in hours in enforce mode with a window covering now (tenant time
  zone Asia/Shanghai), the "classic" password profile (history 5, 90-day expiry; the person has
  5 earlier passwords on record), lockout 5 / 15 min, session limits, MFA "optional" with no
  device, so the attempt completes on the password. Capture is on (public ``REMOTE_ADDR``,
  Chrome on Windows with its client hints).

Every attempt starts without cookies (a new browser), must end signed in (302 to the view's
success URL, the session holding the person) and, for ours, must add exactly one
``LoginEvent``; checks run outside the timed region. Rounds are interleaved (baseline, ours,
baseline, ours…) after ``--warmup`` untimed rounds. Two phases, each with both passwords hashed
for it: a fast hasher (MD5, both sides) gives the *added* time per attempt (target ≤ 2 ms),
Argon2 (the production hasher) the ratio ours / baseline. SQL queries per attempt are counted
on extra untimed attempts (``CaptureQueriesContext``); ``--show-queries`` prints them.

Default sizes: ``--repeat`` 1,000 timed rounds with MD5, ``--argon2-repeat`` 120 with Argon2,
``--warmup`` 20 (under 2 minutes on a 2-vCPU Xeon, Argon2 costing ~165 ms a hash there, plus a
few seconds to start PostgreSQL and migrate); ``--quick``: 30, 6 and 3 (about 10 s).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import subprocess
import sys
import time
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

PROJECT_ROOT = Path(__file__).resolve().parents[2]

PASSWORD = "Correct-horse-battery-9"
CLIENT_IP = "81.2.69.160"  # public (GB); inside the allowlist's last entry
CIDR_COUNT = 50
CHROME_UA = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 "
             "(KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36")
HEADERS = {
    "REMOTE_ADDR": CLIENT_IP,
    "HTTP_USER_AGENT": CHROME_UA,
    "HTTP_SEC_CH_UA": '"Not/A)Brand";v="8", "Chromium";v="126", "Google Chrome";v="126"',
    "HTTP_SEC_CH_UA_MOBILE": "?0",
    "HTTP_SEC_CH_UA_PLATFORM": '"Windows"',
    "HTTP_ACCEPT": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
    "HTTP_ACCEPT_LANGUAGE": "en-GB,en;q=0.9",
}
FAST_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
TARGET_ADDED_MS = 2.0
# What `django-admin startproject` generates, plus axes: the stack any Django site starts from
# (CSRF checks are off in both test clients).
BASELINE_MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "axes.middleware.AxesMiddleware",
]
BASELINE_BACKENDS = ["axes.backends.AxesStandaloneBackend", "django.contrib.auth.backends.ModelBackend"]


# --- the throwaway PostgreSQL and Django -----------------------------------------------------------
def _django_already_set_up() -> bool:
    if "django" not in sys.modules:
        return False
    from django.apps import apps
    from django.conf import settings

    return bool(apps.ready or settings.configured)


def _postgres() -> contextlib.AbstractContextManager[tuple[str, str]]:
    from bench.common import throwaway_postgres

    return throwaway_postgres("mailadmin-bench-signin-")


def _configure_django(database_url: str) -> None:
    from bench.common import django_on_postgres

    django_on_postgres(database_url)


# --- data ------------------------------------------------------------------------------------------
@dataclass
class World:
    tenant: Any
    member: Any
    plain: Any
    people: int
    cidrs: list[str]


def allowlist_entries(count: int = CIDR_COUNT) -> list[tuple[str, str]]:
    """``count`` public networks in ascending order; the client's /16 comes last."""
    entries = [(f"{11 + 3 * i}.{(7 * i) % 256}.0.0/16", f"Office {i + 1}") for i in range(count - 1)]
    entries.append(("81.2.0.0/16", "Head office"))
    return entries


def _build_world(people: int) -> World:
    from django.contrib.auth.hashers import make_password

    from accounts.models import User
    from security.policies.hours.services import hours_policy_update
    from security.policies.lockout.services import lockout_policy_update
    from security.policies.mfa.services import mfa_policy_update
    from security.policies.network.services import network_policy_update
    from security.policies.password.services import password_policy_update, password_record_change
    from security.policies.sessions.services import session_policy_update
    from tenants.models import MailDomain, Tenant
    from tenants.roles import Role

    tenant = Tenant.objects.create(name="Northwind Traders", slug="northwind", timezone="Asia/Shanghai")
    MailDomain.objects.create(tenant=tenant, domain="northwind.example")
    owner = User.objects.create_user("owner@northwind.example", PASSWORD, tenant=tenant,
                                     role=Role.OWNER, display_name="Olivia Owner")
    member = User.objects.create_user("mia.member@northwind.example", PASSWORD, tenant=tenant,
                                      role=Role.MEMBER, display_name="Mia Member")
    shared_hash = make_password(PASSWORD)
    User.objects.bulk_create([
        User(email=f"person{i}@northwind.example", tenant=tenant, role=Role.MEMBER,
             display_name=f"Person {i}", password=shared_hash)
        for i in range(max(0, people - 2))
    ])

    entries = allowlist_entries()
    network_policy_update(tenant=tenant, actor=owner, entries=entries, mode="enforce",
                          scope="everyone", confirm_self_lockout=False, actor_ip=CLIENT_IP)
    # Three intervals a day that together cover the whole week: "now" is always inside.
    schedule = [{"day": d, "start": s, "end": e} for d in range(7)
                for s, e in (("00:00", "08:00"), ("08:00", "18:00"), ("18:00", "24:00"))]
    hours_policy_update(tenant=tenant, actor=owner, schedule=schedule, mode="enforce",
                        scope="everyone", confirm_self_lockout=False)
    password_policy_update(tenant=tenant, actor=owner, profile="classic", on_noncompliant="change_now")
    lockout_policy_update(tenant=tenant, actor=owner, failure_limit=5, cooloff_minutes=15)
    session_policy_update(tenant=tenant, actor=owner, idle_timeout_minutes=60,
                          absolute_lifetime_hours=12)
    mfa_policy_update(tenant=tenant, actor=owner, requirement="optional", grace_days=0)
    for i in range(5):  # a password history to keep (not read at sign-in, but realistic)
        password_record_change(user=member, new_hash=make_password(f"Earlier-password-{i}!"))
    password_record_change(user=member, new_hash=member.password)

    other = Tenant.objects.create(name="Baseline Ltd", slug="baseline", timezone="UTC")
    MailDomain.objects.create(tenant=other, domain="baseline.example")
    plain = User.objects.create_user("plain@baseline.example", PASSWORD, tenant=other,
                                     role=Role.MEMBER, display_name="Pat Plain")
    return World(tenant=tenant, member=member, plain=plain, people=people,
                 cidrs=[c for c, _label in entries])


def _set_passwords(world: World) -> str:
    """Hash both people's password with the current first hasher; returns its algorithm."""
    from django.contrib.auth.hashers import get_hasher, make_password

    from accounts.models import User

    hashed = make_password(PASSWORD)  # one hash each would do too: same cost to verify
    User.objects.filter(pk__in=[world.member.pk, world.plain.pk]).update(password=hashed)
    return str(get_hasher().algorithm)


# --- one attempt on each side ---------------------------------------------------------------------
class Failure(AssertionError):
    pass


def _warm_urls(*names_and_paths: tuple[str, str]) -> None:
    """Toggling ROOT_URLCONF clears Django's URL caches: rebuild them outside the timed region."""
    from django.urls import resolve, reverse

    for name, path in names_and_paths:
        reverse(name)
        resolve(path)


@dataclass
class Sides:
    world: World
    baseline_client: Any
    ours_client: Any
    baseline_settings: Any
    ours_path: str
    ours_done: str
    events: int = 0
    checked: dict[str, int] = field(default_factory=lambda: {"baseline": 0, "ours": 0})

    def baseline(self, timed: Callable[[Callable[[], Any]], Any]) -> Any:
        from bench.signin.baseline_urls import BASELINE_DONE, BASELINE_PATH

        self.baseline_client.cookies.clear()
        with self.baseline_settings:
            _warm_urls(("login", BASELINE_PATH))
            response = timed(lambda: self.baseline_client.post(
                BASELINE_PATH, {"username": self.world.plain.email, "password": PASSWORD}, **HEADERS))
        _warm_urls(("home", self.ours_path), ("signin", self.ours_path))
        self._check_signed_in("baseline", response, BASELINE_DONE, self.world.plain)
        return response

    def ours(self, timed: Callable[[Callable[[], Any]], Any]) -> Any:
        from activity.models import LoginEvent

        self.ours_client.cookies.clear()
        response = timed(lambda: self.ours_client.post(
            self.ours_path, {"email": self.world.member.email, "password": PASSWORD}, **HEADERS))
        self._check_signed_in("ours", response, self.ours_done, self.world.member)
        self.events += 1
        count = LoginEvent.objects.count()
        if count != self.events:
            raise Failure(f"ours: {count - self.events + 1} LoginEvents for one attempt, expected 1")
        return response

    def _check_signed_in(self, side: str, response: Any, done: str, person: Any) -> None:
        from django.contrib.auth import SESSION_KEY

        if response.status_code != 302 or response["Location"] != done:
            raise Failure(f"{side}: expected a 302 to {done}, got {response.status_code} "
                          f"{response.get('Location', '')!r}: {response.content[:300]!r}")
        session = response.wsgi_request.session
        if session.get(SESSION_KEY) != str(person.pk) or not session.session_key:
            raise Failure(f"{side}: the response's session does not hold {person.email}")
        cookie = self.baseline_client if side == "baseline" else self.ours_client
        if cookie.cookies.get("sessionid") is None or cookie.cookies["sessionid"].value != session.session_key:
            raise Failure(f"{side}: no session cookie for the new session")
        self.checked[side] += 1


def _timer(samples: list[int]) -> Callable[[Callable[[], Any]], Any]:
    def timed(fn: Callable[[], Any]) -> Any:
        start = time.perf_counter_ns()
        result = fn()
        samples.append(time.perf_counter_ns() - start)
        return result
    return timed


def _untimed(fn: Callable[[], Any]) -> Any:
    return fn()


def _verify_once(sides: Sides) -> None:
    """Same answer first: both sign in; the session row exists; ours records the right event."""
    from django.contrib.auth import SESSION_KEY
    from django.contrib.sessions.models import Session

    from activity.models import LoginEvent, Outcome, Reason

    for side, person in (("baseline", sides.world.plain), ("ours", sides.world.member)):
        response = getattr(sides, side)(_untimed)
        key = response.wsgi_request.session.session_key
        stored = Session.objects.get(session_key=key).get_decoded()
        if stored.get(SESSION_KEY) != str(person.pk):
            raise Failure(f"{side}: the stored session does not hold {person.email}")
    event = LoginEvent.objects.order_by("-id").first()
    expected = (Outcome.SUCCESS, Reason.PASSWORD_OK, sides.world.member.pk, CLIENT_IP)
    got = (event.outcome, event.reason, event.user_id, event.ip) if event else None
    if got != expected:
        raise Failure(f"ours: LoginEvent {got} != {expected}")
    if not (event.browser_family == "Chrome" and event.os_family == "Windows"
            and event.device_type == "desktop"):
        raise Failure(f"ours: capture {event.browser_family}/{event.os_family}/{event.device_type}")


def _count_queries(sides: Sides, attempts: int) -> tuple[dict[str, list[int]], dict[str, list[str]]]:
    """SQL statements of whole requests (the checks after each request are not counted)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    counts: dict[str, list[int]] = {"baseline": [], "ours": []}
    sql: dict[str, list[str]] = {}
    for _ in range(attempts):
        for side in ("baseline", "ours"):
            def counted(fn: Callable[[], Any], side: str = side) -> Any:
                with CaptureQueriesContext(connection) as captured:
                    response = fn()
                sql[side] = [q["sql"] for q in captured.captured_queries]
                counts[side].append(len(sql[side]))
                return response

            getattr(sides, side)(counted)
    return counts, sql


@dataclass
class Phase:
    name: str
    algorithm: str
    base: list[int]
    ours: list[int]


def _measure(sides: Sides, *, name: str, world: World, rounds: int, warmup: int) -> Phase:
    algorithm = _set_passwords(world)
    for _ in range(warmup):
        sides.baseline(_untimed)
        sides.ours(_untimed)
    base: list[int] = []
    ours: list[int] = []
    for _ in range(rounds):
        sides.baseline(_timer(base))
        sides.ours(_timer(ours))
    return Phase(name, algorithm, base, ours)


# --- report ----------------------------------------------------------------------------------------
def _ms(ns: float) -> str:
    return f"{ns / 1e6:.2f} ms"


def _report(fast: Phase, slow: Phase, counts: dict[str, list[int]], extra: dict[str, str]) -> bool:
    from bench import common

    results = [
        common.Comparison(f"sign-in, {p.algorithm}", common.Stats(tuple(p.base)),
                          common.Stats(tuple(p.ours)), note="full POST, successful")
        for p in (fast, slow)
    ]
    added_median = common.median(fast.ours) - common.median(fast.base)
    added_p95 = common.p95(fast.ours) - common.p95(fast.base)
    paired = [o - b for b, o in zip(fast.base, fast.ours, strict=True)]
    met = added_median <= TARGET_ADDED_MS * 1e6
    ratio = common.median(slow.ours) / common.median(slow.base)

    print("## bench signin\n")
    print(common.machine_report(extra))
    print()
    print(common.comparison_table(results))
    print()
    print(common.markdown_table(
        ["headline", "value", "target"],
        [
            [f"added per attempt, {fast.algorithm}: ours - baseline, median", _ms(added_median),
             f"≤ {TARGET_ADDED_MS:g} ms " + ("met" if met else "MISSED")],
            [f"added per attempt, {fast.algorithm}: ours - baseline, p95", _ms(added_p95), ""],
            [f"added per attempt, {fast.algorithm}: paired rounds, median of differences",
             _ms(common.median(paired)), ""],
            [f"ratio ours / baseline, {slow.algorithm} (medians)", f"{ratio:.3f}x", ""],
            [f"added per attempt, {slow.algorithm}: ours - baseline, median",
             _ms(common.median(slow.ours) - common.median(slow.base)), ""],
        ],
    ))
    print()
    print(common.markdown_table(
        ["SQL queries per attempt", "baseline", "ours", "added"],
        [["successful sign-in (min-max over attempts)",
          _span(counts["baseline"]), _span(counts["ours"]),
          f"{min(counts['ours']) - min(counts['baseline'])}"]],
    ))
    return met


def _span(values: list[int]) -> str:
    low, high = min(values), max(values)
    return f"{low}" if low == high else f"{low}-{high}"


# --- entry point -----------------------------------------------------------------------------------
def run(argv: list[str]) -> int:
    from bench import common

    parser = common.standard_arguments(argparse.ArgumentParser(
        prog="python -m bench signin", description=(__doc__ or "").splitlines()[0]), repeat=1000)
    parser.set_defaults(warmup=20)
    parser.add_argument("--argon2-repeat", type=int, default=120,
                        help="timed rounds with Argon2 (default 120)")
    parser.add_argument("--people", type=int, default=200,
                        help="people in the policy tenant (default 200)")
    parser.add_argument("--count-attempts", type=int, default=3,
                        help="untimed attempts per side whose SQL queries are counted (default 3)")
    parser.add_argument("--show-queries", action="store_true",
                        help="print the SQL of one attempt of each side")
    parser.add_argument("--strict", action="store_true",
                        help="exit 1 when the added time misses the target")
    args = parser.parse_args(argv)
    rounds, argon2_rounds, warmup = args.repeat, args.argon2_repeat, args.warmup
    if args.quick:
        rounds, argon2_rounds, warmup = 30, 6, 3

    if _django_already_set_up():
        # ``python -m bench --all`` ran a benchmark that set Django up for something else first:
        # this one needs its own database settings, so it runs in a fresh interpreter.
        return subprocess.run([sys.executable, "-m", "bench", "signin", *argv], cwd=PROJECT_ROOT,
                              check=False).returncode

    started = time.perf_counter()
    with _postgres() as (url, pg_version):
        _configure_django(url)
        setup_seconds = time.perf_counter() - started
        return _run_measurements(args, rounds=rounds, argon2_rounds=argon2_rounds, warmup=warmup,
                                 extra={"postgresql": pg_version,
                                        "setup (start PostgreSQL, migrate)": f"{setup_seconds:.1f} s"})


def _run_measurements(args: argparse.Namespace, *, rounds: int, argon2_rounds: int, warmup: int,
                      extra: dict[str, str]) -> int:
    from axes.models import AccessAttempt
    from django.conf import settings
    from django.test import Client, override_settings
    from django.urls import reverse

    from bench.signin.baseline_urls import BASELINE_DONE  # noqa: F401  # importable before use
    from mailadmin.startup import worker_warm

    load_before = os.getloadavg()[0]
    world = _build_world(args.people)
    worker_warm()  # as every web worker starts (mailadmin/wsgi.py); both sides share it
    baseline_settings = override_settings(
        ROOT_URLCONF="bench.signin.baseline_urls",
        MIDDLEWARE=BASELINE_MIDDLEWARE,
        AUTHENTICATION_BACKENDS=BASELINE_BACKENDS,
        # axes as installed, with the same lockout parameters as ours but none of our callables.
        AXES_FAILURE_LIMIT=5,
        AXES_COOLOFF_TIME=timedelta(minutes=15),
        AXES_USERNAME_FORM_FIELD="username",
        AXES_USERNAME_CALLABLE=None,
        AXES_CLIENT_IP_CALLABLE=None,
        AXES_LOCKOUT_CALLABLE=None,
        # Django's own database sessions (ours is security.sessions.store, part of what we add).
        SESSION_ENGINE="django.contrib.sessions.backends.db",
    )
    sides = Sides(world=world, baseline_client=Client(enforce_csrf_checks=False),
                  ours_client=Client(enforce_csrf_checks=False), baseline_settings=baseline_settings,
                  ours_path=reverse("signin"), ours_done=reverse("home"))

    with ExitStack() as stack:
        stack.enter_context(override_settings(PASSWORD_HASHERS=FAST_HASHERS))
        _set_passwords(world)
        _verify_once(sides)  # the baseline client loads its middleware inside its settings here
        counts, sql = _count_queries(sides, args.count_attempts)
        fast = _measure(sides, name="fast", world=world, rounds=rounds, warmup=warmup)
    slow = _measure(sides, name="argon2", world=world, rounds=argon2_rounds,
                    warmup=max(1, min(warmup, 3)))
    if AccessAttempt.objects.exists():
        raise Failure("axes recorded a failed attempt: some sign-in did not succeed")

    extra |= {
        "baseline": "LoginView + AxesStandaloneBackend + ModelBackend; startproject's default middleware + axes",
        "ours": (f"POST /signin/, full MIDDLEWARE ({len(settings.MIDDLEWARE)}), all policies enforced, "
                 f"{len(world.cidrs)} CIDRs, capture on"),
        "people in the policy tenant": f"{world.people:,}",
        "rounds (timed / warm-up)": (f"{rounds} / {warmup} {fast.algorithm}, "
                                     f"{argon2_rounds} / {max(1, min(warmup, 3))} {slow.algorithm}"),
        "attempts checked": (f"{sides.checked['baseline']:,} baseline, {sides.checked['ours']:,} ours "
                             f"({sides.events:,} LoginEvents, one each)"),
        "hashers (fast / production)": f"{fast.algorithm} / {slow.algorithm}",
        "argon2-cffi / django-axes": " / ".join(
            _version(p) for p in ("argon2-cffi", "django-axes")),
        # Other processes on the machine widen the p95s more than the interleaved medians.
        "load average, 1 min (before / after)": f"{load_before:.2f} / {os.getloadavg()[0]:.2f}",
    }
    met = _report(fast, slow, counts, extra)
    if args.show_queries:
        for side in ("baseline", "ours"):
            print(f"\n### SQL of one {side} attempt ({len(sql[side])})\n")
            for i, query in enumerate(sql[side], 1):
                print(f"{i:2d}. {query[:400]}")
    return 1 if args.strict and not met else 0


def _version(package: str) -> str:
    from bench import common

    return common._version(package)
