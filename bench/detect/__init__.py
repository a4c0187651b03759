"""Alert detection: our batch detector vs a naive per-event one, and sign-in-to-alert latency.

Data: ``--events`` (default 1,000,000) synthetic sign-in events of ``--people`` (default
200,000) people in ``--tenants`` (default 20) Zipf-sized tenants over ``--days`` (default 30),
with the generator's anomalies (foreign countries, failure bursts), loaded with
``activity.management.synthetic.activity_generate`` (COPY, daily partitions) into a throwaway
PostgreSQL 15 (tests/harness.py's way, fsync off). Every rule of ``alerts.rules.RULES`` is on,
with its defaults, and every tenant has one webhook endpoint subscribed to the alert events, so
every alert writes its delivery row (the outbox is not delivered here: a worker's beat does it).

- **ours** — ``alerts.detect.detect_all`` over the whole record, end to end: read each batch
  (``--batch-size``, default 2,000), fetch its history in a constant number of queries, run every
  rule, write the alerts, evidence and timeline, notify (webhook rows, "Was this you?" and admin
  e-mails for recent alerts), advance the cursor, commit. Events/s is events / wall time of the
  whole run, one worker process. ``--profile N`` runs it under cProfile and prints the top N.
- **naive** — the same rules, each event on its own: every question a rule asks its history is
  its own ORM query (the person's sign-ins in the window — authentik's GeoIP check asks for the
  last 5 —, their first success and count, the login's and the network's failures, the trusts,
  the rule settings), then that event's findings written. At a few events a second it would take
  a day over the whole record, so it is timed on a contiguous ``--naive-sample`` (default 1,000
  events) of the largest tenant inside a transaction that is rolled back, and its per-event rate
  is extrapolated to the whole record (as bench/sweep does), labelled as such.
- **same findings first** — on the naive sample, both detectors' findings (rule, key, events,
  evidence) must be identical, or the benchmark fails before any timing is shown.
- **latency** — ``--latency-seconds`` (default 60) of a steady ``--rate`` (default 50) sign-ins
  per second of settled people, committed by one thread through
  ``activity.services.login_event_record`` while another runs the beat-driven loop
  (``detect_all`` every ``ALERTS_DETECT_INTERVAL_SECONDS``, 2 s), once per mix of
  ``--alert-every`` (default ``10,1``: one sign-in in ten from a new country, then every one, so
  each opens an alert with its "Was this you?" e-mail and report link). Latency is from the
  sign-in's commit to the commit of the batch that wrote its alert; p50 and p95.

Targets: ours ≥ 20,000 events/s per worker process end to end, ≥ 20x the naive detector;
latency p95 ≤ 10 s. ``--quick``: 50,000 events of 10,000 people, a 200-event naive sample and
15 s of each latency mix (a few minutes). ``--sides ours`` skips the naive detector.
"""

from __future__ import annotations

import argparse
import os
import sys
import threading
import time
from dataclasses import dataclass, field
from typing import Any

TARGET_RATE = 20_000.0
TARGET_RATIO = 20.0
TARGET_P95_S = 10.0


