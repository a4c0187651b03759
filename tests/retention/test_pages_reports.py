"""The Reports page and the dashboard chart: who reads them, what each chart and table shows, the
month's CSV (recorded as an export), bad input, and the same numbers before and after a sweep."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re

import pytest
import time_machine
from django.utils import timezone

from activity.models import ExportEvent, LoginEvent, MfaMethod, Outcome, Reason
from alerts.models import Alert
from retention.models import DailyActivity, Metric, RolledUpDay
from retention.sweep import retention_sweep
from tests.activity.test_log_pages import sign_in
from tests.retention.support import exports, sign_ins

pytestmark = pytest.mark.django_db

URL = "/retention/reports/"
CSV_URL = "/retention/reports/month.csv"


def body(response) -> str:
    return response.content.decode()


def section(page: str, slug: str) -> str:
    match = re.search(rf'<section [^>]*data-testid="chart-{slug}".*?</section>', page, re.DOTALL)
    assert match, f"no chart {slug}"
    return match.group(0)


def table(page: str, slug: str) -> list[list[str]]:
    """The chart's table as text cells, row by row (header excluded)."""
    part = section(page, slug)
    tbody = re.search(r"<tbody>(.*?)</tbody>", part, re.DOTALL)
    assert tbody, part[:500]
    return [[re.sub(r"<[^>]+>", "", cell).strip()
             for cell in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.DOTALL)]
            for row in re.findall(r"<tr>(.*?)</tr>", tbody.group(1), re.DOTALL)]


@pytest.fixture
def seeded(two_tenants):
    a, b = two_tenants.a, two_tenants.b
    today = timezone.now().replace(hour=12, minute=0, second=0, microsecond=0)
    yesterday = today - dt.timedelta(days=1)
    sign_ins(a.tenant, a.member, [yesterday] * 4, mfa=MfaMethod.TOTP)
    sign_ins(a.tenant, a.admin, [yesterday] * 2)
    sign_ins(a.tenant, a.member, [yesterday] * 3, outcome=Outcome.FAILURE,
             reason=Reason.BAD_CREDENTIALS, country="CN")
    sign_ins(a.tenant, None, [today - dt.timedelta(days=3)], outcome=Outcome.DENIED,
             reason=Reason.NETWORK_DENIED, country="RU")
    exports(a.tenant, a.admin, [yesterday] * 2, rows=50)
    sign_ins(b.tenant, b.member, [yesterday] * 77, country="DE")  # Globex: never on Acme's page
    return yesterday.date()


@pytest.mark.parametrize("role,status", [("owner", 200), ("admin", 200), ("auditor", 200),
                                         ("helpdesk", 403), ("member", 403)])
def test_who_reads_the_reports(two_tenants, make_client, role, status) -> None:
    client = sign_in(make_client(), two_tenants.a.by_role(role))
    assert client.get(URL).status_code == status
    assert client.get(f"{CSV_URL}?month=2026-11").status_code == status


def test_every_chart_has_its_table_and_the_numbers_are_the_tenants(two_tenants, make_client,
                                                                   seeded) -> None:
    page = body(sign_in(make_client(), two_tenants.a.auditor).get(f"{URL}?days=7"))
    rows = {row[0]: row[1:] for row in table(page, "signins")}
    assert len(rows) == 7
    assert rows[seeded.isoformat()] == ["6", "3", "0"]  # success, failure, denied
    assert sum(int(r[2]) for r in rows.values()) == 1
    assert table(page, "reasons") == [["Wrong password", "3", "75.0 %"],
                                      ["Network not allowed", "1", "25.0 %"]]
    assert table(page, "countries")[:2] == [["US", "6", "60.0 %"], ["CN", "3", "30.0 %"]]
    assert ["Authenticator app", "4", "66.7 %"] in table(page, "mfa")
    assert ["No second factor", "2", "33.3 %"] in table(page, "mfa")
    assert [seeded.isoformat(), "2", "100"] in table(page, "exports")
    assert ["Desktop", "10", "100.0 %"] in table(page, "devices")
    assert "DE" not in [row[0] for row in table(page, "countries")]
    assert sum(int(row[0]) for row in rows.values()) == 6  # successes: not Globex's 77
    for slug in ("signins", "reasons", "countries", "browsers", "os", "devices", "mfa", "exports"):
        part = section(page, slug)
        svg = re.search(r"<svg .*?</svg>", part, re.DOTALL)
        assert svg, slug
        assert 'role="img"' in svg.group(0) and "aria-label=" in svg.group(0)
        # No script, no inline style element, nothing from another origin.
        assert "<script" not in svg.group(0) and "<style" not in svg.group(0)
        assert not re.search(r"(?:href|src)=\"(?:https?:)?//", svg.group(0)), slug
    assert "/static/css/retention.css" in page


