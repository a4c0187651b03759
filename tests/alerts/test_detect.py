"""The detector over real record rows: alerts with evidence, idempotency, late commits, settings."""

from __future__ import annotations

import datetime as dt
import sys
from types import ModuleType

import pytest
import time_machine
from django.db import connection
from django.db.models.signals import post_save
from django.test.utils import CaptureQueriesContext

from activity.models import LoginEvent
from activity.services import export_event_complete, export_event_start
from alerts import detect, notify
from alerts.detect import tenant_detect
from alerts.models import Alert, AlertActivity, AlertEvidence, DetectionCursor, RuleSetting, Trust
from alerts.preferences import ReportLink
from alerts.rules import RULES
from alerts.rules.base import Finding, Severity
from notifications.models import OutboxMessage, WebhookDelivery, WebhookEndpoint
from tests.alerts.detect_support import START, client, event, habit, record, snapshot

pytestmark = pytest.mark.django_db

DAY = dt.timedelta(days=1)


@pytest.fixture
def notified(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, int]]:
    """Which alerts the detector handed to notification, opened or seen again (one call a batch)."""
    calls: list[tuple[str, int]] = []
    real_opened, real_again = notify.alerts_opened, notify.alerts_seen_again

    def opened(*, alerts: list[Alert], **kwargs: object) -> None:
        calls.extend(("opened", alert.pk) for alert in alerts)
        real_opened(alerts=alerts, **kwargs)  # type: ignore[arg-type]

    def again(*, alerts: list[Alert]) -> None:
        calls.extend(("seen_again", alert.pk) for alert in alerts)
        real_again(alerts=alerts)

    monkeypatch.setattr(notify, "alerts_opened", opened)
    monkeypatch.setattr(notify, "alerts_seen_again", again)
    return calls


def _new_device_and_country(two_tenants):
    acme = two_tenants.a
    habit(acme.tenant, acme.member, days=20)
    odd = record(acme.tenant, [event(tenant=acme.tenant, user=acme.member,
                                     at=START + 20 * DAY + dt.timedelta(minutes=30),
                                     ip="203.0.113.9", country="US", browser="Firefox", os="Linux")])
    return acme, odd[0]


def test_a_batch_opens_alerts_with_the_evidence_that_explains_them(two_tenants, notified):
    acme, odd = _new_device_and_country(two_tenants)
    # Globex has the same shape of history; its alerts are its own.
    habit(two_tenants.b.tenant, two_tenants.b.member, days=3)

    result = tenant_detect(tenant=acme.tenant)

    assert result.events == 21 and result.rule_errors == 0
    alerts = {a.rule: a for a in Alert.objects.for_tenant(acme.tenant)}
    assert set(alerts) == {"new_device", "new_country"}
    device = alerts["new_device"]
    assert device.user_id == acme.member.pk and device.status == Alert.Status.OPEN
    assert device.mode == "alert" and device.count == 1
    assert device.first_seen == device.last_seen == odd.occurred_at
    assert device.evidence["browser_family"] == "Firefox"
    evidence = AlertEvidence.objects.for_tenant(acme.tenant).get(alert=device)
    assert (evidence.event_id, evidence.ip, evidence.country, evidence.browser_family,
            evidence.os_family) == (odd.pk, "203.0.113.9", "US", "Firefox", "Linux")
    assert list(AlertActivity.objects.for_tenant(acme.tenant).filter(alert=device)
                .values_list("kind", flat=True)) == ["opened"]
    assert sorted(kind for kind, _ in notified) == ["opened", "opened"]
    assert not Alert.objects.for_tenant(two_tenants.b.tenant).exists()
    cursor = DetectionCursor.objects.for_tenant(acme.tenant).get(kind="signin")
    assert cursor.last_id == odd.pk


