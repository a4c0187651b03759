"""Log page: the sign-in log (keyset pages) vs the Django admin changelist, pages 1, 100 and 10,000.

Data: ``--events`` (default 10,000,000) sign-in events across ``--tenants`` (default 100)
Zipf-sized tenants with ``--people`` (default 50,000) people over ``--days`` (default 85, inside
the log page's 90-day visible window, so both sides list the same rows), loaded with
``generate_activity`` (COPY, daily partitions) into a throwaway PostgreSQL 15 (started like
tests/harness.py: a temporary cluster, fsync off, run as ``postgres`` when we are root; deleted
at the end). Django runs with ``DEBUG=0``, a local-memory cache and one persistent connection.

Both sides are full GET requests through Django's test ``Client`` on the largest tenant with the
same two filters, outcome = success and device = desktop:

- **baseline** — the operators' admin changelist (activity/admin.py, ``list_per_page`` 50,
  ``show_full_result_count`` off), ``/ops/activity/loginevent/?outcome__exact=success&
  device_type__exact=desktop&tenant__id__exact=T&p=N`` as a superuser: OFFSET pagination and a
  COUNT(*) of the filtered rows on every page.
- **ours** — ``/logs/signins/?outcome=success&device=desktop&cursor=…`` as the tenant's auditor
  (50 rows a page): page 100 is reached by following the "older" links from page 1; page 10,000
  by a cursor computed from a direct SQL keyset seek to its boundary row (what following 9,999
  links would give, without 9,999 requests), encoded with activity.keyset.cursor_encode.

Same answer first: the row ids of each measured page must match between the two sides. When
fewer matching rows exist than page 10,000 needs (``--quick``), the deepest full page is used
and the table says so. Targets: ours p95 ≤ 50 ms at every depth; baseline / ours ≥ 100x at page
10,000.

Default run: about 15 minutes on a 2-vCPU Xeon: ~2.5 minutes to load 10M rows, then
``--repeat`` (default 15) interleaved requests per page and side, the admin's page 10,000 taking
~10 s each. ``--quick``: 200,000 events, 20 tenants, 5 repeats (under a minute; the deepest page
is then the last full one). ``--show-queries`` prints each side's SQL with times, once per page.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
from dataclasses import dataclass
from typing import Any

PASSWORD = "Correct-horse-battery-9"
FILTERS = {"outcome": "success", "device": "desktop"}
ADMIN_FILTERS = {"outcome__exact": "success", "device_type__exact": "desktop"}
PAGE_SIZE = 50
PAGES = (1, 100, 10_000)
TARGET_P95_MS = 50.0
TARGET_RATIO = 100.0
HEADERS = {"REMOTE_ADDR": "81.2.69.160",
           "HTTP_USER_AGENT": "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like "
                              "Gecko) Chrome/126.0.0.0 Safari/537.36"}


# --- the throwaway PostgreSQL and Django -----------------------------------------------------------
def _postgres() -> contextlib.AbstractContextManager[tuple[str, str]]:
    from bench.common import throwaway_postgres

    return throwaway_postgres("mailadmin-bench-logpage-")


def _configure_django(database_url: str) -> None:
    import os

    from bench.common import django_on_postgres

    # A web worker beside a Celery worker: the auditor's one sign-in must not run the alert
    # detector over the tenant's millions of freshly loaded rows (minutes, before any timing).
    os.environ["ALERTS_DETECT_EAGER"] = "0"
    django_on_postgres(database_url)


# --- data ------------------------------------------------------------------------------------------
@dataclass
class World:
    tenant: Any
    auditor: Any
    operator: Any
    tenant_rows: int
    matching: int
    load_rate: float
    load_seconds: float
    partitions: int


def _load(*, tenants: int, people: int, events: int, days: int, seed: int) -> World:
    from django.contrib.auth.hashers import make_password
    from django.db import connection

    from accounts.models import User
    from activity.management.synthetic import activity_generate, tenants_create
    from activity.models import LoginEvent
    from activity.partitions import partitions_list
    from security.policies.password.services import password_record_change
    from tenants.roles import Role

    print(f"Loading {events:,} events for {tenants} tenants and {people:,} people over {days} days…",
          file=sys.stderr, flush=True)
    result = activity_generate(tenants=tenants_create(count=tenants, prefix="bench"), people=people,
                               events=events, days=days, seed=seed)
    with connection.cursor() as cursor:
        # As after any bulk load: statistics, hint bits and visibility maps now, so autovacuum
        # does not start on 85 fresh partitions in the middle of the timed requests.
        cursor.execute("VACUUM (ANALYZE) activity_loginevent")
    largest = result.tenants[0]  # Zipf rank 1
    hashed = make_password(PASSWORD)  # the production hasher: signing in happens once
    auditor = User.objects.create(email=f"bench.auditor@{largest.slug}.example", tenant=largest,
                                  role=Role.AUDITOR, display_name="Bench Auditor", password=hashed)
    password_record_change(user=auditor, new_hash=hashed)  # as if set through the console
    operator = User.objects.create(email="operator@platform.example", tenant=None, is_staff=True,
                                   is_superuser=True, password=hashed)
    tenant_rows = LoginEvent.objects.filter(tenant=largest).count()
    matching = LoginEvent.objects.filter(tenant=largest, outcome="success",
                                         device_type="desktop").count()
    return World(tenant=largest, auditor=auditor, operator=operator, tenant_rows=tenant_rows,
                 matching=matching, load_rate=result.rate, load_seconds=result.seconds,
                 partitions=len(partitions_list(table="activity_loginevent")))


# --- the two sides ---------------------------------------------------------------------------------
class Failure(AssertionError):
    pass


def _ours_client(world: World) -> Any:
    from django.test import Client

    client = Client(**HEADERS)
    response = client.post("/signin/", {"email": world.auditor.email, "password": PASSWORD})
    if response.status_code != 302:
        raise Failure(f"the auditor could not sign in: {response.status_code}")
    return client


def _admin_client(world: World) -> Any:
    from django.test import Client

    client = Client(**HEADERS)
    client.force_login(world.operator)  # operators use the admin; the console's sign-in is for tenants
    return client


def _cursor_at_depth(world: World, page: int) -> str | None:
    """The "older" cursor page ``page - 1`` would link to, by one keyset seek in SQL."""
    from activity.keyset import cursor_encode
    from activity.models import LoginEvent

    if page == 1:
        return None
    boundary = (LoginEvent.objects.filter(tenant=world.tenant, outcome="success",
                                          device_type="desktop")
                .order_by("-occurred_at", "-id").values_list("occurred_at", "id")
                [(page - 1) * PAGE_SIZE - 1])
    return cursor_encode(LoginEvent, at=boundary[0], pk=boundary[1], direction="older")


def _ours_url(cursor: str | None) -> str:
    from urllib.parse import urlencode

    return "/logs/signins/?" + urlencode({**FILTERS, **({"cursor": cursor} if cursor else {})})


def _admin_url(world: World, page: int) -> str:
    from urllib.parse import urlencode

    return "/ops/activity/loginevent/?" + urlencode(
        {**ADMIN_FILTERS, "tenant__id__exact": world.tenant.pk, "p": page})


def _get(client: Any, url: str) -> Any:
    response = client.get(url)
    if response.status_code != 200:
        raise Failure(f"GET {url[:120]} → {response.status_code} {response.get('Location', '')}")
    return response


def _decoded(cursor: str | None) -> Any:
    from activity.keyset import cursor_decode
    from activity.models import LoginEvent

    return cursor_decode(LoginEvent, cursor) if cursor else None


def _verify(world: World, ours: Any, admin: Any, pages: list[int]) -> dict[int, str | None]:
    """Same answer first: each page's row ids agree; page 100 also by following links."""
    from django.test.utils import setup_test_environment, teardown_test_environment

    setup_test_environment()  # response.context for the checks only; not while timing
    try:
        cursors: dict[int, str | None] = {}
        cursor: str | None = None
        for number in range(1, min(max(p for p in pages if p <= 100), 100) + 1):
            if number in pages:
                cursors[number] = cursor
            response = _get(ours, _ours_url(cursor))
            cursor = response.context["page"].next_cursor
        for number in pages:
            seek = _cursor_at_depth(world, number)
            # Compared decoded: the signature carries a timestamp, so the strings differ.
            if number in cursors and _decoded(cursors[number]) != _decoded(seek):
                raise Failure(f"page {number}: following links gives "
                              f"{_decoded(cursors[number])}, the SQL seek {_decoded(seek)}")
            cursors[number] = seek
            ours_ids = [row.pk for row in _get(ours, _ours_url(seek)).context["rows"]]
            admin_ids = [row.pk for row in
                         _get(admin, _admin_url(world, number)).context["cl"].result_list]
            if ours_ids != admin_ids or len(ours_ids) != PAGE_SIZE:
                raise Failure(f"page {number}: ours {ours_ids[:3]}… ≠ admin {admin_ids[:3]}…")
        return cursors
    finally:
        teardown_test_environment()


