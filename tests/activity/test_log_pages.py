"""The log pages: who may read them, what they show, tenant isolation, query counts, bad input."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core import signing
from django.db import connection
from django.http import HttpResponse
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import NoReverseMatch, path, reverse

from accounts.models import User
from activity.capture.types import DeviceType
from activity.keyset import cursor_encode
from activity.models import (
    AuditLogEntry,
    ExportEvent,
    LoginEvent,
    MfaMethod,
    Outcome,
    Protocol,
    Reason,
)
from activity.services import login_event_record
from mailadmin.urls import urlpatterns as project_urls
from tenants.access import requires
from tenants.models import Tenant
from tenants.roles import Cap, Role
from tests.activity.test_log_support import PHONE, export, login, logins_bulk, recent
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db

CONSOLE_PAGES = {  # url → capability
    "/logs/signins/": Cap.LOGS_VIEW,
    "/logs/exports/": Cap.LOGS_VIEW,
    "/logs/audit/": Cap.AUDIT_VIEW,
}
OWN_PAGES = ["/me/signins/", "/me/exports/"]
READERS = [Role.OWNER, Role.ADMIN, Role.AUDITOR]
NON_READERS = [Role.HELPDESK, Role.MEMBER]


@requires(Cap.LOGS_EXPORT)
def _fake_export(request):  # stands in for the streaming export module's view
    return HttpResponse("export")


# The export links render only when the export URL names exist; this URLconf makes sure they do,
# whatever state the streaming export module is in.
urlpatterns = [
    *project_urls,
    path("test-exports/signins/", _fake_export, name="signin_log_export"),
    path("test-exports/exports/", _fake_export, name="export_log_export"),
    path("test-exports/audit/", _fake_export, name="audit_trail_export"),
    path("test-exports/me/signins/", _fake_export, name="my_signins_export"),
]


def sign_in(client, user: User):
    # Through the real sign-in: the session middleware ends sessions it did not see start. The
    # sign-in records its own LoginEvent; it is removed so each test sees only the rows it made.
    last = LoginEvent.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    response = client.post("/signin/", {"email": user.email, "password": PASSWORD})
    assert response.status_code == 302, response.content[:300]
    LoginEvent.objects.filter(pk__gt=last, user=user).delete()
    return client


def body(response) -> str:
    return response.content.decode()


def link(response, testid: str) -> str | None:
    match = re.search(rf'href="([^"]*)"[^>]*data-testid="{testid}"', body(response))
    return html.unescape(match.group(1)) if match else None


def row_ids(response, testid: str = "signin-row") -> list[int]:
    return [int(pk) for pk in re.findall(rf'data-testid="{testid}" data-(?:event|entry)="(\d+)"',
                                         body(response))]


@pytest.fixture
def globex_rows(two_tenants):
    """Rows of the other tenant that must never show on Acme's pages."""
    b = two_tenants.b
    rows = [login(b.tenant, user=b.member, address="member@globex.example", ip="198.51.100.99"),
            login(b.tenant, address="spy@globex.example", outcome=Outcome.FAILURE,
                  reason=Reason.UNKNOWN_ACCOUNT, ip="198.51.100.99")]
    export(b.tenant, b.admin, dataset="globex-dataset")
    return rows


# --- Who may read ---------------------------------------------------------------------------------


@pytest.mark.parametrize("role", Role.values)
def test_access_by_role(two_tenants, make_client, role) -> None:
    client = sign_in(make_client(), two_tenants.a.by_role(role))
    from tenants.roles import role_has
    for url, cap in CONSOLE_PAGES.items():
        assert client.get(url).status_code == (200 if role_has(role, cap) else 403), (role, url)
    person_url = f"/people/{two_tenants.a.member.pk}/signins/"
    assert client.get(person_url).status_code == (200 if role in READERS else 403)
    event = login(two_tenants.a.tenant, user=two_tenants.a.member)
    assert client.get(f"/logs/signins/{event.pk}/").status_code == (200 if role in READERS else 403)
    for url in OWN_PAGES:
        assert client.get(url).status_code == 200, (role, url)