# --- the naive detector -----------------------------------------------------------------------
class NaiveHistory:
    """``History`` where every question is its own ORM query (no batching, no memory)."""

    def __init__(self, *, tenant_id: int, rule: str) -> None:
        self.tenant_id, self.rule = tenant_id, rule

    def _events(self, qs: Any, *, places: bool) -> list[Any]:
        from alerts.geo import place_of
        from alerts.history import EVENT_COLUMNS, event_from_row

        return [event_from_row(row, tenant_id=self.tenant_id, place_of=place_of if places else None)
                for row in qs.order_by("occurred_at", "id").values_list(*EVENT_COLUMNS)]

    def successes(self, *, user_id: int, since: Any, before: Any, exclude_id: int) -> list[Any]:
        from activity.models import LoginEvent

        return self._events(LoginEvent.objects.filter(
            tenant_id=self.tenant_id, user_id=user_id, outcome="success", occurred_at__gte=since,
            occurred_at__lt=before).exclude(id=exclude_id), places=True)

    def first_success(self, *, user_id: int) -> Any:
        from django.db.models import Min

        from activity.models import LoginEvent

        return LoginEvent.objects.filter(tenant_id=self.tenant_id, user_id=user_id,
                                         outcome="success").aggregate(m=Min("occurred_at"))["m"]

    def success_count(self, *, user_id: int, before: Any) -> int:
        from activity.models import LoginEvent

        return LoginEvent.objects.filter(tenant_id=self.tenant_id, user_id=user_id,
                                         outcome="success", occurred_at__lt=before).count()

    def account_failures(self, *, tenant_id: int, login: str, since: Any, until: Any) -> list[Any]:
        from activity.models import LoginEvent

        return self._events(LoginEvent.objects.filter(
            tenant_id=tenant_id, attempted_login=login, outcome="failure", occurred_at__gte=since,
            occurred_at__lte=until), places=False)

    def network_failures(self, *, tenant_id: int, network: str, since: Any, until: Any) -> list[Any]:
        from activity.models import LoginEvent

        qs = LoginEvent.objects.filter(tenant_id=tenant_id, outcome="failure",
                                       occurred_at__gte=since, occurred_at__lte=until)
        return self._events(qs.extra(where=["ip <<= %s::inet"], params=[network]),  # a CIDR the rule built
                            places=False)

    def exports(self, *, user_id: int, since: Any, until: Any) -> list[Any]:
        from activity.models import ExportEvent
        from alerts.history import export_sample_from_row

        return [export_sample_from_row(r, tenant_id=self.tenant_id) for r in ExportEvent.objects.filter(
            tenant_id=self.tenant_id, user_id=user_id, status__in=("completed", "incomplete"),
            occurred_at__gte=since, occurred_at__lte=until).order_by("occurred_at", "id")
            .values_list("id", "user_id", "occurred_at", "dataset", "row_count")]

    def is_trusted(self, *, user_id: int, kind: str, value: str) -> bool:
        from alerts.history import BatchHistory
        from alerts.models import Trust

        trusts = Trust.objects.filter(tenant_id=self.tenant_id, user_id=user_id, kind=kind,
                                      revoked_at__isnull=True)
        return BatchHistory(tenant_id=self.tenant_id, trusts=trusts, rule=self.rule).is_trusted(
            user_id=user_id, kind=kind, value=value)


def _naive_findings(tenant: Any, rows: list[Any], *, write: bool) -> list[Any]:
    """Per event: the rule settings, each rule with a NaiveHistory, then that event's writes."""
    from django.utils import timezone

    from alerts.detect import DetectResult, _Found, findings_write, rules_active
    from alerts.geo import place_of
    from alerts.history import event_from_row
    from alerts.rules.base import TenantContext

    context = TenantContext(tenant_id=tenant.pk, timezone=tenant.timezone)
    found_all = []
    for row in rows:
        event = event_from_row(row, tenant_id=tenant.pk, place_of=place_of)
        found = []
        for rule in rules_active(tenant_id=tenant.pk):
            if rule.exports:
                continue
            for finding in rule.module.evaluate(event, NaiveHistory(tenant_id=tenant.pk, rule=rule.code),
                                                rule.params, context):
                found.append(_Found(finding=finding, kind="signin", mode=rule.mode))
        found_all.extend(f.finding for f in found)
        if write and found:
            findings_write(tenant_id=tenant.pk, found=found, signin={}, exports={},
                           now=timezone.now(), result=DetectResult())
    return found_all


def _ours_findings(tenant: Any, rows: list[Any]) -> list[Any]:
    from alerts.detect import DetectResult, _evaluate, history_needs, rules_active
    from alerts.geo import place_of
    from alerts.history import event_from_row, history_fetch
    from alerts.rules.base import TenantContext

    rules = [r for r in rules_active(tenant_id=tenant.pk) if not r.exports]
    events = [event_from_row(r, tenant_id=tenant.pk, place_of=place_of) for r in rows]
    needs = history_needs(rules, batch_start=min(e.occurred_at for e in events))
    history = history_fetch(tenant_id=tenant.pk, events=events, needs=needs, place_of=place_of)
    found = _evaluate(rules, events, (), history, TenantContext(tenant_id=tenant.pk, timezone=tenant.timezone),
                      DetectResult())
    return [f.finding for f in found]


def _key(finding: Any) -> tuple[Any, ...]:
    import json

    return (finding.rule, finding.dedup_key, tuple(sorted(finding.event_ids)),
            json.dumps(dict(finding.evidence), sort_keys=True, default=str))