def test_an_empty_period_says_so(two_tenants, make_client) -> None:
    page = body(sign_in(make_client(), two_tenants.a.owner).get(URL))
    for slug, text in (("signins", "No sign-ins in this period."),
                       ("reasons", "No failed or refused sign-ins"), ("mfa", "No successful"),
                       ("exports", "No exports in this period.")):
        assert text in section(page, slug) and "<svg" not in section(page, slug)


def test_alerts_per_rule_once_the_detector_opened_alerts(two_tenants, make_client) -> None:
    a, b = two_tenants.a, two_tenants.b
    now = timezone.now()
    for tenant, person, rule, n in ((a.tenant, a.member, "new_country", 3),
                                    (a.tenant, a.admin, "brute_force", 1),
                                    (b.tenant, b.member, "mass_export", 9)):
        for i in range(n):
            Alert.objects.create(tenant=tenant, rule=rule, severity="high", user=person,
                                 dedup_key=f"t:{rule}:{i}", first_seen=now, last_seen=now,
                                 count=1)
    page = body(sign_in(make_client(), a.auditor).get(f"{URL}?days=7"))
    # The rule's title, not its code (the detector may have opened others on the sign-in itself).
    rows = {row[0]: row[1] for row in table(page, "alerts")}
    assert rows["New country"] == "3" and rows["Brute force on one account"] == "1"
    assert "Mass export" not in section(page, "alerts")


@pytest.mark.parametrize("query,message", [
    ("days=12", "Choose a period of 7, 30 or 90 days"),
    ("days=-1", "Choose a period of 7, 30 or 90 days"),
    ("month=2026-13", "is not a month"),
    ("month=2999-01", "is not a month"),
    ("month=1999-12", "is not a month"),
    ("month=%00", "is not a month"),
    ("month=" + "9" * 300, "is not a month"),
])
def test_a_bad_period_shows_the_default_and_a_message(two_tenants, make_client, query,
                                                      message) -> None:
    response = sign_in(make_client(), two_tenants.a.owner).get(f"{URL}?{query}")
    assert response.status_code == 200
    page = body(response)
    assert message in page
    assert len(table_or_empty(page)) in (0, 30)


def table_or_empty(page: str) -> list[list[str]]:
    return [] if "No sign-ins in this period." in page else table(page, "signins")


def test_a_month_and_its_csv(two_tenants, make_client) -> None:
    a, b = two_tenants.a, two_tenants.b
    with time_machine.travel(dt.datetime(2026, 12, 1, 9, 0, tzinfo=dt.UTC), tick=False):
        november = [dt.datetime(2026, 11, d, 8, 0, tzinfo=dt.UTC) for d in (1, 1, 15, 30)]
        sign_ins(a.tenant, a.member, november)
        sign_ins(a.tenant, a.member, [dt.datetime(2026, 10, 31, 23, 0, tzinfo=dt.UTC)])  # October
        sign_ins(b.tenant, b.member, november)
        client = sign_in(make_client(), a.owner)
        page = body(client.get(f"{URL}?month=2026-11"))
        rows = table(page, "signins")
        assert len(rows) == 30 and rows[0][0] == "2026-11-01" and rows[0][1] == "2"
        assert sum(int(r[1]) for r in rows) == 4
        response = client.get(f"{CSV_URL}?month=2026-11")
        assert response.status_code == 200
        assert response["Content-Disposition"] == 'attachment; filename="acme-report-2026-11.csv"'
        lines = list(csv.DictReader(io.StringIO(response.content.decode())))
        outcome_rows = [(r["day_utc"], r["count"]) for r in lines
                        if r["metric"] == "signins.outcome"]
        assert outcome_rows == [("2026-11-01", "2"), ("2026-11-15", "1"), ("2026-11-30", "1")]
        event = ExportEvent.objects.for_tenant(a.tenant).get()
        assert (event.user, event.dataset, event.format, event.filters, event.status,
                event.row_count) == (a.owner, "report_month", "csv", {"month": "2026-11"},
                                     "completed", len(lines))
        assert event.byte_count == len(response.content)
        export_log = body(client.get("/logs/exports/"))
        assert "report_month" in export_log and "Month: 2026-11" in export_log
        # A month that does not exist (or is in the future) is refused, and nothing is recorded.
        for bad in ("2026-13", "2027-01", "", "nope"):
            refused = client.get(f"{CSV_URL}?month={bad}")
            assert refused.status_code == 400 and "Nothing was downloaded" in body(refused)
        assert ExportEvent.objects.for_tenant(a.tenant).count() == 1