def test_anonymous_is_sent_to_sign_in(client) -> None:
    for url in [*CONSOLE_PAGES, *OWN_PAGES, "/logs/signins/1/", "/people/1/signins/"]:
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith("/signin/"), url


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
def test_auditor_reads_but_every_write_method_is_refused(two_tenants, make_client, method) -> None:
    client = sign_in(make_client(), two_tenants.a.auditor)
    event = login(two_tenants.a.tenant, user=two_tenants.a.member)
    before = (LoginEvent.objects.count(), ExportEvent.objects.count(), AuditLogEntry.objects.count())
    for url in [*CONSOLE_PAGES, *OWN_PAGES, f"/logs/signins/{event.pk}/",
                f"/people/{two_tenants.a.member.pk}/signins/"]:
        assert getattr(client, method)(url).status_code in (403, 405), (method, url)
    assert before == (LoginEvent.objects.count(), ExportEvent.objects.count(),
                      AuditLogEntry.objects.count())


def test_head_is_allowed(two_tenants, make_client) -> None:
    client = sign_in(make_client(), two_tenants.a.auditor)
    assert client.head("/logs/signins/").status_code == 200


# --- Sign-in log -------------------------------------------------------------------------------


def test_signin_log_lists_newest_first_in_the_tenant_time_zone(two_tenants, make_client,
                                                               globex_rows) -> None:
    a = two_tenants.a
    Tenant.objects.filter(pk=a.tenant.pk).update(timezone="Asia/Shanghai")
    a.auditor.refresh_from_db()
    User.objects.filter(pk=a.auditor.pk).update(timezone="Europe/London")  # not used here
    at = datetime.now(UTC).replace(hour=16, minute=30, second=5, microsecond=0) - timedelta(days=2)
    older = login(a.tenant, user=a.member, at=at - timedelta(hours=1))
    event = login(a.tenant, user=a.admin, at=at, client=PHONE, outcome=Outcome.FAILURE,
                  reason=Reason.BAD_CREDENTIALS)
    client = sign_in(make_client(), a.auditor)
    response = client.get("/logs/signins/")
    assert response.status_code == 200
    assert row_ids(response) == [event.pk, older.pk]
    page = body(response)
    shanghai = (at + timedelta(hours=8)).strftime("%Y-%m-%d %H:%M:%S")
    assert shanghai in page and shanghai.endswith("00:30:05")
    assert "Asia/Shanghai" in page
    for text in ["223.5.5.5", "CN", "Mobile Safari 17.5", "iOS 17.5", "Mobile", "Failure",
                 "Wrong password", "2 entries"]:
        assert text in page, text
    assert "globex" not in page.lower() and "198.51.100.99" not in page


def test_filters_apply_and_errors_show(two_tenants, make_client) -> None:
    a = two_tenants.a
    cn_fail = login(a.tenant, user=a.member, client=PHONE, outcome=Outcome.FAILURE,
                    reason=Reason.BAD_CREDENTIALS)
    login(a.tenant, user=a.member)
    client = sign_in(make_client(), a.admin)
    response = client.get("/logs/signins/?outcome=failure&country=CN&ip=not-an-ip&from=2026-02-30")
    assert row_ids(response) == [cn_fail.pk]
    errors = re.search(r'data-testid="filter-errors">(.*?)</div>', body(response), re.S).group(1)
    assert "not-an-ip" in errors and "From" in errors
    assert 'value="not-an-ip"' not in body(response)  # a refused value is not echoed as applied


@override_settings(ROOT_URLCONF=__name__)
def test_pager_links_keep_the_filters_and_walk_every_row(two_tenants, make_client) -> None:
    a = two_tenants.a
    logins_bulk(a.tenant, 25, user=a.member)
    login(a.tenant, user=a.member, outcome=Outcome.SUCCESS)  # filtered out below
    client = sign_in(make_client(), a.auditor)
    url = "/logs/signins/?outcome=failure&size=10"
    seen: list[int] = []
    pages = 0
    while url:
        response = client.get(url if url.startswith("/") else "/logs/signins/" + url)
        seen.extend(row_ids(response))
        pages += 1
        url = link(response, "page-older")
        if url:
            assert "outcome=failure" in url and "size=10" in url
    assert pages == 3 and len(seen) == len(set(seen)) == 25
    newer = link(response, "page-newer")
    assert newer and "outcome=failure" in newer
    back = client.get("/logs/signins/" + newer)
    assert len(row_ids(back)) == 10


