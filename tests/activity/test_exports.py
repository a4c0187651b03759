"""The export views: who may export what, tenancy, the visible window, filters, the record."""

from __future__ import annotations

import csv
import io
import json
from datetime import timedelta
from urllib.parse import unquote

import pytest
from django.core.signals import request_finished
from django.db import close_old_connections
from django.test import RequestFactory
from django.utils import timezone

from activity.exports import BOM
from activity.exports.views import signin_log_export
from activity.models import AuditLogEntry, ExportEvent, ExportStatus, LoginEvent
from tests.conftest import TwoTenants

pytestmark = pytest.mark.django_db

SIGNINS = "/logs/signins/export/"
EXPORTS = "/logs/exports/export/"
AUDIT = "/logs/audit/export/"
MY_SIGNINS = "/me/signins/export/"
MY_EXPORTS = "/me/exports/export/"
CONSOLE = [SIGNINS, EXPORTS, AUDIT]


def event(tenant, user, *, login: str, ago: timedelta = timedelta(hours=1), **fields) -> LoginEvent:
    values = {"ip": "198.51.100.7", "outcome": "failure", "reason": "bad_credentials"} | fields
    return LoginEvent.objects.create(tenant=tenant, user=user, attempted_login=login,
                                     occurred_at=timezone.now() - ago, **values)


def wsgi_close(response) -> None:
    """``response.close()`` as the test client does it: request_finished would otherwise close
    the test's (never committed) database connection, as it does in production at this point."""
    request_finished.disconnect(close_old_connections)
    try:
        response.close()
    finally:
        request_finished.connect(close_old_connections)


def body_of(response) -> bytes:
    assert response.streaming, response.status_code
    return b"".join(response.streaming_content)


def csv_rows(body: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(body.decode("utf-8-sig"), newline="")))


@pytest.fixture
def history(two_tenants: TwoTenants) -> TwoTenants:
    a, b = two_tenants.a, two_tenants.b
    event(a.tenant, a.member, login=a.member.email, outcome="success", reason="password_ok")
    event(a.tenant, a.member, login=a.member.email, country="CN")
    event(a.tenant, a.admin, login=a.admin.email)
    event(a.tenant, None, login="=cmd|' /C calc'!A0@acme.example")
    event(a.tenant, a.member, login=a.member.email, ago=timedelta(days=400))  # past the window
    event(b.tenant, b.member, login=b.member.email)
    event(b.tenant, b.admin, login="secret-globex@globex.example")
    return two_tenants


@pytest.mark.parametrize("role", ["owner", "admin", "auditor"])
def test_export_roles_get_their_tenants_visible_rows_only(history, signed_in, role) -> None:
    a = history.a
    client = signed_in(a.by_role(role))
    response = client.get(SIGNINS, {"format": "csv"})
    assert response.status_code == 200
    body = body_of(response)
    rows = csv_rows(body)
    # Four seeded in the window, plus the sign-in the client itself just made.
    assert LoginEvent.objects.for_tenant(a.tenant).count() - 1 == len(rows)
    assert "globex" not in body.decode().lower()
    assert all(row["time_utc"] > (timezone.now() - timedelta(days=100)).isoformat()[:10]
               for row in rows)
    assert "'=cmd|' /C calc'!A0@acme.example" in {row["attempted_address"] for row in rows}
    record = ExportEvent.objects.get()
    assert (record.tenant_id, record.user_id, record.dataset, record.format) == (
        a.tenant.pk, a.by_role(role).pk, "signin_log", "csv")
    assert (record.status, record.row_count, record.byte_count) == (
        ExportStatus.COMPLETED, len(rows), len(body))


@pytest.mark.parametrize("role", ["helpdesk", "member"])
@pytest.mark.parametrize("url", CONSOLE)
def test_other_roles_cannot_export_the_console_logs(history, signed_in, role, url) -> None:
    client = signed_in(history.a.by_role(role))
    assert client.get(url, {"format": "csv"}).status_code == 403
    assert not ExportEvent.objects.exists()


@pytest.mark.parametrize("url", [*CONSOLE, MY_SIGNINS, MY_EXPORTS])
def test_signed_out_visitors_are_sent_to_sign_in(history, client, url) -> None:
    response = client.get(url, {"format": "csv"})
    assert response.status_code == 302
    assert not ExportEvent.objects.exists()


def test_auditor_exports_the_audit_trail_and_export_log(history, signed_in) -> None:
    a, b = history.a, history.b
    AuditLogEntry.objects.create(tenant=b.tenant, action=AuditLogEntry.Action.UPDATE,
                                 object_repr="globex policy", object_pk="1", content_type_id=1)
    AuditLogEntry.objects.create(tenant=a.tenant, action=AuditLogEntry.Action.UPDATE,
                                 object_repr="acme policy", object_pk="1", content_type_id=1,
                                 changes={"mode": ["monitor", "enforce"]})
    client = signed_in(a.auditor)
    body = body_of(client.get(AUDIT, {"format": "jsonl"}))
    records = [json.loads(line) for line in body.decode().splitlines()]
    assert "acme policy" in {r["object"] for r in records}
    assert "globex policy" not in body.decode()
    assert records[0]["changes"] == {"mode": ["monitor", "enforce"]}

    body = body_of(client.get(EXPORTS, {"format": "csv", "dataset": "audit_trail"}))
    rows = csv_rows(body)
    assert [(r["dataset"], r["status"], r["person"]) for r in rows] == [
        ("audit_trail", "completed", a.auditor.email)]
    assert ExportEvent.objects.filter(dataset="export_log").get().filters == {
        "dataset": "audit_trail"}


