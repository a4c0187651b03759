"""The dashboard's sign-ins by protocol: web, IMAP, POP3 and SMTP submission over its window, each
row opening the sign-in log filtered by that protocol (and that window)."""

from __future__ import annotations

import datetime as dt
import re
from html import unescape

import pytest
from django.utils import timezone

from activity.models import LoginEvent, Outcome, Reason
from activity.services import login_event_build, login_events_record
from tests.retention.support import client as client_info

pytestmark = pytest.mark.django_db


def _events(tenant, person, protocol: str, hours_ago: list[float], *, outcome: str = Outcome.SUCCESS) -> None:
    now = timezone.now()
    login_events_record(tenant=tenant, events=[
        login_event_build(tenant=tenant, user=person, attempted_login=person.email, client=client_info(),
                          outcome=outcome, reason="" if outcome != Outcome.FAILURE else Reason.BAD_CREDENTIALS,
                          protocol=protocol, occurred_at=now - dt.timedelta(hours=h))
        for h in hours_ago])


def _table(html: str) -> dict[str, tuple[str, str]]:
    """The protocol chart's table: protocol label → (its row's link, attempts)."""
    table = html.split('data-testid="table-protocols"')[1].split("</table>")[0]
    return {label: (unescape(href), count) for href, label, count in re.findall(
        r'<th scope="row"><a href="([^"]+)">([^<]+)</a></th><td class="num">(\d+)</td>', table)}


def test_the_dashboard_counts_sign_ins_by_protocol_and_links_each_to_the_filtered_log(two_tenants, signed_in):
    a, b = two_tenants.a, two_tenants.b
    _events(a.tenant, a.member, "imap", [1, 2, 3])
    _events(a.tenant, a.member, "imap", [4], outcome=Outcome.FAILURE)
    _events(a.tenant, a.member, "pop3", [5])
    _events(a.tenant, a.member, "imap", [30])  # before the 24 hours
    _events(a.tenant, a.member, "web", [2], outcome=Outcome.SIGNOUT)  # a sign-out is no sign-in
    _events(b.tenant, b.member, "submission", [1, 1])  # Globex
    client = signed_in(a.admin)  # one web sign-in now
    html = client.get("/dashboard/").content.decode()
    assert 'data-testid="chart-protocols"' in html and "Sign-ins by protocol" in html
    rows = _table(html)
    assert {label: count for label, (_link, count) in rows.items()} == {
        "Web": "1", "IMAP": "4", "POP3": "1", "SMTP submission": "0"}
    link = rows["IMAP"][0]
    assert link.startswith("/logs/signins/?") and "protocol=imap" in link and "since=" in link
    log = client.get(link).content.decode()
    assert log.count('data-testid="signin-row"') == 4  # the window's four, not the one at 30 hours
    assert client.get(rows["SMTP submission"][0]).content.decode().count('data-testid="signin-row"') == 0
    # Seven days: the 30-hour-old attempt counts too.
    week = _table(client.get("/dashboard/?period=7d").content.decode())
    assert week["IMAP"][1] == "5" and "protocol=imap" in week["IMAP"][0] and "from=" in week["IMAP"][0]


def test_with_no_sign_ins_in_the_window_the_protocol_figure_says_so(two_tenants, signed_in):
    client = signed_in(two_tenants.a.owner)
    LoginEvent.objects.for_tenant(two_tenants.a.tenant).delete()
    html = client.get("/dashboard/").content.decode()
    section = html.split('data-testid="chart-protocols"')[1].split("</section>")[0]
    assert "No sign-in attempts in this period." in section