def test_reprocessing_the_same_events_changes_nothing(two_tenants, notified):
    acme, _ = _new_device_and_country(two_tenants)
    record(acme.tenant, [event(tenant=acme.tenant, user=None, login="owner@acme.example",
                               outcome="failure", at=START + 21 * DAY + dt.timedelta(seconds=s),
                               ip="192.0.2.50") for s in range(12)])
    tenant_detect(tenant=acme.tenant, batch_size=7)
    first = snapshot(acme.tenant)
    calls = len(notified)
    assert {a[0] for a in first} == {"new_device", "new_country", "brute_force"}

    # Forget the watermark: every row is read and judged again, in other batch boundaries too.
    DetectionCursor.objects.for_tenant(acme.tenant).delete()
    tenant_detect(tenant=acme.tenant, batch_size=5)
    DetectionCursor.objects.for_tenant(acme.tenant).delete()
    tenant_detect(tenant=acme.tenant)

    assert snapshot(acme.tenant) == first
    assert len(notified) == calls


def test_a_catch_up_in_small_batches_finds_what_one_batch_finds(two_tenants):
    """A catch-up reads each person's history once and then only what each batch adds: over
    three months of sign-ins (a learning period ending, a new device and country, travel, a
    night sign-in, a dormant return, a failure burst) batches of 3 find exactly what one batch
    of everything finds."""
    acme = two_tenants.a
    rows = []
    for d in range(0, 40):  # the owner: daily, from Germany
        rows.append(event(tenant=acme.tenant, user=acme.owner, at=START + d * DAY))
    for d in range(0, 30, 3):  # the member: learning, then settled, then away for 60 days
        rows.append(event(tenant=acme.tenant, user=acme.member, at=START + d * DAY + dt.timedelta(hours=2)))
    rows.append(event(tenant=acme.tenant, user=acme.member, at=START + 92 * DAY, country="US",
                      ip="8.8.8.8", browser="Firefox", os="Linux"))
    rows.append(event(tenant=acme.tenant, user=acme.owner, at=START + 40 * DAY + dt.timedelta(hours=1),
                      country="JP", ip="203.0.113.77"))
    rows.append(event(tenant=acme.tenant, user=acme.owner, at=START + 40 * DAY + dt.timedelta(hours=4)))
    rows += [event(tenant=acme.tenant, user=acme.admin, outcome="failure",
                   at=START + 50 * DAY + dt.timedelta(seconds=20 * i), ip="192.0.2.9") for i in range(12)]
    rows.append(event(tenant=acme.tenant, user=acme.admin, at=START + 50 * DAY + dt.timedelta(minutes=5),
                      ip="192.0.2.9"))
    record(acme.tenant, rows)

    def found() -> list[tuple[object, ...]]:
        # Everything but the timeline's length (small batches grow an alert: "seen again").
        return [alert[:-1] for alert in snapshot(acme.tenant)]

    small = tenant_detect(tenant=acme.tenant, batch_size=3)
    in_small = found()
    assert small.batches > 20
    assert {a[0] for a in in_small} >= {"new_country", "new_device", "impossible_travel",
                                        "dormant_account", "brute_force"}
    Alert.objects.for_tenant(acme.tenant).delete()
    DetectionCursor.objects.for_tenant(acme.tenant).delete()
    tenant_detect(tenant=acme.tenant, batch_size=10_000)
    assert found() == in_small


def test_a_repeated_finding_grows_the_open_alert(two_tenants, notified):
    acme = two_tenants.a
    base = START + 30 * DAY
    failures = [event(tenant=acme.tenant, user=acme.owner, outcome="failure",
                      at=base + dt.timedelta(seconds=10 * i), ip="192.0.2.60") for i in range(10)]
    record(acme.tenant, failures)
    tenant_detect(tenant=acme.tenant)
    alert = Alert.objects.for_tenant(acme.tenant).get(rule="brute_force")
    assert alert.count == 10

    more = record(acme.tenant, [event(tenant=acme.tenant, user=acme.owner, outcome="failure",
                                      at=base + dt.timedelta(seconds=200 + i), ip="192.0.2.61")
                                for i in range(3)])
    tenant_detect(tenant=acme.tenant)

    alert.refresh_from_db()
    assert alert.count == 13 and alert.last_seen == more[-1].occurred_at
    assert Alert.objects.for_tenant(acme.tenant).filter(rule="brute_force").count() == 1
    assert list(AlertActivity.objects.for_tenant(acme.tenant).filter(alert=alert)
                .values_list("kind", flat=True)) == ["opened", "seen_again"]
    assert ("seen_again", alert.pk) in notified