@override_settings(ROOT_URLCONF=__name__)
def test_export_links_carry_the_filters_for_roles_that_may_export(two_tenants, make_client) -> None:
    client = sign_in(make_client(), two_tenants.a.auditor)
    response = client.get("/logs/signins/?outcome=failure&country=CN&ip=bogus&size=25")
    export_area = re.search(r'data-testid="export-links">(.*?)</div>', body(response), re.S).group(1)
    hrefs = [html.unescape(h) for h in re.findall(r'href="([^"]+)"', export_area)]
    base = reverse("signin_log_export")
    assert hrefs == [  # the applied filters only: no refused value, no page size or cursor
        f"{base}?country=CN&outcome=failure&format=csv",
        f"{base}?country=CN&outcome=failure&format=csv&bom=1",
        f"{base}?country=CN&outcome=failure&format=jsonl",
    ]
    assert 'data-testid="export-links"' in body(client.get("/logs/audit/"))
    member = sign_in(make_client(), two_tenants.a.member)
    own = body(member.get("/me/signins/?outcome=success"))
    assert f"{reverse('my_signins_export')}?outcome=success&amp;format=csv" in own
    assert "person=" not in own.split('data-testid="export-links"')[1].split("</div>")[0]


def test_no_export_links_without_the_export_urls(two_tenants, make_client) -> None:
    client = sign_in(make_client(), two_tenants.a.auditor)
    try:
        reverse("signin_log_export")
    except NoReverseMatch:
        assert 'data-testid="export-links"' not in body(client.get("/logs/signins/"))
    else:
        assert 'data-testid="export-links"' in body(client.get("/logs/signins/"))


def test_detail_shows_every_field_escaped(two_tenants, make_client, globex_rows) -> None:
    a = two_tenants.a
    hostile = '<script>alert("x")</script> Mozilla/5.0'
    event = login(a.tenant, user=a.member, user_agent=hostile, browser_family="Chrome",
                  browser_version="126.0.0", os_family="Windows", os_version="10")
    client = sign_in(make_client(), a.auditor)
    response = client.get(f"/logs/signins/{event.pk}/")
    page = body(response)
    assert response.status_code == 200
    assert "<script>alert" not in page
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; Mozilla/5.0" in page
    for text in [event.ip, "Chrome", "126.0.0", "Windows", event.session_ref, a.member.email,
                 "Password verified", "password_ok"]:
        assert text in page, text
    assert f'href="/logs/signins/?ip={event.ip}"' in page
    assert f'href="/people/{a.member.pk}/signins/"' in page
    other = globex_rows[0]
    assert client.get(f"/logs/signins/{other.pk}/").status_code == 404
    assert client.get("/logs/signins/999999999/").status_code == 404


def test_per_person_view(two_tenants, make_client, globex_rows) -> None:
    a, b = two_tenants.a, two_tenants.b
    mine = login(a.tenant, user=a.member)
    login(a.tenant, user=a.admin)
    client = sign_in(make_client(), a.admin)
    response = client.get(f"/people/{a.member.pk}/signins/?person={a.admin.pk}")
    assert row_ids(response) == [mine.pk]  # the URL's person wins over ?person=
    assert a.member.email in body(response)
    assert client.get(f"/people/{b.member.pk}/signins/").status_code == 404


def test_person_filter_names_the_person(two_tenants, make_client) -> None:
    a, b = two_tenants.a, two_tenants.b
    client = sign_in(make_client(), a.admin)
    chip = re.search(r'data-testid="person-filter">(.*?)</p>',
                     body(client.get(f"/logs/signins/?person={a.member.pk}")), re.S).group(1)
    assert str(a.member) in chip
    other = body(client.get(f"/logs/signins/?person={b.member.pk}"))
    assert str(b.member) not in other and b.member.email not in other


# --- Export log and audit trail -------------------------------------------------------------------


