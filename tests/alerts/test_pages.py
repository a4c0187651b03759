"""The alerts list (filters, keyset pages, record-only apart, CSV export) and the rule settings."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from activity.models import AuditLogEntry, ExportEvent
from alerts.models import RuleSetting
from tests.alerts.triage_support import make_alert, quiet_detector, signin  # noqa: F401

pytestmark = pytest.mark.django_db


def _ids(response) -> list[int]:
    return [int(pk) for pk in re.findall(r'data-testid="alert-row" data-alert="(\d+)"',
                                         response.content.decode())]


def test_list_filters_by_status_severity_rule_person_mode_and_date(two_tenants, signed_in):
    a = two_tenants.a
    now = timezone.now()
    low = make_alert(a.member, rule="new_device", severity="low", at=now - dt.timedelta(days=3))
    high = make_alert(a.admin, rule="brute_force", severity="high", at=now)
    done = make_alert(a.member, rule="new_device", status="resolved", at=now)
    shadow = make_alert(a.member, rule="unusual_hour", mode="record", at=now)
    make_alert(two_tenants.b.member, rule="brute_force", severity="high", at=now)
    client = signed_in(a.auditor)
    assert _ids(client.get("/alerts/")) == [high.pk, low.pk]  # unresolved, alert mode
    assert _ids(client.get("/alerts/", {"severity": "high"})) == [high.pk]
    assert _ids(client.get("/alerts/", {"rule": "new_device", "status": "any"})) == [done.pk, low.pk]
    assert _ids(client.get("/alerts/", {"status": "resolved"})) == [done.pk]
    assert _ids(client.get("/alerts/", {"person": a.member.pk})) == [low.pk]
    assert _ids(client.get("/alerts/", {"mode": "record"})) == [shadow.pk]
    day = (now - dt.timedelta(days=3)).date().isoformat()
    assert _ids(client.get("/alerts/", {"date_from": day, "date_to": day})) == [low.pk]
    # Another tenant's person as a filter shows nothing and says so; bad values never 500.
    response = client.get("/alerts/", {"person": two_tenants.b.member.pk, "severity": "nope",
                                       "date_from": "99999-01-01"})
    assert response.status_code == 200
    assert _ids(response) == [high.pk, low.pk]
    assert "Nobody in your organisation has that address." in response.content.decode()
    assert _ids(client.get("/alerts/", {"person": a.member.email.upper()})) == [low.pk]


def test_keyset_pages_cover_every_alert_once(two_tenants, signed_in):
    a = two_tenants.a
    now = timezone.now()
    made = [make_alert(a.member, at=now - dt.timedelta(minutes=i)).pk for i in range(25)]
    client = signed_in(a.admin)
    seen: list[int] = []
    response = client.get("/alerts/", {"size": 10})
    assert "25 alerts" in response.content.decode()
    while True:
        seen += _ids(response)
        older = re.search(r'href="\?([^"]+)" rel="next"', response.content.decode())
        if older is None:
            break
        response = client.get("/alerts/?" + older.group(1).replace("&amp;", "&"))
    assert seen == made
    tampered = client.get("/alerts/", {"cursor": "nonsense"})
    assert tampered.status_code == 200
    assert "not valid" in tampered.content.decode()


def test_detail_explains_the_evidence_in_words_in_the_viewers_time_zone(two_tenants, signed_in):
    a = two_tenants.a
    a.auditor.timezone = "Asia/Shanghai"
    a.auditor.save()
    event = signin(a.member, at=dt.datetime(2026, 11, 30, 19, 12, 5, tzinfo=dt.UTC))
    alert = make_alert(a.member, rule="new_country", event=event)
    page = signed_in(a.auditor).get(f"/alerts/{alert.pk}/").content.decode()
    assert "2026-12-01 03:12:05" in page  # the auditor's time zone
    assert "203.0.113.7" in page and "Chrome" in page and "Windows" in page
    row = re.search(r'<tr data-testid="evidence-row">.*?</tr>', page, re.S).group(0)
    assert "<td>Desktop</td>" in row  # the device's label, not its stored code
    assert f'href="/logs/signins/{event.pk}/"' in page  # the evidence opens its record row
    assert 'data-testid="alert-explained"' in page
    explained = re.search(r'data-testid="alert-explained">([^<]*)<', page).group(1)
    assert explained.strip() and "No explanation" not in explained


def test_export_is_recorded_as_an_export_event(two_tenants, signed_in):
    a = two_tenants.a
    alert = make_alert(a.member, rule="brute_force", severity="high")
    make_alert(two_tenants.b.member)
    client = signed_in(a.auditor)
    response = client.get("/alerts/export/", {"severity": "high"})
    assert response.status_code == 200
    body = b"".join(response.streaming_content).decode()
    lines = body.strip().splitlines()
    assert lines[0].startswith("id,rule,severity")
    assert len(lines) == 2 and lines[1].startswith(f"{alert.pk},brute_force,high")
    event = ExportEvent.objects.for_tenant(a.tenant).get(dataset="alerts")
    assert (event.user_id, event.status, event.row_count, event.filters) == (
        a.auditor.pk, "completed", 1, {"severity": "high"})
    assert signed_in(a.member).get("/alerts/export/").status_code == 403


def test_rule_settings_save_and_refuse_bad_thresholds(two_tenants, signed_in):
    a = two_tenants.a
    client = signed_in(a.admin)
    assert client.get("/alerts/rules/").status_code == 200
    response = client.post("/alerts/rules/", {
        "rule": "brute_force", "brute_force-enabled": "on", "brute_force-mode": "record",
        "brute_force-severity": "high", "brute_force-p_failures": "20",
        "brute_force-p_minutes": "30"})
    assert response.status_code == 302
    setting = RuleSetting.objects.for_tenant(a.tenant).get(rule="brute_force")
    assert (setting.enabled, setting.mode, setting.severity, setting.params) == (
        True, "record", "high", {"failures": 20, "minutes": 30})
    assert AuditLogEntry.objects.filter(tenant=a.tenant, content_type__model="rulesetting").exists()
    for failures in ("0", "-3", "99999999"):
        response = client.post("/alerts/rules/", {
            "rule": "brute_force", "brute_force-enabled": "on", "brute_force-mode": "alert",
            "brute_force-severity": "low", "brute_force-p_failures": failures,
            "brute_force-p_minutes": "30"})
        assert response.status_code == 400
        assert 'class="error"' in response.content.decode()
    response = client.post("/alerts/rules/", {
        "rule": "unusual_hour", "unusual_hour-enabled": "on", "unusual_hour-mode": "alert",
        "unusual_hour-severity": "low", "unusual_hour-p_quiet_hours": "on",
        "unusual_hour-p_quiet_start": "02:00", "unusual_hour-p_quiet_end": "02:00",
        "unusual_hour-p_usual_days": "30", "unusual_hour-p_usual_min_successes": "20",
        "unusual_hour-p_usual_coverage": "95", "unusual_hour-p_usual_margin_hours": "1"})
    assert response.status_code == 400
    assert "whole day" in response.content.decode()
    setting.refresh_from_db()
    assert setting.params == {"failures": 20, "minutes": 30} and setting.mode == "record"
    assert not RuleSetting.objects.for_tenant(a.tenant).filter(rule="unusual_hour").exists()
    assert not RuleSetting.objects.for_tenant(two_tenants.b.tenant).exists()


def test_auditor_reads_rule_settings_but_cannot_save(two_tenants, signed_in):
    client = signed_in(two_tenants.a.auditor)
    page = client.get("/alerts/rules/")
    assert page.status_code == 200 and b"disabled" in page.content
    response = client.post("/alerts/rules/", {"rule": "brute_force", "brute_force-mode": "record",
                                              "brute_force-severity": "low"})
    assert response.status_code == 403
    assert not RuleSetting.objects.exists()


def test_dashboard_and_person_page_show_open_alerts(two_tenants, signed_in):
    a = two_tenants.a
    make_alert(a.member, rule="brute_force", severity="high")
    make_alert(a.member, rule="new_device", severity="low")
    make_alert(a.admin, rule="new_device", severity="low")
    make_alert(a.member, rule="new_device", severity="low", status="resolved")
    make_alert(a.member, rule="new_device", severity="high", mode="record")
    make_alert(two_tenants.b.member, rule="brute_force", severity="high")
    page = signed_in(a.auditor).get("/dashboard/").content.decode()
    assert 'data-testid="alerts-high">1<' in page and 'data-testid="alerts-low">2<' in page
    person = signed_in(a.owner).get(f"/people/{a.member.pk}/").content.decode()
    assert 'data-testid="person-alerts-high">1<' in person
    assert 'data-testid="person-alerts-low">1<' in person
    assert f"/alerts/?person={a.member.pk}" in person
    # Helpdesk sees the dashboard but not alerts.
    helpdesk = signed_in(a.helpdesk).get("/dashboard/").content.decode()
    assert 'data-testid="open-alerts"' not in helpdesk


def test_list_queries_do_not_grow_with_its_rows(two_tenants, signed_in,
                                                django_assert_max_num_queries):
    a = two_tenants.a
    client = signed_in(a.admin)
    for _ in range(3):
        make_alert(a.member, rule="new_device")
    client.get("/alerts/")
    with CaptureQueriesContext(connection) as few:
        client.get("/alerts/")
    for person in (a.admin, a.auditor, a.owner):
        for _ in range(10):
            alert = make_alert(person, rule="brute_force")
            alert.assignee = a.admin
            alert.save()
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get("/alerts/")
    assert len(_ids(response)) == 33