def test_a_row_committed_late_with_a_lower_id_is_not_skipped(two_tenants):
    """Ids come from one sequence, commits do not follow it: id N+1 can be seen before id N."""
    acme = two_tenants.a
    now = dt.datetime.now(dt.UTC)
    habit(acme.tenant, acme.member, days=20, start=now - 25 * DAY)
    tenant_detect(tenant=acme.tenant)
    assert not Alert.objects.for_tenant(acme.tenant).filter(rule="new_device").exists()
    top = LoginEvent.objects.for_tenant(acme.tenant).order_by("-id").first().pk

    # Transaction B took id top+20 and committed; transaction A took top+10 and is still open.
    later = event(tenant=acme.tenant, user=acme.member, at=now - dt.timedelta(seconds=5))
    later.pk = top + 20
    LoginEvent.objects.bulk_create([later])  # what the sign-in's own insert would have written
    tenant_detect(tenant=acme.tenant)
    assert DetectionCursor.objects.for_tenant(acme.tenant).get(kind="signin").last_id == top + 20

    # A commits now: a new device, with an id below the watermark.
    late = event(tenant=acme.tenant, user=acme.member, at=now - dt.timedelta(seconds=8),
                 browser="Firefox", os="Linux")
    late.pk = top + 10
    LoginEvent.objects.bulk_create([late])
    tenant_detect(tenant=acme.tenant)

    alert = Alert.objects.for_tenant(acme.tenant).get(rule="new_device")
    assert list(AlertEvidence.objects.for_tenant(acme.tenant).filter(alert=alert)
                .values_list("event_id", flat=True)) == [top + 10]
    # ...and judged once: another run does not read it again.
    again = tenant_detect(tenant=acme.tenant)
    assert again.events == 0


def test_unknown_countries_and_unparsed_browsers_do_not_break_a_batch(two_tenants):
    acme = two_tenants.a
    habit(acme.tenant, acme.member, days=20, country="")
    record(acme.tenant, [
        event(tenant=acme.tenant, user=acme.member, at=START + 20 * DAY, country="",
              browser="", os="", device="other", user_agent="(((garbage ☃"),
        event(tenant=acme.tenant, user=acme.member, at=START + 20 * DAY + dt.timedelta(hours=1),
              country="ZZ", ip="10.1.2.3"),
    ])
    result = tenant_detect(tenant=acme.tenant)
    assert result.events == 22 and result.rule_errors == 0
    assert not Alert.objects.for_tenant(acme.tenant).filter(rule="impossible_travel").exists()


def test_record_only_mode_keeps_the_alert_and_notifies_nobody(two_tenants, notified):
    acme = two_tenants.a
    RuleSetting.objects.create(tenant=acme.tenant, rule="new_device", mode="record",
                               severity="high")
    _new_device_and_country(two_tenants)
    tenant_detect(tenant=acme.tenant)
    device = Alert.objects.for_tenant(acme.tenant).get(rule="new_device")
    country = Alert.objects.for_tenant(acme.tenant).get(rule="new_country")
    assert device.mode == "record" and device.severity == "high"
    assert notified == [("opened", country.pk)]


def test_a_disabled_rule_finds_nothing(two_tenants):
    acme = two_tenants.a
    RuleSetting.objects.create(tenant=acme.tenant, rule="new_country", enabled=False,
                               severity="medium")
    _new_device_and_country(two_tenants)
    tenant_detect(tenant=acme.tenant)
    assert set(Alert.objects.for_tenant(acme.tenant).values_list("rule", flat=True)) == {"new_device"}