# --- latency ----------------------------------------------------------------------------------
@dataclass
class Latency:
    sent: dict[int, float] = field(default_factory=dict)     # event id -> its commit time
    seen: dict[int, float] = field(default_factory=dict)     # event id -> its alert's commit time
    runs: int = 0


def _latency(*, seconds: float, rate: float, interval: float, alert_every: int = 1) -> Latency:
    import datetime as dt

    from django.db import connection
    from django.utils import timezone

    from accounts.models import User
    from activity.capture.types import ClientInfo, DeviceType
    from activity.management.synthetic import tenants_create
    from activity.services import login_event_build, login_event_record, login_events_record
    from alerts import detect
    from alerts.models import AlertEvidence

    tenant = tenants_create(count=1, prefix=f"latency-{alert_every}")[0]
    count = int(seconds * rate) + 10
    people = User.objects.bulk_create([
        User(tenant=tenant, email=f"p{i}@{tenant.slug}.example", display_name=f"P {i}",
             role="member", password="!") for i in range(count)])
    home = ClientInfo(ip="81.2.69.160", country="DE", user_agent="bench", browser_family="Chrome",
                      browser_version="", os_family="Windows", os_version="", device_type=DeviceType.DESKTOP)
    away = ClientInfo(ip="203.0.113.7", country="FR", user_agent="bench", browser_family="Chrome",
                      browser_version="", os_family="Windows", os_version="", device_type=DeviceType.DESKTOP)
    now = timezone.now()
    settle = [login_event_build(tenant=tenant, user=p, attempted_login=p.email, client=home,
                                outcome="success", reason="password_ok",
                                occurred_at=(now - dt.timedelta(days=30 - d)).replace(hour=10))
              for p in people for d in range(12)]
    login_events_record(tenant=tenant, events=settle, batch_size=5000)
    detect.detect_all(tenant_ids=[tenant.pk])  # the history is judged before the clock starts
    result = Latency()
    stop = threading.Event()

    def beat() -> None:
        last_evidence = 0
        try:
            while not stop.is_set():
                started = time.monotonic()
                detect.detect_all(tenant_ids=[tenant.pk])
                committed = time.time()
                result.runs += 1
                for ev_id, event_id in (AlertEvidence.objects.filter(tenant=tenant, id__gt=last_evidence)
                                        .values_list("id", "event_id")):
                    last_evidence = max(last_evidence, ev_id)
                    result.seen.setdefault(event_id, committed)
                stop.wait(max(0.0, interval - (time.monotonic() - started)))
        finally:
            connection.close()

    worker = threading.Thread(target=beat, daemon=True)
    worker.start()
    try:
        start = time.monotonic()
        for i in range(int(seconds * rate)):
            due = start + i / rate
            time.sleep(max(0.0, due - time.monotonic()))
            person = people[i]
            # Every ``alert_every``-th sign-in is from a new country; the others are habitual.
            anomalous = i % alert_every == 0
            row = login_event_record(tenant=tenant, user=person, attempted_login=person.email,
                                     client=away if anomalous else home, outcome="success",
                                     reason="password_ok")
            if anomalous:
                result.sent[row.pk] = time.time()
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and len(result.seen.keys() & result.sent.keys()) < len(result.sent):
            time.sleep(0.2)
    finally:
        stop.set()
        worker.join(timeout=60)
    return result


# --- run --------------------------------------------------------------------------------------
def _profile_report(profile: Any, *, top: int) -> str:
    import io
    import pstats

    out = io.StringIO()
    stats = pstats.Stats(profile, stream=out)
    stats.sort_stats("cumulative").print_stats(top)
    stats.sort_stats("tottime").print_stats(top)
    return out.getvalue()


def _endpoints_add(tenants: list[Any]) -> None:
    """One webhook endpoint per tenant, subscribed to the alert events (never delivered here)."""
    from notifications.models import WebhookEndpoint

    WebhookEndpoint.objects.bulk_create([
        WebhookEndpoint(tenant=tenant, url=f"https://hooks.example.com/{tenant.slug}",
                        secret="bench-signing-secret-0123456789",
                        event_types=["alert.opened", "alert.updated"]) for tenant in tenants])