def test_members_export_only_their_own_history(history, signed_in) -> None:
    a = history.a
    client = signed_in(a.member)
    # A person filter for someone else is overridden: one's own rows only.
    response = client.get(MY_SIGNINS, {"format": "csv", "person": a.admin.pk})
    rows = csv_rows(body_of(response))
    own = LoginEvent.objects.for_tenant(a.tenant).filter(
        user=a.member, occurred_at__gte=timezone.now() - timedelta(days=90))
    assert len(rows) == own.count() == 3  # two seeded, and this session's sign-in
    assert "person" not in rows[0]
    assert {row["attempted_address"] for row in rows} == {a.member.email}
    record = ExportEvent.objects.get()
    assert (record.dataset, record.user_id, record.filters) == (
        "my_signins", a.member.pk, {"person": str(a.member.pk)})

    exports = [json.loads(line) for line in body_of(
        client.get(MY_EXPORTS, {"format": "jsonl"})).decode().splitlines()]
    assert [e["dataset"] for e in exports] == ["my_exports", "my_signins"]


def test_own_history_uses_the_persons_time_zone(history, signed_in) -> None:
    a = history.a
    a.member.timezone = "Asia/Shanghai"
    a.member.save(update_fields=["timezone"])
    rows = csv_rows(body_of(signed_in(a.member).get(MY_SIGNINS, {"format": "csv"})))
    assert all(row["time_local"].endswith("+08") for row in rows)


def test_filters_narrow_the_export_and_are_recorded(history, signed_in) -> None:
    a = history.a
    client = signed_in(a.auditor)
    rows = csv_rows(body_of(client.get(SIGNINS, {"format": "csv", "country": "cn",
                                                 "outcome": "failure"})))
    assert [(r["country"], r["outcome"]) for r in rows] == [("CN", "failure")]
    assert ExportEvent.objects.get().filters == {"country": "CN", "outcome": "failure"}


@pytest.mark.parametrize("query", [
    {},
    {"format": "xlsx"},
    {"format": "csv", "ip": "300.1.1.1"},
    {"format": "csv", "outcome": "nope"},
    {"format": "csv", "from": "2025-13-45"},
])
def test_bad_requests_get_a_400_page_and_nothing_is_recorded(history, signed_in, query) -> None:
    response = signed_in(history.a.auditor).get(SIGNINS, query)
    assert response.status_code == 400
    assert not response.streaming
    assert b"Export not started" in response.content
    assert not ExportEvent.objects.exists()


def test_bad_format_says_which_formats_exist(history, signed_in) -> None:
    response = signed_in(history.a.auditor).get(SIGNINS, {"format": "xls"})
    assert response.status_code == 400
    assert b"Choose the export format: csv or jsonl." in response.content


def test_post_is_not_an_export(history, signed_in) -> None:
    response = signed_in(history.a.auditor).post(SIGNINS + "?format=csv")
    assert response.status_code == 405
    assert not ExportEvent.objects.exists()


def test_download_headers(history, signed_in) -> None:
    a = history.a
    a.tenant.name = "Acme 中国 \"HQ\"/x"
    a.tenant.save(update_fields=["name"])
    client = signed_in(a.auditor)
    response = client.get(SIGNINS, {"format": "csv", "bom": "1"})
    body = body_of(response)
    assert body.startswith(BOM + b"time_utc,")
    assert response["Content-Type"] == "text/csv; charset=utf-8; header=present"
    assert response["Cache-Control"] == "no-store"
    disposition = response["Content-Disposition"]
    assert disposition.isascii()
    assert disposition.startswith('attachment; filename="acme-signin-log-')
    assert '.csv"; filename*=UTF-8\'\'' in disposition
    unicode_name = unquote(disposition.split("filename*=UTF-8''", 1)[1])
    assert unicode_name.startswith("Acme 中国 -HQ-") and unicode_name.endswith(".csv")

    response = client.get(SIGNINS, {"format": "jsonl", "bom": "1"})
    assert response["Content-Type"] == "application/jsonl; charset=utf-8"
    assert not body_of(response).startswith(BOM)


def test_aborted_download_leaves_an_incomplete_record(history) -> None:
    a = history.a
    LoginEvent.objects.bulk_create([
        LoginEvent(tenant=a.tenant, attempted_login=f"p{i}@acme.example", ip="192.0.2.1",
                   outcome="failure", reason="bad_credentials",
                   occurred_at=timezone.now() - timedelta(seconds=i))
        for i in range(5000)
    ])
    # The view as a WSGI server sees it (the test client would wrap the stream in its own
    # closing logic, which re-fires request_finished).
    request = RequestFactory().get(SIGNINS, {"format": "csv"}, REMOTE_ADDR="203.0.113.5")
    request.user, request.tenant = a.auditor, a.tenant
    response = signin_log_export(request)
    assert ExportEvent.objects.get().status == ExportStatus.STARTED  # before the first byte
    chunks = iter(response.streaming_content)
    # The header, then the first rows. (No query here: the connection is the COPY's until
    # the stream ends.)
    received = [next(chunks), next(chunks)]
    wsgi_close(response)  # what the WSGI server does when the client goes away
    record = ExportEvent.objects.get()
    assert record.status == ExportStatus.INCOMPLETE
    assert record.byte_count == sum(len(c) for c in received)
    assert 0 < record.row_count < 5000
    assert record.completed_at is not None
    assert record.ip == "203.0.113.5"


def test_the_export_is_at_the_top_of_the_export_log_page(history, signed_in) -> None:
    client = signed_in(history.a.auditor)
    body_of(client.get(SIGNINS, {"format": "csv", "outcome": "failure"}))
    page = client.get("/logs/exports/")
    assert page.status_code == 200
    assert b"signin_log" in page.content or b"Sign-in log" in page.content