def test_invalid_saved_thresholds_fall_back_to_the_defaults(two_tenants):
    acme = two_tenants.a
    RuleSetting.objects.create(tenant=acme.tenant, rule="new_device", params={"days": -5},
                               severity="low")
    _new_device_and_country(two_tenants)
    result = tenant_detect(tenant=acme.tenant)
    assert result.rule_errors == 0
    assert Alert.objects.for_tenant(acme.tenant).filter(rule="new_device").exists()


def test_trusted_device_and_country_are_not_alerted(two_tenants):
    acme = two_tenants.a
    Trust.objects.create(tenant=acme.tenant, user=acme.member, kind="device",
                         value="firefox|linux|desktop", created_by=acme.admin)
    Trust.objects.create(tenant=acme.tenant, user=acme.member, kind="country", value="US",
                         rule="new_country", created_by=acme.admin)
    # A revoked trust trusts nothing.
    Trust.objects.create(tenant=acme.tenant, user=acme.member, kind="country", value="FR",
                         created_by=acme.admin, revoked_at=START)
    _new_device_and_country(two_tenants)
    record(acme.tenant, [event(tenant=acme.tenant, user=acme.member, at=START + 25 * DAY,
                               country="FR", ip="198.51.100.80")])
    tenant_detect(tenant=acme.tenant)
    alerts = list(Alert.objects.for_tenant(acme.tenant).values_list("rule", "evidence"))
    assert [(rule, evidence.get("country")) for rule, evidence in alerts] == [("new_country", "FR")]


def _module(code: str, evaluate) -> ModuleType:
    module = ModuleType(f"tests.alerts.rule_{code}")
    module.CODE = code
    module.DEFAULT_SEVERITY = Severity.MEDIUM
    module.EVENT_KIND = "signin"
    module.NEEDS = frozenset()
    module.params_from = lambda data: dict(data)
    module.evaluate = evaluate
    sys.modules[module.__name__] = module
    return module


def test_a_rule_that_raises_is_skipped_for_that_event_and_the_batch_goes_on(two_tenants, caplog):
    acme = two_tenants.a
    rows = record(acme.tenant, [event(tenant=acme.tenant, user=acme.member, at=START + i * DAY)
                                for i in range(3)])

    def fragile(ev, history, params, tenant):
        if ev.id == rows[1].pk:
            raise ZeroDivisionError("a rule's bug")
        return [Finding(rule="every", severity=Severity.LOW, tenant_id=ev.tenant_id,
                        user_id=ev.user_id, dedup_key=f"every:{ev.id}", occurred_at=ev.occurred_at,
                        event_ids=(ev.id,))]

    registry = {"every": _module("every", fragile)}
    result = tenant_detect(tenant=acme.tenant, registry=registry)

    assert result.events == 3 and result.rule_errors == 1
    assert sorted(Alert.objects.for_tenant(acme.tenant).values_list("dedup_key", flat=True)) == [
        f"every:{rows[0].pk}", f"every:{rows[2].pk}"]
    assert "Rule every failed" in caplog.text


def test_a_finding_about_a_person_deleted_since_keeps_no_person(two_tenants):
    acme = two_tenants.a
    gone_id = acme.helpdesk.pk
    rows = record(acme.tenant, [event(tenant=acme.tenant, user=acme.member, at=START)])

    def about_the_gone(ev, history, params, tenant):
        return [Finding(rule="gone", severity=Severity.HIGH, tenant_id=ev.tenant_id,
                        user_id=gone_id, dedup_key="gone", occurred_at=ev.occurred_at,
                        event_ids=(ev.id,))]

    acme.helpdesk.delete()
    tenant_detect(tenant=acme.tenant, registry={"gone": _module("gone", about_the_gone)})
    alert = Alert.objects.for_tenant(acme.tenant).get(rule="gone")
    assert alert.user_id is None and alert.count == 1
    assert alert.evidence_events.get().event_id == rows[0].pk


