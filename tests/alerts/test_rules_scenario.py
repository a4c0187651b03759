"""All ten rules over one tenant's month and one bad morning: routine is quiet, the attack is seen.

A month of ordinary work (two sign-ins a working day from the office) gives no finding at all.
Then on 1 December an attacker guesses Ana's password from a botnet line, sprays other accounts
from it, gets in from São Paulo minutes after Ana signed in in Berlin, and exports the record;
Carol comes back after ten weeks; Dan signs in from outside the allowlist in monitor mode. Each
rule fires for what it is about and nothing else.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import defaultdict

from django.utils import translation

from alerts.rules import RULES
from alerts.rules.base import Place, Severity, TenantContext
from tests.alerts.fakes import FakeHistory, at, export, failure, signin

TENANT = TenantContext(tenant_id=1, timezone="Europe/Berlin")
BERLIN = Place(country="DE", latitude=52.52, longitude=13.405, city="Berlin")
SAO_PAULO = Place(country="BR", latitude=-23.55, longitude=-46.63, city="São Paulo")
OFFICE = {"ip": "198.51.100.7", "country": "DE", "place": BERLIN}
PEOPLE = {7: "ana@acme.example", 8: "bo@acme.example", 9: "carol@acme.example",
          10: "dan@acme.example"}


def routine():
    """November: 08:30 and 13:00 in Berlin (07:30 and 12:00 UTC) every working day."""
    events = []
    for day in range(1, 31):
        date = dt.date(2026, 11, day)
        if date.weekday() >= 5:
            continue
        for user_id in (7, 8, 10):
            for hour in (7, 12):
                events.append(signin(dt.datetime(date.year, date.month, date.day, hour, 30 - 30 * (hour == 12),
                                                  tzinfo=dt.UTC),
                                     user_id=user_id, login=PEOPLE[user_id], **OFFICE))
    # Carol worked in September, then went on leave.
    for day in range(1, 16):
        events.append(signin(dt.datetime(2026, 9, day, 7, 30, tzinfo=dt.UTC), user_id=9,
                             login=PEOPLE[9], **OFFICE))
    return events


def bad_morning():
    ana = PEOPLE[7]
    events = [signin("2026-12-01 07:30", user_id=7, login=ana, **OFFICE)]
    start = at("2026-12-01 07:35")
    for n in range(12):  # 12 guesses at Ana's password, the last ones while she is locked out
        events.append(failure(start + dt.timedelta(seconds=40 * n), user_id=7, login=ana,
                              ip=f"203.0.113.{10 + n}", reason="locked_out" if n >= 10 else
                              "bad_credentials"))
    for n in range(6):  # and one try each at six other addresses
        events.append(failure(start + dt.timedelta(seconds=40 * n + 20), user_id=None,
                              login=f"guess{n}@acme.example", ip=f"203.0.113.{30 + n}",
                              reason="unknown_account"))
    events.append(signin("2026-12-01 07:46", user_id=7, login=ana, ip="203.0.113.50",
                         country="BR", place=SAO_PAULO, browser="Firefox", os="Linux"))
    events.append(signin("2026-12-01 08:00", user_id=8, login=PEOPLE[8], **OFFICE))
    events.append(signin("2026-12-01 09:00", user_id=9, login=PEOPLE[9], **OFFICE))
    events.append(signin("2026-12-01 07:40", user_id=10, login=PEOPLE[10], reason="network_monitor",
                         ip="192.0.2.44", country="DE", place=BERLIN))
    return events


def judge(events, history):
    found = []
    for event in events:
        for module in RULES.values():
            if module.EVENT_KIND == "signin":
                found += module.evaluate(event, history, module.params_from({}), TENANT)
    return found


def test_a_month_of_routine_gives_no_finding():
    month = routine()
    assert judge(month, FakeHistory(month)) == []


def test_the_bad_morning_is_seen_by_the_rules_it_concerns_and_only_them():
    month, morning = routine(), bad_morning()
    history = FakeHistory([*month, *morning])
    findings = judge(morning, history)
    by_person = defaultdict(set)
    for f in findings:
        by_person[f.user_id].add(f.rule)
    assert dict(by_person) == {
        7: {"brute_force", "success_after_failures", "new_country", "new_device",
            "impossible_travel"},
        None: {"password_spray"},
        9: {"dormant_account"},
        10: {"blocked_by_policy"},
    }
    # Repeats of one finding are one alert: the guesses grow one brute-force alert, the spray one.
    keys = defaultdict(set)
    for f in findings:
        keys[f.rule].add(f.dedup_key)
    assert all(len(k) == 1 for k in keys.values()), keys
    severities = {f.rule: f.severity for f in findings}
    assert severities["impossible_travel"] == Severity.HIGH
    assert severities["blocked_by_policy"] == Severity.MEDIUM  # monitor mode
    travel = next(f for f in findings if f.rule == "impossible_travel")
    assert travel.evidence["distance_km"] > 9_000 and travel.evidence["elapsed_minutes"] == 16
    with translation.override("en"):
        sentences = {f.rule: RULES[f.rule].describe(json.loads(json.dumps(f.evidence)))
                     for f in findings}
    assert sentences["impossible_travel"].startswith(
        "Signed in from São Paulo, Brazil 10,2")
    assert "16 minutes earlier" in sentences["impossible_travel"]
    assert sentences["dormant_account"].startswith(
        "Signed in from 198.51.100.7 (Germany) after at least 60 days")
    # Judging the same events again finds exactly the same (the detector may replay a batch).
    assert judge(morning, history) == findings


def test_and_the_export_that_follows():
    month = routine()
    usual = [export(at("2026-11-02 10:00") + dt.timedelta(days=d), 300) for d in range(28)]
    big = export("2026-12-01 07:50", 40_000)
    module = RULES["mass_export"]
    history = FakeHistory(month, exports=[*usual, big])
    assert all(module.evaluate_export(s, history, module.params_from({}), TENANT) == []
               for s in usual)
    [finding] = module.evaluate_export(big, history, module.params_from({}), TENANT)
    assert finding.evidence["median_daily_rows"] == 300
