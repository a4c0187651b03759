"""One admin action, one audit entry: the entries one request wrote (auditlog writes one per model
save) show as one row with one sentence and every change; separate requests stay separate, entries
without a request are never merged, and another tenant's entries never join in. The CSV keeps one
row per stored entry and gives the entries of one action the same ``action_id``."""

from __future__ import annotations

import csv
import io
import re
from html import unescape

import pytest
from auditlog.cid import correlation_id
from auditlog.context import set_actor
from django.test import Client

from activity.audit_text import entries_group
from activity.models import AuditLogEntry
from people.services import person_invite
from tenants.roles import Role
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db


def _client(user) -> Client:
    client = Client()
    response = client.post("/signin/", {"email": user.email, "password": PASSWORD})
    assert response.status_code == 302
    return client


def _rows(html: str) -> list[dict[str, object]]:
    rows = []
    for row in re.findall(r'<tr data-testid="audit-row".*?</tr>', html, re.DOTALL):
        entries = re.search(r'data-entries="([^"]*)"', row)
        sentence = re.search(r'data-testid="audit-sentence">([^<]*)<', row)
        rows.append({"entries": entries.group(1).split() if entries else [],
                     "sentence": unescape(sentence.group(1)) if sentence else "",
                     "html": unescape(row)})
    return rows


def _invite(client: Client, email: str, name: str, role: str = Role.AUDITOR) -> None:
    response = client.post("/people/invite/", {"email": email, "display_name": name, "role": role})
    assert response.status_code == 302, response.content[:400]


def test_one_invitation_is_one_entry_with_its_changes(two_tenants):
    a = two_tenants.a
    a.admin.display_name = "Adam Admin"
    a.admin.save()
    _invite(_client(a.admin), "nina.new@acme.example", "Nina New")
    stored = AuditLogEntry.objects.filter(tenant=a.tenant, actor=a.admin)
    assert stored.count() == 2  # the person and the invitation, one request id
    assert len({e.cid for e in stored}) == 1 and stored[0].cid

    rows = _rows(_client(a.owner).get("/logs/audit/").content.decode())
    invite_rows = [r for r in rows if "Nina New" in r["sentence"]]
    assert len(invite_rows) == 1
    row = invite_rows[0]
    assert row["sentence"] == "Adam Admin invited Nina New as Auditor"
    assert sorted(row["entries"]) == sorted(str(e.pk) for e in stored)
    assert "(2 records)" in row["html"]
    # both saves' changes, the invitation's named as such
    assert "Role</span>: <span class=\"old\">—</span> → <span class=\"new\">Auditor" in row["html"]
    assert "Invitation · " in row["html"]
    assert "sent an invitation" not in row["html"]


def test_two_separate_saves_are_two_entries(two_tenants):
    a = two_tenants.a
    admin = _client(a.admin)
    _invite(admin, "one@acme.example", "Olga One")
    _invite(admin, "two@acme.example", "Tom Two", role=Role.MEMBER)
    rows = _rows(_client(a.owner).get("/logs/audit/").content.decode())
    sentences = [r["sentence"] for r in rows]
    assert sentences.count(f"{a.admin} invited Olga One as Auditor") == 1
    assert sentences.count(f"{a.admin} invited Tom Two as Member") == 1
    ids = [set(r["entries"]) for r in rows if "invited" in r["sentence"]]
    assert len(ids) == 2 and all(len(group) == 2 for group in ids) and not ids[0] & ids[1]


def test_entries_without_a_request_are_never_merged(two_tenants):
    a = two_tenants.a
    with set_actor(a.admin):  # a shell or task: no request id
        person_invite(tenant=a.tenant, actor=a.admin, email="cli@acme.example",
                      display_name="Cleo Cli", role=Role.MEMBER)
    rows = _rows(_client(a.owner).get("/logs/audit/").content.decode())
    about = [r["sentence"] for r in rows if "Cleo Cli" in r["sentence"]]
    assert sorted(about) == sorted([f"{a.admin} added Cleo Cli as Member",
                                    f"{a.admin} sent an invitation to Cleo Cli"])


def test_another_tenants_entries_never_merge_in(two_tenants):
    a, b = two_tenants.a, two_tenants.b
    token = correlation_id.set("shared-request-id-0001")  # even one id across both tenants
    try:
        with set_actor(a.admin):
            person_invite(tenant=a.tenant, actor=a.admin, email="ann@acme.example",
                          display_name="Ann Acme", role=Role.MEMBER)
        with set_actor(b.admin):
            person_invite(tenant=b.tenant, actor=b.admin, email="gus@globex.example",
                          display_name="Gus Globex", role=Role.MEMBER)
    finally:
        correlation_id.reset(token)
    html = _client(a.owner).get("/logs/audit/").content.decode()
    row = next(r for r in _rows(html) if "Ann Acme" in r["sentence"])
    mine = {str(e.pk) for e in AuditLogEntry.objects.filter(tenant=a.tenant, cid="shared-request-id-0001")}
    assert set(row["entries"]) == mine and len(mine) == 2
    assert "Gus Globex" not in html and "globex" not in html.lower()
    # and the grouping itself never joins entries of two tenants, even adjacent with one id
    entries = list(AuditLogEntry.objects.filter(cid="shared-request-id-0001").order_by("-timestamp", "-id"))
    groups = entries_group(entries)
    assert len(groups) == 2 and all(len({e.tenant_id for e in g}) == 1 for g in groups)