def test_events_of_a_person_deleted_since_are_still_judged(two_tenants):
    acme = two_tenants.a
    record(acme.tenant, [event(tenant=acme.tenant, user=acme.helpdesk, outcome="failure",
                               at=START + dt.timedelta(seconds=i)) for i in range(10)])
    acme.helpdesk.delete()  # the record keeps the rows, without the person
    tenant_detect(tenant=acme.tenant)
    alert = Alert.objects.for_tenant(acme.tenant).get(rule="brute_force")
    assert alert.user_id is None and alert.count == 10


def test_events_out_of_order_by_clock_skew(two_tenants):
    """A web server whose clock is behind records an older time under a newer id."""
    acme = two_tenants.a
    base = START + 40 * DAY
    record(acme.tenant, [event(tenant=acme.tenant, user=acme.owner, outcome="failure",
                               at=base + dt.timedelta(seconds=10 * i), ip="192.0.2.70")
                         for i in range(10)])
    tenant_detect(tenant=acme.tenant)
    alert = Alert.objects.for_tenant(acme.tenant).get(rule="brute_force")
    assert (alert.count, alert.last_seen) == (10, base + dt.timedelta(seconds=90))

    # Recorded after the others, stamped 5 s before the newest of them.
    skewed = record(acme.tenant, [event(tenant=acme.tenant, user=acme.owner, outcome="failure",
                                        at=base + dt.timedelta(seconds=85), ip="192.0.2.71")])
    tenant_detect(tenant=acme.tenant)

    alert.refresh_from_db()
    assert alert.count == 11
    assert skewed[0].pk in set(alert.evidence_events.values_list("event_id", flat=True))
    # Seen times never go backwards because a row arrived late.
    assert (alert.first_seen, alert.last_seen) == (base, base + dt.timedelta(seconds=90))


def _batch(tenant, users, n: int, base: dt.datetime) -> None:
    rows = []
    for i in range(n):
        user = users[i % len(users)]
        rows.append(event(tenant=tenant, user=user, at=base + dt.timedelta(seconds=i),
                          outcome="failure" if i % 3 == 0 else "success",
                          ip=f"198.51.100.{i % 200}", browser="Firefox" if i % 5 == 0 else "Chrome",
                          country="FR" if i % 7 == 0 else "DE"))
    record(tenant, rows)


def test_the_query_count_of_a_batch_does_not_grow_with_its_size(two_tenants):
    acme = two_tenants.a
    people = [acme.owner, acme.admin, acme.auditor, acme.helpdesk, acme.member]
    for person in people:
        habit(acme.tenant, person, days=15)
    # Every rule in record-only mode: notification (one outbox write per alert, by its
    # interface) is not the detector's query count.
    for code, module in RULES.items():
        RuleSetting.objects.create(tenant=acme.tenant, rule=code, mode="record",
                                   severity=module.DEFAULT_SEVERITY)
    tenant_detect(tenant=acme.tenant)
    counts = {}
    for n, day in ((10, 50), (500, 60)):
        _batch(acme.tenant, people, n, START + day * DAY)
        rules = detect.rules_active(tenant_id=acme.tenant.pk)
        with CaptureQueriesContext(connection) as queries:
            result = detect.signin_batch_detect(tenant=acme.tenant, rules=rules, batch_size=1000)
        assert result.events == n and result.findings > 0
        counts[n] = len(queries)
    assert counts[10] == counts[500], counts


