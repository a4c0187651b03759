"""The audit trail's CSV names the acting person wherever the page does: MFA resets and unlocks,
entries recorded with an actor but without ``actor_email``, on the COPY and the keyset path."""

from __future__ import annotations

import csv
import io
import json

import pytest

from activity.exports import AUDIT_TRAIL, Dataset, ExportFormat, keyset_chunks
from activity.exports.pgcopy import copy_chunks
from activity.models import AuditLogEntry
from tests.accounts.test_mfa_support import enroll
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db

AUDIT_EXPORT = "/logs/audit/export/"


def _rows(client) -> list[dict[str, str]]:
    response = client.get(AUDIT_EXPORT, {"format": "csv"})
    assert response.status_code == 200 and response.streaming
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.DictReader(io.StringIO(body, newline="")))


def _lock(make_client, person) -> None:
    for _ in range(6):  # the default lockout policy: 5 failures
        make_client().post("/signin/", {"email": person.email, "password": "not-the-password"})


def test_mfa_reset_and_unlock_are_exported_with_the_acting_persons_address(
        two_tenants, signed_in, make_client):
    a = two_tenants.a
    enroll(a.member, name="Phone")
    _lock(make_client, a.member)
    helpdesk = make_client()
    assert helpdesk.post("/signin/", {"email": a.helpdesk.email, "password": PASSWORD}).status_code == 302
    # The helpdesk actions ask for a fresh confirmation of who the helpdesk person is.
    assert helpdesk.post("/me/mfa/confirm/", {"secret": PASSWORD}).status_code == 302
    assert helpdesk.post(f"/people/{a.member.pk}/reset-mfa/").status_code == 302
    assert helpdesk.post(f"/people/{a.member.pk}/unlock/").status_code == 302

    rows = _rows(signed_in(a.auditor))
    actors = {r["changes"]: r["actor"] for r in rows if r["object_id"] == str(a.member.pk)}
    assert actors['{"mfa": ["enrolled", "reset"]}'] == a.helpdesk.email
    assert actors['{"lockout": ["locked", "unlocked"]}'] == a.helpdesk.email


def test_an_entry_with_an_actor_but_no_recorded_address_exports_the_actors(two_tenants, signed_in):
    a = two_tenants.a
    # As explicit entries were written before audit_entry_record set actor_email.
    entry = AuditLogEntry.objects.log_create(a.member, force_log=True, action=AuditLogEntry.Action.UPDATE,
                                             changes={"mfa": ["enrolled", "reset"]}, actor=a.helpdesk)
    assert entry.actor_email in (None, "")
    client = signed_in(a.auditor)
    page = client.get("/logs/audit/").content.decode()
    assert f'<a href="?actor={a.helpdesk.pk}">All by {a.helpdesk}</a>' in page
    (row,) = [r for r in _rows(client) if r["changes"] == '{"mfa": ["enrolled", "reset"]}']
    assert row["actor"] == a.helpdesk.email


def test_an_entry_whose_actor_is_gone_keeps_the_recorded_address(two_tenants, signed_in):
    a = two_tenants.a
    AuditLogEntry.objects.log_create(a.member, force_log=True, action=AuditLogEntry.Action.UPDATE,
                                     changes={"role": ["member", "admin"]},
                                     actor=None, actor_email="former.admin@acme.example")
    (row,) = [r for r in _rows(signed_in(a.auditor)) if r["changes"] == '{"role": ["member", "admin"]}']
    assert row["actor"] == "former.admin@acme.example"


@pytest.mark.parametrize("fmt", [ExportFormat.CSV, ExportFormat.JSONL])
def test_copy_and_keyset_paths_write_the_same_actor(two_tenants, fmt):
    a = two_tenants.a
    actor = next(c for c in AUDIT_TRAIL.columns if c.key == "actor")
    # The audit trail's own columns that PostgreSQL can format, so both paths run.
    columns = tuple(c for c in AUDIT_TRAIL.columns if c.key in {"time_utc", "actor", "object_id"})
    dataset = Dataset(name="audit_actors", label="audit actors", model=AuditLogEntry,
                      time_field="timestamp", columns=columns)
    assert dataset.copy_capable and actor in columns
    update = AuditLogEntry.Action.UPDATE
    for actor_kwargs in ({"actor": a.admin}, {"actor": None, "actor_email": "gone@acme.example"},
                         {"actor": None}):
        AuditLogEntry.objects.log_create(a.member, force_log=True, action=update,
                                         changes={"x": ["1", "2"]}, **actor_kwargs)
    entries = AuditLogEntry.objects.for_tenant(a.tenant).filter(changes__x=["1", "2"])
    by_copy = b"".join(chunk for chunk, _ in copy_chunks(entries, dataset, fmt=fmt, tz="UTC"))
    by_keyset = b"".join(chunk for chunk, _ in keyset_chunks(entries, dataset, fmt=fmt, tz="UTC"))
    assert by_copy == by_keyset
    if fmt is ExportFormat.CSV:
        actors = [line.split(",")[1] for line in by_copy.decode().splitlines()]
    else:
        actors = [json.loads(line)["actor"] for line in by_copy.decode().splitlines()]
    assert actors == ["", "gone@acme.example", a.admin.email]  # newest first