def test_export_log_shows_who_what_and_whether_it_finished(two_tenants, make_client,
                                                          globex_rows) -> None:
    a = two_tenants.a
    done = export(a.tenant, a.auditor, filters={"outcome": "failure", "country": "CN"}, rows=1234)
    broken = export(a.tenant, a.admin, dataset="audit", fmt="jsonl", complete=False)
    running = export(a.tenant, a.admin, complete=None)
    client = sign_in(make_client(), a.owner)
    response = client.get("/logs/exports/")
    page = body(response)
    assert row_ids(response, "export-row") == [running.pk, broken.pk, done.pk]
    for text in ["Outcome: Failure", "Country: CN", "1234", "Completed", "Incomplete", "Started",
                 "jsonl", "Chrome", "Windows", str(a.auditor)]:
        assert text in page, text
    assert "globex" not in page.lower()
    only_broken = client.get("/logs/exports/?status=incomplete")
    assert row_ids(only_broken, "export-row") == [broken.pk]


def test_audit_trail_shows_changes_and_is_isolated(two_tenants, make_client) -> None:
    a, b = two_tenants.a, two_tenants.b
    entry = AuditLogEntry.objects.log_create(
        a.member, force_log=True, action=AuditLogEntry.Action.UPDATE, actor=a.admin,
        changes={"role": ["member", "helpdesk"], "display_name": ["Old", "New <b>"]},
        remote_addr="192.0.2.33",
    )
    AuditLogEntry.objects.log_create(b.member, force_log=True, action=AuditLogEntry.Action.UPDATE,
                                     actor=b.admin, changes={"display_name": ["X", "Globex"]})
    client = sign_in(make_client(), a.auditor)
    response = client.get(f"/logs/audit/?actor={a.admin.pk}&type=accounts.user")
    assert row_ids(response, "audit-row") == [entry.pk]
    page = body(response)
    assert "Member</span> → <span class=\"new\">Helpdesk" in page
    assert "New &lt;b&gt;" in page and "192.0.2.33" in page and str(a.admin) in page
    everything = body(client.get("/logs/audit/"))
    assert "globex" not in everything.lower()
    assert client.get(f"/logs/audit/?actor={b.admin.pk}").status_code == 200
    assert row_ids(client.get(f"/logs/audit/?actor={b.admin.pk}"), "audit-row") == []


# --- Own history ----------------------------------------------------------------------------------


def test_my_signins_are_mine_only_in_my_time_zone(two_tenants, make_client, globex_rows) -> None:
    a = two_tenants.a
    User.objects.filter(pk=a.member.pk).update(timezone="America/New_York")
    at = datetime.now(UTC).replace(hour=3, minute=15, second=0, microsecond=0) - timedelta(days=1)
    mine = login(a.tenant, user=a.member, at=at)
    login(a.tenant, user=a.admin)
    login(a.tenant, address=a.member.email, outcome=Outcome.FAILURE, reason=Reason.BAD_CREDENTIALS)
    client = sign_in(make_client(), User.objects.get(pk=a.member.pk))
    response = client.get(f"/me/signins/?person={a.admin.pk}")
    assert row_ids(response) == [mine.pk]
    from zoneinfo import ZoneInfo
    local = at.astimezone(ZoneInfo("America/New_York")).strftime("%Y-%m-%d %H:%M:%S")
    assert local in body(response) and "America/New_York" in body(response)
    assert "Each row is one attempt" in body(response)
    assert client.get("/logs/signins/").status_code == 403


def test_my_exports_are_mine_only(two_tenants, make_client, globex_rows) -> None:
    a = two_tenants.a
    mine = export(a.tenant, a.auditor)
    export(a.tenant, a.admin)
    client = sign_in(make_client(), a.auditor)
    response = client.get(f"/me/exports/?person={a.admin.pk}")
    assert row_ids(response, "export-row") == [mine.pk]
    assert "globex" not in body(response).lower()


@time_machine.travel(datetime(2026, 6, 1, 12, 0, tzinfo=UTC), tick=False)
def test_own_history_is_the_visible_window(two_tenants, make_client) -> None:
    a = two_tenants.a
    login(a.tenant, user=a.member, at=datetime(2026, 3, 2, 11, 0, tzinfo=UTC))  # 91 days ago
    recent_one = login(a.tenant, user=a.member, at=datetime(2026, 3, 4, 0, 0, tzinfo=UTC))
    client = sign_in(make_client(), a.member)
    assert row_ids(client.get("/me/signins/?from=2026-01-01")) == [recent_one.pk]