def test_a_csv_cell_that_looks_like_a_formula_is_neutralised(two_tenants, make_client) -> None:
    a = two_tenants.a
    day = timezone.now() - dt.timedelta(days=1)
    event = LoginEvent.objects.create(tenant=a.tenant, user=a.member, attempted_login="x",
                                      occurred_at=day, outcome=Outcome.FAILURE,
                                      reason=Reason.BAD_CREDENTIALS, ip="203.0.113.1",
                                      browser_family="=HYPERLINK(\"x\")")
    month = event.occurred_at.astimezone(dt.UTC).strftime("%Y-%m")
    text = sign_in(make_client(), a.owner).get(f"{CSV_URL}?month={month}").content.decode()
    assert "'=HYPERLINK" in text or "\t=HYPERLINK" in text
    assert "\n=HYPERLINK" not in text and ",=HYPERLINK" not in text


def test_the_numbers_are_the_same_before_and_after_the_sweep(two_tenants, make_client) -> None:
    a, b = two_tenants.a, two_tenants.b
    now = timezone.now()
    old = now - dt.timedelta(days=200)
    sign_ins(a.tenant, a.member, [old] * 5, mfa=MfaMethod.TOTP)
    sign_ins(a.tenant, a.member, [old] * 2, outcome=Outcome.FAILURE, reason=Reason.BAD_CREDENTIALS,
             country="CN")
    exports(a.tenant, a.admin, [old], rows=9)
    sign_ins(b.tenant, b.member, [old] * 3)
    month = old.astimezone(dt.UTC).strftime("%Y-%m")
    client = sign_in(make_client(), a.auditor)
    before = body(client.get(f"{URL}?month={month}"))
    csv_before = client.get(f"{CSV_URL}?month={month}").content
    slugs = ("signins", "reasons", "countries", "browsers", "os", "devices", "mfa", "exports")
    tables_before = {slug: table(before, slug) for slug in slugs}
    assert sum(int(r[1]) for r in tables_before["signins"]) == 5

    retention_sweep()
    assert not LoginEvent.objects.for_tenant(a.tenant).filter(occurred_at__lt=now
                                                              - dt.timedelta(days=181)).exists()
    after = body(client.get(f"{URL}?month={month}"))
    assert {slug: table(after, slug) for slug in slugs} == tables_before
    assert client.get(f"{CSV_URL}?month={month}").content == csv_before
    assert 'data-testid="rolled-up-note"' in after
    # And the receipt on the retention page says what went.
    receipt = body(client.get("/retention/"))
    assert re.search(r"Last sweep: .*?, \d+ rows removed, 0 kept by holds", receipt)


def test_dashboard_chart_for_readers_of_reports_only(two_tenants, make_client, seeded) -> None:
    a = two_tenants.a
    for role in ("owner", "admin", "auditor"):
        page = body(sign_in(make_client(), a.by_role(role)).get("/dashboard/?period=7d"))
        rows = {row[0]: row[1:] for row in table(page, "signins")}
        assert len(rows) == 7 and rows[seeded.isoformat()] == ["6", "3", "0"]
        assert 'data-testid="reports-link"' in page and 'href="/retention/reports/"' in page
    helpdesk = body(sign_in(make_client(), a.helpdesk).get("/dashboard/"))
    assert 'data-testid="chart-signins"' not in helpdesk


def test_dashboard_chart_reads_rolled_up_days_too(two_tenants, make_client) -> None:
    """The dashboard's week counts a rolled-up day from its rollup, as the reports do."""
    a = two_tenants.a
    today = timezone.now().astimezone(dt.UTC).date()
    day = today - dt.timedelta(days=2)
    at = dt.datetime.combine(day, dt.time(10), tzinfo=dt.UTC)
    sign_ins(a.tenant, a.member, [at] * 3)  # still stored, but the day is rolled up below
    RolledUpDay.objects.create(tenant=a.tenant, day=day, login_events=3)
    DailyActivity.objects.create(tenant=a.tenant, day=day,
                                 counts={Metric.SIGNINS_BY_OUTCOME: {Outcome.SUCCESS: 3}})
    sign_ins(a.tenant, a.member, [at + dt.timedelta(days=1)] * 2)  # a live day
    page = body(sign_in(make_client(), a.owner).get("/dashboard/?period=7d"))
    rows = {row[0]: row[1:] for row in table(page, "signins")}
    assert rows[day.isoformat()] == ["3", "0", "0"]  # not 6
    assert rows[(day + dt.timedelta(days=1)).isoformat()] == ["2", "0", "0"]
