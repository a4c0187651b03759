"""The dashboards by role: what each role sees, that every figure links to its rows, and that
another tenant's record never shows."""

from __future__ import annotations

import datetime as dt
import re
from html import unescape
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from activity.models import Outcome, Reason
from alerts.models import Alert, AlertStatus, ModeChoices, SeverityChoices
from alerts.selectors import REPORT_RULE
from people.services import person_mfa_reset
from tests.retention.support import sign_ins

pytestmark = pytest.mark.django_db


def page(client, path: str = "/dashboard/") -> str:
    response = client.get(path)
    assert response.status_code == 200
    return response.content.decode()


def figure(html: str, testid: str) -> tuple[str, str]:
    """(link, value) of a figure."""
    match = re.search(rf'<a class="figure" href="([^"]+)" data-testid="{testid}">([^<]*)</a>', html)
    assert match, f"no figure {testid}"
    return match.group(1).replace("&amp;", "&"), match.group(2)


def test_admin_overview_counts_the_last_24_hours_and_links_each_figure(two_tenants, signed_in):
    a, b = two_tenants.a, two_tenants.b
    now = timezone.now()
    sign_ins(a.tenant, a.member, [now - dt.timedelta(hours=h) for h in (1, 2, 3)])
    sign_ins(a.tenant, a.member, [now - dt.timedelta(hours=2)] * 4, outcome=Outcome.FAILURE,
             reason=Reason.BAD_CREDENTIALS, country="CN")
    sign_ins(a.tenant, a.member, [now - dt.timedelta(hours=50)], outcome=Outcome.FAILURE,
             reason=Reason.BAD_CREDENTIALS)  # before the window (and before its first day)
    sign_ins(b.tenant, b.member, [now - dt.timedelta(hours=1)] * 7, outcome=Outcome.FAILURE,
             reason=Reason.BAD_CREDENTIALS)  # Globex
    html = page(signed_in(a.admin))

    link, value = figure(html, "signins-failure")
    assert value == "4"
    # the exact 24 hours counted, not the whole days they touch
    assert link.startswith("/logs/signins/?") and "outcome=failure" in link and "since=" in link
    # the admin's own sign-in just now, plus the member's three
    assert figure(html, "signins-success")[1] == "4"
    # failure reasons and countries, each row a link to those sign-ins
    assert 'data-testid="chart-reasons"' in html and "Wrong password" in html
    assert "reason=bad_credentials" in html
    assert "country=CN" in html
    assert "globex" not in html.lower()
    # the figure's link lists what it counts, and not the failure 50 hours ago
    log = page(signed_in(a.admin), link)
    assert log.count('data-testid="signin-row"') == 4


def _hour_links(html: str) -> dict[str, str]:
    """The 24-hour chart's table: hour label → the link of its row."""
    table = html.split('data-testid="table-signins"')[1].split("</table>")[0]
    return {label: unescape(href) for href, label in
            re.findall(r'<th scope="row"><a href="([^"]+)">([^<]+)</a></th>', table)}


def test_each_hour_of_the_24_hour_chart_opens_exactly_that_hours_sign_ins(two_tenants, signed_in):
    a, b = two_tenants.a, two_tenants.b
    a.tenant.timezone = "Asia/Kolkata"  # a half-hour offset: local hours are not UTC hours
    a.tenant.save()
    zone = ZoneInfo("Asia/Kolkata")
    hour = (timezone.now().astimezone(zone) - dt.timedelta(hours=3)).replace(
        minute=0, second=0, microsecond=0)
    inside = [hour, hour + dt.timedelta(minutes=30), hour + dt.timedelta(minutes=59, seconds=59)]
    sign_ins(a.tenant, a.member, inside, outcome=Outcome.FAILURE, reason=Reason.BAD_CREDENTIALS)
    sign_ins(a.tenant, a.member, [hour - dt.timedelta(seconds=1), hour + dt.timedelta(hours=1)],
             outcome=Outcome.FAILURE, reason=Reason.BAD_CREDENTIALS)  # the hours either side
    sign_ins(b.tenant, b.member, [hour + dt.timedelta(minutes=10)] * 3)  # Globex
    client = signed_in(a.admin)
    links = _hour_links(page(client))
    assert len(links) == 24
    link = links[hour.strftime("%m-%d %H:00")]
    assert link.startswith("/logs/signins/?") and "since=" in link and "until=" in link
    log = page(client, link)
    assert log.count('data-testid="signin-row"') == 3
    assert "globex" not in log.lower()
    # the hour's chip reads in the tenant's clock
    assert f"Only {hour:%Y-%m-%d %H:%M} to {hour + dt.timedelta(hours=1):%Y-%m-%d %H:%M}" in log
    # and the hour after it has its own row, exactly one
    after = page(client, links[(hour + dt.timedelta(hours=1)).strftime("%m-%d %H:00")])
    assert after.count('data-testid="signin-row"') == 1


def _more(html: str, slug: str) -> str:
    match = re.search(rf'<a href="([^"]+)" data-testid="chart-{slug}-more">', html)
    assert match, f"no link under the chart {slug}"
    return unescape(match.group(1))