# --- Query counts -------------------------------------------------------------------------------


def _audit_bulk(tenant: Tenant, actor: User, n: int) -> None:
    from django.contrib.contenttypes.models import ContentType
    user_type = ContentType.objects.get_for_model(User)
    AuditLogEntry.objects.bulk_create([
        AuditLogEntry(tenant=tenant, actor=actor, content_type=user_type, object_pk=str(actor.pk),
                      object_id=actor.pk, object_repr=f"person {i}",
                      action=AuditLogEntry.Action.UPDATE, changes={"role": ["member", "admin"]},
                      timestamp=recent(minutes=i))
        for i in range(n)
    ])


@override_settings(ROOT_URLCONF=__name__)
@pytest.mark.parametrize("url", ["/logs/signins/", "/logs/exports/", "/logs/audit/",
                                 "/me/signins/", "/me/exports/", "PERSON"])
def test_query_count_does_not_grow_with_page_size(two_tenants, make_client, url) -> None:
    a = two_tenants.a
    users = [a.owner, a.admin, a.auditor, a.member]
    for i in range(120):  # different people, so a lazy person lookup would show as N queries
        login(a.tenant, user=users[i % 4], at=recent(minutes=i + 1))
    for i in range(110):
        export(a.tenant, a.auditor if i % 2 else a.owner, at=recent(minutes=i + 1),
               filters={"outcome": "failure"})
    _audit_bulk(a.tenant, a.admin, 60)
    # more than the largest page about the owner, whom the person filter below names: both
    # sizes then show a partial page (and its count)
    _audit_bulk(a.tenant, a.owner, 120)
    if url == "PERSON":
        url = f"/people/{a.owner.pk}/signins/"
    client = sign_in(make_client(), a.owner)
    client.get(f"{url}?person={a.owner.pk}")  # warm caches (content types, session)
    counts = {}
    for size in (10, 100):
        with CaptureQueriesContext(connection) as queries:
            response = client.get(f"{url}?size={size}&person={a.owner.pk}")
        assert response.status_code == 200
        counts[size] = len(queries.captured_queries)
        sqls = " ".join(q["sql"].upper() for q in queries.captured_queries)
        assert "OFFSET" not in sqls
    assert counts[10] == counts[100], counts


# --- Bad input never 500s -------------------------------------------------------------------------

_TAMPERED = signing.dumps(["2026-03-01T00:00:00+00:00", 1, "older"], salt="wrong-salt")
NASTY = [
    "ip=999.1.1.1", "ip=10.0.0.0/99", "ip=2001:db8::/200", "ip=%00", "ip=1.2.3.4%00",
    "ip=" + "1" * 5000, "country=%00", "country=%E4%B8%AD%E5%9B%BD", "from=99999-01-01",
    "from=2026-04-10&to=2026-04-01", "to=0000-00-00", "from=0001-01-01", "to=9999-12-31",
    "from=2026-02-29", "to=2026-13-40", "from=%20&to=%09", "outcome=%27%3B--",
    "reason=%3Cscript%3Ealert(1)%3C/script%3E", "device=%FF%FE", "mfa=none&mfa=totp&mfa=x",
    "person=-1", "person=1e9", "person=99999999999999999999999", "person=%00",
    "address=%00", "address=" + "x" * 10_240, "address=%E7%8E%8B%E5%B0%8F%E6%98%8E",
    "address=%25%5F%5C", "exact=1", "browser=" + "%F0%9F%92%A9" * 40, "os=%0D%0A",
    "size=-1", "size=99999999999", "size=abc", "cursor=garbage", "cursor=" + "A" * 5000,
    "cursor=" + _TAMPERED, "cursor=%00", "cursor=%FF", "type=auth.permission", "actor=abc",
    "action=99", "dataset=../../etc/passwd", "status=%0A", "file_format=%00", "%ZZ=1",
    "a" * 10_240, "ip[]=1&outcome[]=failure", "=&&&==&", "from=2026-03-01T00:00:00",
    "&".join(f"k{i}=v" for i in range(500)),
]