def run(argv: list[str]) -> int:
    from bench import common

    parser = common.standard_arguments(argparse.ArgumentParser(prog="python -m bench detect"), repeat=1)
    parser.add_argument("--events", type=int, default=1_000_000, help="default 1,000,000")
    parser.add_argument("--people", type=int, default=200_000, help="default 200,000")
    parser.add_argument("--tenants", type=int, default=20, help="default 20")
    parser.add_argument("--days", type=int, default=30, help="default 30")
    parser.add_argument("--batch-size", type=int, default=2000, help="default 2,000")
    parser.add_argument("--naive-sample", type=int, default=1000,
                        help="events the naive detector is timed on (default 1,000); its rate is "
                             "extrapolated per event to the whole record")
    parser.add_argument("--sides", default="naive,ours",
                        help="'ours' alone skips the naive detector (no ratio is reported then)")
    parser.add_argument("--profile", type=int, default=0, metavar="N",
                        help="run ours under cProfile and print its top N entries (slower: the "
                             "rate printed is then the profiled one)")
    parser.add_argument("--latency-seconds", type=float, default=60.0,
                        help="seconds of each latency mix, default 60 (0: no latency run)")
    parser.add_argument("--rate", type=float, default=50.0, help="sign-ins per second, default 50")
    parser.add_argument("--alert-every", default="10,1",
                        help="the latency mixes: one sign-in in N opens an alert (new country); "
                             "default '10,1' (the normal mix, then every sign-in alerting)")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    if args.quick:
        args.events, args.people, args.naive_sample = min(args.events, 50_000), 10_000, 200
        args.latency_seconds = min(args.latency_seconds, 15.0)
    sides = {side.strip() for side in args.sides.split(",")} & {"naive", "ours"} or {"naive", "ours"}
    mixes = [max(1, int(n)) for n in str(args.alert_every).split(",") if n.strip()]
    if "django" in sys.modules:
        print("bench detect configures Django itself: run it in a fresh process.", file=sys.stderr)
        return 2

    # A worker: the outbox is delivered by its own beat task, never inside the detector's batch.
    os.environ["NOTIFICATIONS_DELIVER_ON_COMMIT"] = "0"
    os.environ["ALERTS_DETECT_EAGER"] = "0"
    with common.throwaway_postgres("mailadmin-bench-detect-") as (url, pg_version):
        common.django_on_postgres(url)
        from django.conf import settings
        from django.db import connection, transaction

        from activity.management.synthetic import activity_generate, tenants_create
        from activity.models import LoginEvent
        from alerts import detect
        from alerts.history import EVENT_COLUMNS
        from alerts.models import Alert, AlertEvidence
        from notifications.models import OutboxMessage, WebhookDelivery

        print(f"Loading {args.events:,} events of {args.people:,} people in {args.tenants} tenants "
              f"over {args.days} days…", file=sys.stderr, flush=True)
        started = time.perf_counter()
        tenants = tenants_create(count=args.tenants, prefix="bench")
        _endpoints_add(tenants)
        generated = activity_generate(tenants=tenants, people=args.people, events=args.events,
                                      days=args.days, seed=args.seed)
        with connection.cursor() as cursor:
            cursor.execute("VACUUM (ANALYZE) activity_loginevent")
        print(f"Loaded in {time.perf_counter() - started:.0f} s", file=sys.stderr, flush=True)

        naive_rows: list[list[str]] = []
        naive_rate = 0.0
        if "naive" in sides:
            # A contiguous sample from the middle of the largest tenant (its history is behind it).
            largest = generated.tenants[0]
            record = LoginEvent.objects.filter(tenant=largest).order_by("occurred_at", "id")
            middle = record.count() // 2
            sample = list(record.values_list(*EVENT_COLUMNS)[middle:middle + args.naive_sample])
            # Naive, timed on the sample (its writes rolled back); its findings kept to compare.
            print(f"Naive detector on {len(sample):,} events…", file=sys.stderr, flush=True)
            with transaction.atomic():
                started = time.perf_counter()
                naive_found = _naive_findings(largest, sample, write=True)
                naive_seconds = time.perf_counter() - started
                transaction.set_rollback(True)
            # Same findings first.
            ours = sorted(map(_key, _ours_findings(largest, sample)))
            naive = sorted(map(_key, naive_found))
            if ours != naive:
                print(f"FAIL: findings differ on the sample: ours {len(ours)}, naive {len(naive)}",
                      file=sys.stderr)
                return 1
            print(f"Same findings on the {len(sample):,}-event sample: {len(ours):,}", file=sys.stderr)
            naive_rate = len(sample) / naive_seconds
            naive_rows = [
                ["naive (per event, ORM), measured", f"{len(sample):,}", f"{naive_seconds:.1f}",
                 f"{naive_rate:,.1f}", f"a contiguous sample of the largest tenant; {len(ours):,} "
                 f"findings, the same as ours"],
                ["naive, extrapolated per event", f"{generated.events:,}",
                 f"{generated.events / naive_rate:,.0f}", f"{naive_rate:,.1f}",
                 f"{generated.events / naive_rate / 3600:,.1f} h for the whole record"],
            ]

        ours_rows: list[list[str]] = []
        ours_rate = 0.0
        profile_text = ""
        if "ours" in sides:
            print("Ours over the whole record…", file=sys.stderr, flush=True)
            profile = None
            if args.profile:
                import cProfile

                profile = cProfile.Profile()
                profile.enable()
            started = time.perf_counter()
            result = detect.detect_all(batch_size=args.batch_size)
            ours_seconds = time.perf_counter() - started
            if profile is not None:
                profile.disable()
                profile_text = _profile_report(profile, top=args.profile)
            ours_rate = result.events / ours_seconds
            ours_rows = [[
                "ours (batches)" + (", profiled" if profile is not None else ""),
                f"{result.events:,}", f"{ours_seconds:.1f}", f"{ours_rate:,.0f}",
                f"{result.batches:,} batches, {Alert.objects.count():,} alerts "
                f"({result.alerts_opened:,} opened, {result.alerts_grown:,} grown), "
                f"{AlertEvidence.objects.count():,} evidence rows, "
                f"{WebhookDelivery.objects.count():,} webhook deliveries, "
                f"{OutboxMessage.objects.count():,} e-mails, {result.rule_errors} rule errors"]]

        latencies = []
        if args.latency_seconds > 0:
            for every in mixes:
                print(f"Latency, 1 in {every} alerting, {args.latency_seconds:.0f} s…",
                      file=sys.stderr, flush=True)
                latencies.append((every, _latency(seconds=args.latency_seconds, rate=args.rate,
                                                  interval=settings.ALERTS_DETECT_INTERVAL_SECONDS,
                                                  alert_every=every)))

        print("## bench detect\n")
        print(common.machine_report({
            "postgresql": pg_version, "events": f"{generated.events:,}", "people": f"{args.people:,}",
            "tenants": f"{args.tenants} (one webhook endpoint each)", "days": str(args.days),
            "batch size": f"{args.batch_size:,}", "rules": ", ".join(detect.rule_registry()),
            "load average (1, 5, 15 min) at the end": " ".join(f"{v:.2f}" for v in os.getloadavg()),
        }))
        print()
        print(common.markdown_table(["detector", "events", "seconds", "events/s", "note"],
                                    naive_rows + ours_rows))
        print()
        ok = True
        if ours_rows:
            ok = ours_rate >= TARGET_RATE
            line = f"ours {ours_rate:,.0f} events/s (target ≥ {TARGET_RATE:,.0f})"
            if naive_rows:
                ratio = ours_rate / naive_rate
                ok = ok and ratio >= TARGET_RATIO
                line = f"ours / naive: {ratio:,.1f}x (target ≥ {TARGET_RATIO:.0f}x); " + line
            print(line)
            print()
        table = []
        for every, latency in latencies:
            delays = sorted(latency.seen[i] - t for i, t in latency.sent.items() if i in latency.seen)
            missing = len(latency.sent) - len(delays)
            if not delays:
                table.append([f"1 in {every} alerting", f"{len(latency.sent):,}", "none", "none", "none",
                              str(latency.runs), str(missing)])
                ok = False
                continue
            p95 = common.p95(delays)
            ok = ok and p95 <= TARGET_P95_S and not missing
            table.append([
                f"{args.rate:.0f}/s for {args.latency_seconds:.0f} s, 1 in {every} alerting, "
                f"beat every {settings.ALERTS_DETECT_INTERVAL_SECONDS:g} s", f"{len(latency.sent):,}",
                f"{common.median(delays):.2f}", f"{p95:.2f}", f"{delays[-1]:.2f}", str(latency.runs),
                str(missing)])
        if table:
            print(common.markdown_table(["latency (commit → alert row)", "alerting sign-ins", "p50 s",
                                         "p95 s", "max s", "beat runs", "missed"], table))
            print()
        print("targets met" if ok else "targets NOT met")
        if profile_text:
            print("\n```\n" + profile_text + "```")
        return 0
