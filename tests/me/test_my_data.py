""""Download my data": every row of one's own history still held, the grey zone included,
nobody else's, formula-safe, with translated headers, and recorded as an export."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from django.utils import timezone

from activity.capture import ClientInfo
from activity.models import ExportEvent, LoginEvent
from me.data.services import my_data_export_open
from tests.conftest import TwoTenants

pytestmark = pytest.mark.django_db

URL = "/me/security/my-data.csv"


def _signin(tenant, user, *, days: float, login: str | None = None, **fields) -> LoginEvent:
    values = {"ip": "198.51.100.7", "outcome": "success", "reason": "password_ok"} | fields
    return LoginEvent.objects.create(tenant=tenant, user=user, attempted_login=login or user.email,
                                     occurred_at=timezone.now() - timedelta(days=days), **values)


def _export(tenant, user, *, days: float, dataset: str = "signin_log") -> ExportEvent:
    return ExportEvent.objects.create(tenant=tenant, user=user, dataset=dataset, format="csv",
                                      status="completed", row_count=12, ip="198.51.100.9",
                                      occurred_at=timezone.now() - timedelta(days=days))


def _rows(response) -> tuple[list[str], list[list[str]], bytes]:
    assert response.status_code == 200 and response.streaming
    body = b"".join(response.streaming_content)
    table = list(csv.reader(io.StringIO(body.decode("utf-8"), newline="")))
    return table[0], table[1:], body


@pytest.fixture
def history(two_tenants: TwoTenants) -> TwoTenants:
    a, b = two_tenants.a, two_tenants.b
    _signin(a.tenant, a.member, days=1, country="CN", browser_family="Chrome", os_family="Windows",
            device_type="desktop")
    _signin(a.tenant, a.member, days=120, outcome="failure", reason="bad_credentials",
            browser_family="=HYPERLINK(\"http://x.example\")")  # grey zone, a hostile value
    _signin(a.tenant, a.member, days=2, outcome="challenge", reason="mfa_challenge", ip="203.0.113.50")
    _export(a.tenant, a.member, days=3, dataset="my_signins")
    _export(a.tenant, a.member, days=150, dataset="my_exports")  # grey zone
    _signin(a.tenant, a.admin, days=1, ip="192.0.2.99")  # a colleague
    _export(a.tenant, a.admin, days=1, dataset="audit_trail")
    _signin(b.tenant, b.member, days=1, ip="192.0.2.200", login="secret-globex@globex.example")
    return two_tenants


def test_the_file_has_all_my_rows_grey_zone_included_and_nobody_elses(history, signed_in):
    a = history.a
    client = signed_in(a.member)  # adds today's sign-in (and its password step) to the history
    mine = LoginEvent.objects.for_tenant(a.tenant).filter(user=a.member).count()
    header, rows, body = _rows(client.get(URL))
    assert body.startswith(b"\xef\xbb\xbf")  # spreadsheets read it as UTF-8
    assert header[:3] == ["\ufeffRecord", "Time (UTC)", "Time (UTC)"]
    assert "Due for deletion on" in header and "Outcome" in header
    kinds = [row[0] for row in rows]
    assert kinds.count("Sign-in") == mine and kinds.count("Export") == 2
    # Sign-ins first, then exports; each newest first.
    assert kinds == ["Sign-in"] * mine + ["Export"] * 2
    signins = rows[:mine]
    assert [r[1] for r in signins] == sorted((r[1] for r in signins), reverse=True)
    outcome, reason = header.index("Outcome"), header.index("Reason")
    grey = signins[-1]  # 120 days old: past the 90 visible days, before the 180-day purge
    assert (grey[outcome], grey[reason]) == ("Failure", "Wrong password")
    deleted_on = header.index("Due for deletion on")
    assert grey[deleted_on] == (timezone.now() - timedelta(days=120) + timedelta(days=180)).date().isoformat()
    # Formula-neutralised.
    assert grey[header.index("Browser")] == "'=HYPERLINK(\"http://x.example\")"
    assert "China (CN)" in [r[header.index("Country")] for r in signins]
    exported = [r[header.index("Exported data")] for r in rows[mine:]]
    assert exported == ["my_signins", "my_exports"]  # the 150-day-old one included
    text = body.decode()
    for foreign in ("192.0.2.99", "audit_trail", "192.0.2.200", "globex", a.admin.email):
        assert foreign not in text


def test_the_download_is_recorded_as_an_export(history, signed_in):
    a = history.a
    client = signed_in(a.member)
    before = ExportEvent.objects.for_tenant(a.tenant).count()
    _header, rows, body = _rows(client.get(URL))
    event = ExportEvent.objects.for_tenant(a.tenant).latest("occurred_at")
    assert ExportEvent.objects.for_tenant(a.tenant).count() == before + 1
    assert (event.user_id, event.dataset, event.format, event.status) == (
        a.member.pk, "my_data", "csv", "completed")
    assert (event.row_count, event.byte_count) == (len(rows), len(body))
    assert event.filters["grey"] == "1"
    assert ExportEvent.objects.for_tenant(history.b.tenant).filter(dataset="my_data").count() == 0
    # It shows on the person's own export history, and the next download lists it.
    _header, again, _body = _rows(client.get(URL))
    assert "my_data" in [r[_header.index("Exported data")] for r in again]


def test_times_follow_the_persons_zone(history, signed_in):
    a = history.a
    a.member.timezone = "Asia/Shanghai"
    a.member.save(update_fields=["timezone"])
    header, rows, _body = _rows(signed_in(a.member).get(URL))
    assert header[2] == "Time (Asia/Shanghai)"
    assert rows[0][2].endswith("+08:00")


def test_the_stream_pages_through_a_long_history(history):
    a = history.a
    for day in range(7):
        _signin(a.tenant, a.member, days=day + 0.5)
    stream = my_data_export_open(user=a.member, client=ClientInfo.unknown(), chunk_rows=3)
    body = b"".join(stream)
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"), newline="")))[1:]
    assert len(rows) == LoginEvent.objects.for_tenant(a.tenant).filter(user=a.member).count() + 2
    assert len({tuple(r) for r in rows}) == len(rows)  # no row twice across the pages
    stream.event.refresh_from_db()
    assert (stream.event.status, stream.event.row_count) == ("completed", len(rows))


def test_a_download_cut_short_is_marked_incomplete(history):
    stream = my_data_export_open(user=history.a.member, client=ClientInfo.unknown(), chunk_rows=1)
    iterator = iter(stream)
    next(iterator)  # the header
    next(iterator)  # the first row
    stream.close()
    stream.event.refresh_from_db()
    assert (stream.event.status, stream.event.row_count) == ("incomplete", 1)