@pytest.mark.parametrize("query", NASTY, ids=range(len(NASTY)))
def test_nasty_query_strings_never_500_nor_leak(two_tenants, make_client, globex_rows, query) -> None:
    a = two_tenants.a
    event = login(a.tenant, user=a.member)
    export(a.tenant, a.admin)
    client = sign_in(make_client(raise_request_exception=True), a.owner)
    for url in [*CONSOLE_PAGES, *OWN_PAGES, f"/people/{a.member.pk}/signins/"]:
        response = client.get(f"{url}?{query}")
        assert response.status_code in (200, 400), (url, query[:80], response.status_code)
        page = body(response).lower()
        assert "globex" not in page and "198.51.100.99" not in page
    response = client.get(f"/logs/signins/{event.pk}/?{query}")
    assert response.status_code in (200, 400)


def test_a_cursor_of_another_dataset_shows_the_first_page_and_a_message(two_tenants,
                                                                        make_client) -> None:
    a = two_tenants.a
    event = login(a.tenant, user=a.member)
    foreign = cursor_encode(ExportEvent, at=recent(), pk=event.pk, direction="older")
    client = sign_in(make_client(), a.owner)
    response = client.get(f"/logs/signins/?cursor={foreign}")
    assert response.status_code == 200 and row_ids(response) == [event.pk]
    assert "That page link is not valid" in body(response)


def test_a_signed_cursor_never_reaches_another_tenant(two_tenants, make_client, globex_rows) -> None:
    a = two_tenants.a
    newest = max(globex_rows, key=lambda e: (e.occurred_at, e.pk))
    cursor = cursor_encode(LoginEvent, at=newest.occurred_at + timedelta(seconds=1), pk=newest.pk + 1,
                           direction="older")
    client = sign_in(make_client(), a.owner)
    page = body(client.get(f"/logs/signins/?cursor={cursor}")).lower()
    assert "globex" not in page


def test_export_link_from_the_page_lands_at_the_top_of_the_export_log(two_tenants,
                                                                     make_client) -> None:
    """The page's link and the streaming export agree on the filters (real URLconf)."""
    a = two_tenants.a
    login(a.tenant, user=a.member, client=PHONE, outcome=Outcome.FAILURE,
          reason=Reason.BAD_CREDENTIALS)
    client = sign_in(make_client(), a.auditor)
    page = client.get("/logs/signins/?outcome=failure&country=CN")
    export_area = re.search(r'data-testid="export-links">(.*?)</div>', body(page), re.S).group(1)
    csv_url = html.unescape(re.findall(r'href="([^"]+)"', export_area)[0])
    response = client.get(csv_url)
    assert response.status_code == 200
    content = b"".join(response.streaming_content)
    assert content.count(b"\n") >= 2 and response.status_code == 200
    recorded = ExportEvent.objects.filter(tenant=a.tenant).latest("occurred_at")
    assert recorded.filters == {"outcome": "failure", "country": "CN"}
    log = client.get("/logs/exports/")
    assert row_ids(log, "export-row")[0] == recorded.pk
    assert "Outcome: Failure" in body(log) and "Country: CN" in body(log)


# --- The sign-in table's rows, rendered in Python ---------------------------------------------------

# The template loop that activity.logs.rows.signin_rows replaced, verbatim.
_SIGNIN_ROWS_TEMPLATE = """{% load tz %}{% timezone display_tz %}{% for e in rows %}
    <tr data-testid="signin-row" data-event="{{ e.pk }}">
      <td class="nowrap"><a href="{% url 'signin_log_detail' e.pk %}">{{ e.occurred_at|date:"Y-m-d H:i:s" }}</a></td>
      <td>{% if e.user %}<a href="?person={{ e.user_id }}">{{ e.user }}</a>{% if e.user.email != e.attempted_login %}<br><span class="muted">{{ e.attempted_login }}</span>{% endif %}{% else %}{{ e.attempted_login|default:"—" }}{% endif %}</td>
      <td class="mono">{{ e.ip }}</td>
      <td>{{ e.country|default:"—" }}</td>
      <td>{{ e.browser_family|default:"—" }} {{ e.browser_version }}</td>
      <td>{{ e.os_family|default:"—" }} {{ e.os_version }}</td>
      <td>{{ e.get_device_type_display }}</td>
      <td><span class="badge outcome-{{ e.outcome }}">{{ e.get_outcome_display }}</span></td>
      <td>{{ e.get_reason_display|default:"—" }}</td>
      <td>{% if e.mfa_method %}{{ e.get_mfa_method_display }}{% else %}—{% endif %}</td>
    </tr>
  {% endfor %}{% endtimezone %}"""