def test_each_chart_links_to_the_log_of_what_it_counted(two_tenants, signed_in):
    a, b = two_tenants.a, two_tenants.b
    now = timezone.now()
    sign_ins(a.tenant, a.member, [now - dt.timedelta(hours=h) for h in (1, 5, 20)],
             outcome=Outcome.FAILURE, reason=Reason.BAD_CREDENTIALS)
    sign_ins(a.tenant, a.member, [now - dt.timedelta(hours=30)],
             outcome=Outcome.FAILURE, reason=Reason.BAD_CREDENTIALS)  # before the 24 hours
    sign_ins(b.tenant, b.member, [now - dt.timedelta(hours=1)] * 5)  # Globex
    client = signed_in(a.admin)
    html = page(client)
    for slug in ("signins", "reasons", "countries"):
        log = page(client, _more(html, slug))
        # the member's three failures in the window and the admin's sign-in just now
        assert log.count('data-testid="signin-row"') == 4, slug
        assert "globex" not in log.lower()
    week = page(client, "/dashboard/?period=7d")
    assert page(client, _more(week, "signins")).count('data-testid="signin-row"') == 5


def test_period_switch_counts_seven_days(two_tenants, signed_in):
    a = two_tenants.a
    now = timezone.now()
    sign_ins(a.tenant, a.member, [now - dt.timedelta(days=d) for d in (2, 3, 5)],
             outcome=Outcome.FAILURE, reason=Reason.BAD_CREDENTIALS)
    client = signed_in(a.owner)
    assert figure(page(client), "signins-failure")[1] == "0"
    html = page(client, "/dashboard/?period=7d")
    assert figure(html, "signins-failure")[1] == "3"
    assert 'aria-current="true" class="selected">Last 7 days' in html
    # an unknown period is the default, not an error
    assert figure(page(client, "/dashboard/?period=1y"), "signins-failure")[1] == "0"


def test_two_step_adoption_names_who_lacks_it(two_tenants, signed_in):
    a = two_tenants.a
    html = page(signed_in(a.owner))
    link, value = figure(html, "mfa-enrolled")
    assert value.startswith("0/5")
    assert "mfa=none" in link
    lacking = html.split('data-testid="lacking-mfa"')[1].split("</section>")[0]
    for person in (a.owner, a.admin, a.auditor, a.helpdesk, a.member):
        assert person.email in lacking
    assert "5 active people have not set up two-step sign-in." in lacking


def test_open_alerts_by_severity_link_to_the_filtered_list(two_tenants, signed_in):
    a = two_tenants.a
    now = timezone.now()
    for n in range(2):
        Alert.objects.create(tenant=a.tenant, rule="brute_force", severity=SeverityChoices.HIGH,
                             status=AlertStatus.OPEN, mode=ModeChoices.ALERT, user=a.member,
                             dedup_key=f"k{n}", first_seen=now, last_seen=now, count=1)
    link, value = figure(page(signed_in(a.admin)), "alerts-high")
    assert value == "2"
    assert link == "/alerts/?severity=high"


def test_auditor_sees_the_overview_with_exports_but_no_actions(two_tenants, signed_in):
    a = two_tenants.a
    html = page(signed_in(a.auditor), "/dashboard/?period=30d")
    assert 'data-testid="chart-exports"' in html
    assert 'data-testid="recent-audit"' in html
    assert "/unlock/" not in html
    assert 'data-testid="helpdesk-locked"' not in html


def test_helpdesk_dashboard_lists_resets_and_reports(two_tenants, signed_in):
    a = two_tenants.a
    now = timezone.now()
    person_mfa_reset(tenant=a.tenant, actor=a.admin, person=a.member)
    Alert.objects.create(tenant=a.tenant, rule=REPORT_RULE, severity=SeverityChoices.HIGH,
                         status=AlertStatus.OPEN, mode=ModeChoices.ALERT, user=a.member,
                         dedup_key="report", first_seen=now, last_seen=now, count=1)
    html = page(signed_in(a.helpdesk))
    resets = html.split('data-testid="helpdesk-mfa-resets"')[1].split("</section>")[0]
    assert str(a.member) in resets and "by " in resets
    reported = html.split('data-testid="helpdesk-reported"')[1].split("</section>")[0]
    assert str(a.member) in reported
    assert 'data-testid="helpdesk-locked"' in html and "Nobody is locked out." in html
    # the helpdesk has no log access: no security overview
    assert 'data-testid="figures"' not in html


def test_member_has_no_dashboard(two_tenants, signed_in):
    assert signed_in(two_tenants.a.member).get("/dashboard/").status_code == 403


def test_recent_changes_read_as_the_audit_trail_one_line_per_action(two_tenants, signed_in):
    a = two_tenants.a
    client = signed_in(a.admin)
    response = client.post("/people/invite/", {"email": "rita.recent@acme.example",
                                               "display_name": "Rita Recent", "role": "member"})
    assert response.status_code == 302
    html = page(client)
    recent = html.split('data-testid="recent-audit"')[1].split("</section>")[0]
    lines = [unescape(s) for s in re.findall(r'data-testid="recent-audit-sentence">([^<]*)<', recent)]
    assert lines.count(f"{a.admin} invited Rita Recent as Member") == 1
    assert not any("sent an invitation" in line for line in lines)
