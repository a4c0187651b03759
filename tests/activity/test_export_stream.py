"""The export core without HTTP: the record around every stream, both row paths, constant queries."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from activity.capture import ClientInfo, DeviceType
from activity.exports import (
    AUDIT_TRAIL,
    BOM,
    EXPORT_LOG,
    MY_SIGNINS,
    SIGNIN_LOG,
    ExportFormat,
    export_stream_open,
    keyset_chunks,
)
from activity.exports.pgcopy import copy_chunks
from activity.models import AuditLogEntry, ExportEvent, ExportStatus, LoginEvent
from tests.conftest import TwoTenants

pytestmark = pytest.mark.django_db

CLIENT = ClientInfo(
    ip="203.0.113.9", country="CN", user_agent="Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0",
    browser_family="Firefox", browser_version="128.0", os_family="Linux", os_version="",
    device_type=DeviceType.DESKTOP,
)
BASE = datetime(2025, 3, 9, 6, 30, 0, 123456, tzinfo=UTC)  # the US DST change day

TRICKY = [
    "plain@acme.example",
    "=HYPERLINK(\"http://evil\",\"x\")",
    "+1-555",
    "-2+3",
    "@SUM(A1)",
    "\tindent",
    "\rcarriage",
    "comma, inside",
    'quote " inside',
    "line\nbreak",
    "crlf\r\nbreak",
    "中文用户@例子.中国",
    "",
    "'already quoted",
    " leading space",
]


def make_events(tenant, user, count: int, *, texts: list[str] | None = None) -> list[LoginEvent]:
    texts = texts or ["person@acme.example"]
    events = [
        LoginEvent(
            tenant=tenant, user=user if i % 3 else None, attempted_login=texts[i % len(texts)],
            # Every few rows a time without a fraction, or with trailing zeros in it.
            occurred_at=(BASE - timedelta(hours=i * 7, microseconds=i)).replace(
                microsecond=0 if i % 7 == 3 else 120000 if i % 7 == 5 else (123456 - i) % 10**6),
            ip="2001:db8::1" if i % 2 else "198.51.100.7", country="CN" if i % 2 else "",
            user_agent=texts[(i + 1) % len(texts)], browser_family="Chrome",
            browser_version="124.0", os_family="Windows", os_version="10",
            device_type="desktop", outcome="failure" if i % 4 else "success",
            reason="bad_credentials" if i % 4 else "password_ok", mfa_method="",
            session_ref="ab12cd34" if i % 5 == 0 else "",
        )
        for i in range(count)
    ]
    return LoginEvent.objects.bulk_create(events)


def drain(stream) -> bytes:
    return b"".join(stream)


def open_export(tenant_set, queryset, *, dataset=SIGNIN_LOG, fmt=ExportFormat.CSV,
                tz="Asia/Shanghai", bom=False):
    return export_stream_open(
        tenant=tenant_set.tenant, actor=tenant_set.auditor, client=CLIENT, dataset=dataset,
        queryset=queryset, fmt=fmt, filters={"outcome": "failure"}, tz=tz, bom=bom,
    )


def signins(tenant):
    return LoginEvent.objects.for_tenant(tenant)


def test_the_record_is_committed_before_the_first_byte(two_tenants: TwoTenants) -> None:
    a = two_tenants.a
    make_events(a.tenant, a.member, 3)
    stream = open_export(a, signins(a.tenant))
    event = ExportEvent.objects.get()  # before anything was iterated
    assert (event.tenant_id, event.user_id, event.status) == (a.tenant.pk, a.auditor.pk, "started")
    assert (event.dataset, event.format, event.filters) == ("signin_log", "csv", {"outcome": "failure"})
    assert (event.ip, event.country, event.browser_family, event.os_family) == (
        "203.0.113.9", "CN", "Firefox", "Linux")
    body = drain(stream)
    event.refresh_from_db()
    assert event.status == ExportStatus.COMPLETED
    assert event.row_count == 3
    assert event.byte_count == len(body)
    assert event.completed_at is not None


@pytest.mark.parametrize("fmt", list(ExportFormat))
def test_completed_export_counts_rows_and_bytes(two_tenants: TwoTenants, fmt: ExportFormat) -> None:
    a = two_tenants.a
    make_events(a.tenant, a.member, 2500, texts=TRICKY)
    body = drain(open_export(a, signins(a.tenant), fmt=fmt, bom=True))
    event = ExportEvent.objects.get()
    assert (event.status, event.row_count, event.byte_count) == ("completed", 2500, len(body))
    if fmt is ExportFormat.CSV:
        assert body.startswith(BOM)
        rows = list(csv.reader(io.StringIO(body[3:].decode(), newline="")))
        assert len(rows) == 2501
    else:
        assert not body.startswith(BOM)  # a BOM is for spreadsheets only
        assert len([json.loads(line) for line in body.decode().splitlines()]) == 2500


def test_no_bom_unless_asked(two_tenants: TwoTenants) -> None:
    a = two_tenants.a
    make_events(a.tenant, a.member, 2)
    body = drain(open_export(a, signins(a.tenant)))
    assert body.startswith(b"time_utc,time_local,person,")
    assert BOM not in body


def test_aborted_export_is_marked_incomplete_with_what_was_sent(two_tenants: TwoTenants) -> None:
    a = two_tenants.a
    make_events(a.tenant, a.member, 5000)
    stream = open_export(a, signins(a.tenant))
    iterator = iter(stream)
    sent = [next(iterator) for _ in range(3)]  # header, then two chunks of rows
    stream.close()  # what the WSGI server does when the client disconnects
    event = ExportEvent.objects.get()
    assert event.status == ExportStatus.INCOMPLETE
    assert event.byte_count == sum(len(chunk) for chunk in sent)
    assert 0 < event.row_count < 5000
    # The connection is usable after the cancelled COPY: the transaction was rolled back.
    assert LoginEvent.objects.for_tenant(a.tenant).count() == 5000


def test_a_stream_closed_before_its_first_byte_is_incomplete(two_tenants: TwoTenants) -> None:
    a = two_tenants.a
    make_events(a.tenant, a.member, 2)
    open_export(a, signins(a.tenant)).close()
    event = ExportEvent.objects.get()
    assert (event.status, event.row_count, event.byte_count) == ("incomplete", 0, 0)


def test_closing_after_the_end_changes_nothing(two_tenants: TwoTenants) -> None:
    a = two_tenants.a
    make_events(a.tenant, a.member, 2)
    stream = open_export(a, signins(a.tenant))
    drain(stream)
    stream.close()
    assert ExportEvent.objects.get().status == ExportStatus.COMPLETED


def test_only_the_given_tenants_rows_are_exported(two_tenants: TwoTenants) -> None:
    a, b = two_tenants.a, two_tenants.b
    make_events(a.tenant, a.member, 4, texts=["a@acme.example"])
    make_events(b.tenant, b.member, 6, texts=["b@globex.example"])
    body = drain(open_export(a, signins(a.tenant))).decode()
    assert "globex" not in body
    assert len(body.splitlines()) == 1 + 4
    with pytest.raises(ValueError, match="exports LoginEvent"):
        open_export(a, ExportEvent.objects.for_tenant(a.tenant))


@pytest.mark.parametrize("tz", ["Asia/Shanghai", "America/New_York", "Asia/Kolkata",
                                "America/St_Johns", "UTC"])
@pytest.mark.parametrize("fmt", list(ExportFormat))
@pytest.mark.parametrize("dataset", [SIGNIN_LOG, MY_SIGNINS])
def test_copy_and_keyset_paths_write_the_same_bytes(two_tenants, tz, fmt, dataset) -> None:
    a = two_tenants.a
    make_events(a.tenant, a.member, 60, texts=TRICKY)
    qs = signins(a.tenant)
    fast = b"".join(chunk for chunk, _ in copy_chunks(qs, dataset, fmt=fmt, tz=tz, batch_rows=7))
    slow = b"".join(chunk for chunk, _ in keyset_chunks(qs, dataset, fmt=fmt, tz=tz, chunk_rows=11))
    assert fast == slow


def test_times_are_utc_and_local_with_the_offset_of_the_day(two_tenants: TwoTenants) -> None:
    a = two_tenants.a
    LoginEvent.objects.create(
        tenant=a.tenant, attempted_login="x@acme.example", occurred_at=BASE + timedelta(hours=1),
        ip="192.0.2.1",
        outcome="failure", reason="bad_credentials",
    )
    LoginEvent.objects.create(
        tenant=a.tenant, attempted_login="y@acme.example", occurred_at=BASE - timedelta(hours=8),
        ip="192.0.2.1", outcome="failure", reason="bad_credentials",
    )
    body = drain(open_export(a, signins(a.tenant), tz="America/New_York")).decode()
    rows = list(csv.DictReader(io.StringIO(body, newline="")))
    assert rows[0]["time_utc"] == "2025-03-09 07:30:00.123456"
    assert rows[0]["time_local"] == "2025-03-09 03:30:00.123456-04"  # after the change
    assert rows[1]["time_local"] == "2025-03-08 17:30:00.123456-05"  # before it
    assert datetime.fromisoformat(rows[1]["time_local"]) == BASE - timedelta(hours=8)
    assert body.endswith("\r\n") and "\n" not in body.replace("\r\n", "")


def test_formula_cells_are_neutralised_on_postgresql_too(two_tenants: TwoTenants) -> None:
    a = two_tenants.a
    make_events(a.tenant, a.member, len(TRICKY), texts=TRICKY)
    body = drain(open_export(a, signins(a.tenant))).decode()
    rows = list(csv.DictReader(io.StringIO(body, newline="")))
    addresses = {row["attempted_address"] for row in rows}
    assert "'=HYPERLINK(\"http://evil\",\"x\")" in addresses
    assert {"'+1-555", "'-2+3", "'@SUM(A1)", "'\tindent", "'\rcarriage"} <= addresses
    assert "line\nbreak" in addresses and "中文用户@例子.中国" in addresses
    for row in rows:
        for value in row.values():
            assert not value.startswith(("=", "+", "-", "@", "\t", "\r"))


def test_queries_do_not_grow_with_rows(two_tenants: TwoTenants) -> None:
    a = two_tenants.a
    make_events(a.tenant, a.member, 50)
    with CaptureQueriesContext(connection) as small:
        drain(open_export(a, signins(a.tenant)))
    make_events(a.tenant, a.member, 3000)
    with CaptureQueriesContext(connection) as large:
        drain(open_export(a, signins(a.tenant)))
    assert len(large.captured_queries) == len(small.captured_queries)
    assert any(q["sql"].startswith("COPY") for q in large.captured_queries)


def test_keyset_queries_grow_only_by_chunks(two_tenants: TwoTenants) -> None:
    a = two_tenants.a
    make_events(a.tenant, a.member, 45)
    with CaptureQueriesContext(connection) as queries:
        chunks = list(keyset_chunks(signins(a.tenant), SIGNIN_LOG, fmt=ExportFormat.CSV,
                                    tz="UTC", chunk_rows=10))
    assert sum(rows for _, rows in chunks) == 45
    assert len(queries.captured_queries) == 5  # ceil(45 / 10), the last page short


def test_export_log_and_audit_trail_go_through_keyset_pages(two_tenants: TwoTenants) -> None:
    a, b = two_tenants.a, two_tenants.b
    drain(open_export(a, signins(a.tenant)))
    drain(open_export(b, signins(b.tenant)))
    body = drain(open_export(a, ExportEvent.objects.for_tenant(a.tenant), dataset=EXPORT_LOG,
                             fmt=ExportFormat.JSONL))
    records = [json.loads(line) for line in body.decode().splitlines()]
    # Newest first: this very export (recorded before its first byte, still running), then
    # Acme's sign-in log export; never Globex's.
    assert [(r["dataset"], r["status"]) for r in records] == [
        ("export_log", "started"), ("signin_log", "completed")]
    assert records[1]["filters"] == {"outcome": "failure"}
    assert records[1]["person"] == a.auditor.email and records[1]["rows"] == 0
    assert records[1]["bytes"] > 0 and datetime.fromisoformat(records[1]["completed_utc"])
    AuditLogEntry.objects.create(
        tenant=a.tenant, action=AuditLogEntry.Action.UPDATE, object_repr="=cmd|' /C calc'!A0",
        object_pk="1", changes={"mode": ["monitor", "enforce"]}, remote_addr="192.0.2.5",
        content_type_id=1,
    )
    body = drain(open_export(a, AuditLogEntry.objects.for_tenant(a.tenant), dataset=AUDIT_TRAIL))
    rows = list(csv.DictReader(io.StringIO(body.decode(), newline="")))
    assert len(rows) == AuditLogEntry.objects.for_tenant(a.tenant).count()
    assert rows[0]["object"] == "'=cmd|' /C calc'!A0"
    assert json.loads(rows[0]["changes"]) == {"mode": ["monitor", "enforce"]}
    assert (rows[0]["action"], rows[0]["ip"]) == ("update", "192.0.2.5")
    assert "globex" not in body.decode().lower()


def test_a_copy_export_leaves_the_connections_settings_as_it_found_them(two_tenants) -> None:
    # The export sets its zone, DateStyle, JIT and sorts locally; a request that queries after
    # it on the same connection (here: inside the test's transaction) must see the old ones.
    a = two_tenants.a
    make_events(a.tenant, a.member, 20)
    names = ("TimeZone", "DateStyle", "jit", "enable_sort")

    def settings() -> tuple[str, ...]:
        with connection.cursor() as cursor:
            cursor.execute("SELECT " + ", ".join(f"current_setting('{n}')" for n in names))
            return cursor.fetchone()

    before = settings()
    body = b"".join(chunk for chunk, _ in copy_chunks(signins(a.tenant), SIGNIN_LOG,
                                                    fmt=ExportFormat.CSV, tz="Asia/Kolkata"))
    assert b"+0530" in body or b"+05:30" in body  # the export ran in its own zone
    assert settings() == before


def test_copy_rows_falls_back_to_plain_iteration_without_psycopgs_wait_hook() -> None:
    # _copy_rows wraps psycopg's private Copy._read_gen; a psycopg without it must still export.
    from activity.exports.pgcopy import _copy_rows

    class PlainCopy:
        def __iter__(self):
            return iter([b"a,1\n", b"b,2\n"])

    assert list(_copy_rows(PlainCopy())) == [b"a,1\n", b"b,2\n"]


def test_copy_rows_reads_every_row_through_the_pausing_wait(two_tenants) -> None:
    a = two_tenants.a
    make_events(a.tenant, a.member, 2500)  # several socket buffers' worth
    body = b"".join(chunk for chunk, _ in copy_chunks(signins(a.tenant), SIGNIN_LOG,
                                                    fmt=ExportFormat.CSV, tz="UTC"))
    assert body.count(b"\r\n") == 2500