@pytest.mark.parametrize("display_tz", ["Asia/Shanghai", "America/New_York", "UTC", None])
def test_signin_rows_render_exactly_as_the_template_loop_did(two_tenants, display_tz) -> None:
    from django.template import Context, Template

    from activity.filters import LoginEventFilters
    from activity.logs.rows import signin_rows as _signin_rows
    from activity.selectors import login_events_filtered

    a = two_tenants.a
    User.objects.filter(pk=a.admin.pk).update(display_name='Ann <b>"O\'Hara"</b> & co')
    a.admin.refresh_from_db()
    dst = datetime(2026, 3, 8, 6, 59, 59, tzinfo=UTC)  # New York's clocks jump at 07:00 UTC
    login(a.tenant, user=a.admin, at=recent(minutes=1), client=PHONE, mfa=MfaMethod.TOTP,
          reason=Reason.MFA_VERIFIED)
    login(a.tenant, user=a.member, address="Other.Login@acme.example", at=recent(minutes=2))
    login(a.tenant, address="<script>x</script>&@evil.example", at=recent(minutes=3),
          outcome=Outcome.FAILURE, reason=Reason.UNKNOWN_ACCOUNT, country="", browser_family="",
          browser_version="", os_family="", os_version="", ip="2001:db8::1")
    login(a.tenant, address="", at=recent(minutes=4), outcome=Outcome.SIGNOUT, reason="")
    for at in (dst, dst + timedelta(seconds=1)):
        login(a.tenant, user=a.owner, at=at)
    rows = list(login_events_filtered(tenant=a.tenant, filters=LoginEventFilters(),
                                      since=dst - timedelta(days=1)))
    assert len(rows) == 6
    expected = Template(_SIGNIN_ROWS_TEMPLATE).render(Context({"rows": rows,
                                                               "display_tz": display_tz}))
    assert "".join(_signin_rows(rows, display_tz=display_tz)) == expected


@pytest.mark.parametrize("params", [{}, {"outcome": "failure", "reason": "bad_credentials",
                                         "device": "mobile", "mfa": "none"},
                                    {"mfa": "totp", "reason": "<x>"}])
def test_filter_options_render_exactly_as_the_template_loops_did(params) -> None:
    from django.template import Context, Template

    from activity.logs.rows import login_choices as _login_choices

    loop = ('{%% for value, label in choices %%}<option value="{{ value }}"{%% if value == '
            'params.%s %%} selected{%% endif %%}>{{ label }}</option>{%% endfor %%}')
    mfa_methods = [("none", MfaMethod.NONE.label), *[(v, lb) for v, lb in MfaMethod.choices if v]]
    built = _login_choices(params)
    for key, choices in (("outcome", Outcome.choices), ("reason", Reason.choices),
                         ("device", DeviceType.choices), ("mfa", mfa_methods)):
        expected = Template(loop % key).render(Context({"choices": choices, "params": params}))
        assert built[f"{key}_options"] == expected, key
    assert ("selected" in built["mfa_options"]) == ("mfa" in params)


def test_the_sign_in_log_filters_by_protocol(two_tenants, signed_in):
    a = two_tenants.a
    web = login(a.tenant, user=a.member)
    imap = login_event_record(tenant=a.tenant, user=a.member, attempted_login=a.member.email,
                              client=PHONE, outcome=Outcome.FAILURE,
                              reason=Reason.BAD_CREDENTIALS, protocol=Protocol.IMAP)
    client = signed_in(a.admin)
    page = client.get("/logs/signins/?protocol=imap").content.decode()
    assert '<option value="imap" selected>IMAP</option>' in page
    assert re.findall(r'data-testid="signin-row" data-event="(\d+)"', page) == [str(imap.pk)]
    page = client.get("/logs/signins/?protocol=web").content.decode()
    assert str(imap.pk) not in re.findall(r'data-testid="signin-row" data-event="(\d+)"', page)
    assert str(web.pk) in re.findall(r'data-testid="signin-row" data-event="(\d+)"', page)