def _show_queries(world: World, ours: Any, admin: Any, pages: list[int],
                  cursors: dict[int, str | None]) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for number in pages:
        for side, client, url in (("ours", ours, _ours_url(cursors[number])),
                                  ("baseline", admin, _admin_url(world, number))):
            with CaptureQueriesContext(connection) as captured:
                _get(client, url)
            print(f"### {side}, page {number:,}: {len(captured)} queries", file=sys.stderr)
            for query in captured.captured_queries:
                print(f"  {float(query['time']) * 1000:7.1f} ms  {query['sql'][:220]}", file=sys.stderr)


# --- run -------------------------------------------------------------------------------------------
def run(argv: list[str]) -> int:
    from bench import common

    parser = common.standard_arguments(argparse.ArgumentParser(prog="python -m bench log_page"),
                                       repeat=15)
    parser.add_argument("--events", type=int, default=10_000_000, help="default 10,000,000")
    parser.add_argument("--tenants", type=int, default=100, help="default 100")
    parser.add_argument("--people", type=int, default=50_000, help="default 50,000")
    parser.add_argument("--days", type=int, default=85, help="default 85 (inside the 90 visible)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--show-queries", action="store_true",
                        help="print each side's SQL (with times) for one request per page")
    args = parser.parse_args(argv)
    if args.quick:
        args.events, args.tenants, args.people = min(args.events, 200_000), 20, 5_000
        args.repeat = min(args.repeat, 5)
    if "django" in sys.modules:
        print("bench log_page configures Django itself: run it in a fresh process.", file=sys.stderr)
        return 2

    with _postgres() as (url, pg_version):
        _configure_django(url)
        world = _load(tenants=args.tenants, people=args.people, events=args.events,
                      days=args.days, seed=args.seed)
        # The harness's own modules (the test client and the unittest, mock, XML and HTTP
        # modules it pulls in) load first, so that worker_warm freezes them: a web worker has
        # none of them (3,300 of the 18,800 objects a full collection walked after the checks).
        import django.test
        import django.test.utils  # noqa: F401

        from mailadmin.startup import worker_warm

        worker_warm()  # as every web worker starts (mailadmin/wsgi.py); both sides share it
        deepest = world.matching // PAGE_SIZE
        pages = sorted({min(p, deepest) for p in PAGES})
        ours, admin = _ours_client(world), _admin_client(world)
        cursors = _verify(world, ours, admin, pages)
        if args.show_queries:
            _show_queries(world, ours, admin, pages, cursors)
        results = []
        for number in pages:
            ours_url, admin_url = _ours_url(cursors[number]), _admin_url(world, number)
            results.append(common.compare(
                f"page {number:,}", lambda u=admin_url: _get(admin, u),
                lambda u=ours_url: _get(ours, u), repeat=args.repeat, warmup=args.warmup,
                note="50 rows"))
        extra = {
            "postgresql": pg_version,
            "events": f"{args.events:,} over {args.days} days, {args.tenants} tenants, "
                      f"{args.people:,} people; {world.partitions} partitions",
            "largest tenant": f"{world.tenant_rows:,} events; {world.matching:,} match "
                              f"outcome=success & device=desktop ({deepest:,} pages of 50)",
            "load (generate_activity)": f"{world.load_rate:,.0f} rows/s ({world.load_seconds:.0f} s)",
        }
    print("## bench log_page\n")
    print(common.machine_report(extra))
    print()
    print(common.comparison_table(results))
    print()
    deep = results[-1]
    worst_p95 = max(r.ours.p95_ns for r in results) / 1e6
    rows = [
        ["ours p95, worst page", f"{worst_p95:.1f} ms",
         f"≤ {TARGET_P95_MS:g} ms " + ("met" if worst_p95 <= TARGET_P95_MS else "MISSED")],
        [f"baseline / ours at {deep.name}", common.format_ratio(deep.ratio),
         f"≥ {TARGET_RATIO:g}x " + ("met" if deep.ratio >= TARGET_RATIO else "MISSED")
         + ("" if deepest >= PAGES[-1] else f" (only {deepest:,} pages at this size)")],
    ]
    print(common.markdown_table(["headline", "value", "target"], rows))
    return 0