def test_a_batch_that_notifies_still_costs_a_constant_number_of_queries(two_tenants):
    """Alert mode, every rule high, a webhook endpoint, sign-ins of the last hour: each batch
    writes webhook deliveries, "Was this you?" e-mails with their report links and e-mails to
    the admins, and 500 events cost the queries of 10."""
    acme = two_tenants.a
    people = [acme.owner, acme.admin, acme.auditor, acme.helpdesk, acme.member]
    for person in people:
        habit(acme.tenant, person, days=15)
    for code in RULES:
        RuleSetting.objects.create(tenant=acme.tenant, rule=code, mode="alert", severity="high")
    WebhookEndpoint.objects.create(tenant=acme.tenant, url="https://hooks.example.com/in",
                                   secret="s3cret-for-tests", event_types=["alert.opened"])
    tenant_detect(tenant=acme.tenant)
    counts, written = {}, {}
    saved: list[str] = []

    def on_save(sender: type, **kwargs: object) -> None:
        saved.append(sender.__name__)

    for n, day in ((10, 50), (500, 60)):
        base = START + day * DAY
        _batch(acme.tenant, people, n, base)
        rules = detect.rules_active(tenant_id=acme.tenant.pk)
        before = Alert.objects.for_tenant(acme.tenant).count()
        post_save.connect(on_save, dispatch_uid="test-no-saves")
        try:
            with time_machine.travel(base + dt.timedelta(hours=1), tick=False), \
                    CaptureQueriesContext(connection) as queries:
                result = detect.signin_batch_detect(tenant=acme.tenant, rules=rules, batch_size=1000)
        finally:
            post_save.disconnect(dispatch_uid="test-no-saves")
        assert result.events == n and result.alerts_opened > 0
        # Nothing saved one row at a time (only the batch's cursor), so no per-row signal
        # receiver (auditlog's) runs.
        assert saved == ["DetectionCursor"]
        saved.clear()
        opened = Alert.objects.for_tenant(acme.tenant).order_by("pk")[before:]
        # Each alert opened: its webhook once; the person asked about devices and countries.
        assert sorted(WebhookDelivery.objects.for_tenant(acme.tenant).filter(
            payload__data__id__in=[a.pk for a in opened]).values_list("payload__data__id", flat=True)
        ) == sorted(a.pk for a in opened)
        mail = OutboxMessage.objects.for_tenant(acme.tenant)
        asked = [a for a in opened if a.rule in ("new_device", "new_country")]
        assert asked and all(mail.filter(kind="alert_was_this_you", user=a.user,
                                         idempotency_key__startswith=f"alert:{a.pk}:was-this-you:").count() == 1
                             for a in asked)
        assert ReportLink.objects.filter(alert__in=asked).count() == len(asked)
        assert mail.filter(kind="alert_admin", idempotency_key__in=[
            f"alert:{a.pk}:opened:admin:{admin.pk}" for a in opened
            for admin in (acme.owner, acme.admin)]).count() == 2 * len(opened)
        counts[n], written[n] = len(queries), result.alerts_opened
    assert written[500] > written[10]
    assert counts[10] == counts[500], counts


def _export(tenant, user, at: dt.datetime, rows: int):
    started = export_event_start(tenant=tenant, user=user, client=client(), dataset="signins",
                                 format="csv", filters={}, occurred_at=at)
    return export_event_complete(event=started, row_count=rows, byte_count=rows * 80,
                                 completed_at=at + dt.timedelta(minutes=1))


def test_completed_exports_are_judged_once_and_a_mass_export_opens_an_alert(two_tenants):
    acme = two_tenants.a
    base = START + 40 * DAY
    for day in range(0, 30, 3):
        _export(acme.tenant, acme.auditor, base + day * DAY, 200)
    big = _export(acme.tenant, acme.auditor, base + 31 * DAY, 50_000)
    # Started but not finished: its row count is not known yet, so it waits.
    export_event_start(tenant=acme.tenant, user=acme.admin, client=client(), dataset="signins",
                       format="csv", filters={}, occurred_at=base + 31 * DAY)

    result = tenant_detect(tenant=acme.tenant)

    assert result.exports == 11
    alert = Alert.objects.for_tenant(acme.tenant).get(rule="mass_export")
    assert alert.user_id == acme.auditor.pk
    evidence = alert.evidence_events.get(event_id=big.pk)
    assert evidence.event_kind == "export"
    assert tenant_detect(tenant=acme.tenant).exports == 0
    assert not Alert.objects.for_tenant(two_tenants.b.tenant).exists()