def test_the_csv_gives_one_actions_entries_one_action_id(two_tenants):
    a = two_tenants.a
    admin = _client(a.admin)
    _invite(admin, "csv.one@acme.example", "Carl Csv")
    _invite(admin, "csv.two@acme.example", "Cora Csv")
    response = _client(a.owner).get("/logs/audit/export/?format=csv")
    assert response.status_code == 200
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text)))
    by_person: dict[str, set[str]] = {}
    for row in rows:
        for name in ("Carl Csv", "Cora Csv"):
            if name in row["summary"]:
                by_person.setdefault(name, set()).add(row["action_id"])
    carl, cora = by_person["Carl Csv"], by_person["Cora Csv"]
    assert len(carl) == 1 and len(cora) == 1 and carl != cora and "" not in carl
    assert sum(1 for row in rows if row["action_id"] in carl) == 2  # one row per stored entry


def test_the_action_id_is_the_requests_id_and_safe_in_a_spreadsheet(two_tenants):
    a = two_tenants.a
    admin = _client(a.admin)
    response = admin.post("/people/invite/", {"email": "rid@acme.example", "display_name": "Rid Id",
                                              "role": Role.MEMBER}, HTTP_X_REQUEST_ID="-2+3-cmd-abc")
    assert response.status_code == 302
    offered = response["X-Request-ID"]  # the proxy's id when it looks like one, else a new one
    stored = AuditLogEntry.objects.filter(tenant=a.tenant, actor=a.admin)
    assert {e.cid for e in stored} == {offered}
    shaped = admin.post("/people/invite/", {"email": "rid2@acme.example", "display_name": "Rid Two",
                                            "role": Role.MEMBER}, HTTP_X_REQUEST_ID="-formula-id-1")
    assert shaped["X-Request-ID"] == "-formula-id-1"
    text = b"".join(_client(a.owner).get("/logs/audit/export/?format=csv").streaming_content)
    rows = list(csv.DictReader(io.StringIO(text.decode("utf-8-sig"))))
    ids = {row["action_id"] for row in rows if "Rid Two" in row["summary"]}
    assert len(ids) == 1 and not ids.pop().startswith("-")  # neutralised like every text cell


def _older_link(html: str) -> str | None:
    found = re.search(r'href="(\?[^"]*)" rel="next" data-testid="page-older"', html)
    return unescape(found.group(1)) if found else None


def test_a_page_ends_between_actions_not_inside_one(two_tenants):
    a = two_tenants.a
    for n in range(3):  # three separate requests, two entries each (the oldest actions)
        token = correlation_id.set(f"older-request-{n:04d}")
        try:
            with set_actor(a.admin):
                person_invite(tenant=a.tenant, actor=a.admin, email=f"early{n}@acme.example",
                              display_name=f"Early {n}", role=Role.MEMBER)
        finally:
            correlation_id.reset(token)
    token = correlation_id.set("one-bulk-request-0001")  # one request writing 30 entries
    try:
        with set_actor(a.admin):
            for n in range(15):
                person_invite(tenant=a.tenant, actor=a.admin, email=f"bulk{n}@acme.example",
                              display_name=f"Bulk {n}", role=Role.MEMBER)
    finally:
        correlation_id.reset(token)
    bulk = {str(pk) for pk in AuditLogEntry.objects.filter(
        tenant=a.tenant, cid="one-bulk-request-0001").values_list("pk", flat=True)}
    assert len(bulk) == 30

    owner = _client(a.owner)
    first = owner.get("/logs/audit/", {"size": 25, "actor": a.admin.pk}).content.decode()
    rows = _rows(first)
    # The 25-entry page would have cut the bulk action after 25 of its 30 entries.
    assert [set(r["entries"]) for r in rows if set(r["entries"]) & bulk] == [bulk]
    older = _older_link(first)
    assert older is not None
    second = _rows(owner.get("/logs/audit/" + older).content.decode())
    assert second and not any(set(r["entries"]) & bulk for r in second)  # nothing of it again
    assert sum("Early" in r["sentence"] for r in second) == 3  # each older action, once, whole
    assert all(len(r["entries"]) == 2 for r in second if "Early" in r["sentence"])
