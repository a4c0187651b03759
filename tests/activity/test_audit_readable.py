"""The audit trail in words: one sentence per entry naming who did what to whom, only the changes
that are news, objects by name, filters by person affected and by object, and a CSV with the same
words as the page."""

from __future__ import annotations

import csv
import io
import re
from html import unescape

import pytest
from auditlog.context import set_actor

from activity.services import audit_entry_record
from people.services import person_change_role, person_invite, person_suspend
from tenants.roles import Role

pytestmark = pytest.mark.django_db


def _sentences(html: str) -> list[str]:
    return [unescape(s) for s in re.findall(r'data-testid="audit-sentence">([^<]*)<', html)]


def _rows(html: str) -> list[str]:
    return re.findall(r'<tr data-testid="audit-row".*?</tr>', html, re.DOTALL)


def test_a_role_change_reads_as_one_sentence_with_labels(two_tenants, signed_in):
    a = two_tenants.a
    a.admin.display_name, a.member.display_name = "Adam Admin", "Bob Builder"
    a.admin.save(), a.member.save()
    with set_actor(a.admin):  # as the console's middleware does for a request
        person_change_role(tenant=a.tenant, actor=a.admin, person=a.member, role=Role.HELPDESK)
    html = signed_in(a.owner).get("/logs/audit/").content.decode()
    assert "Adam Admin changed Bob Builder's role from Member to Helpdesk" in _sentences(html)
    row = next(r for r in _rows(html) if "role from Member to Helpdesk" in unescape(r))
    assert "Member</span> → <span class=\"new\">Helpdesk" in row


def test_a_created_person_shows_what_was_set_and_nothing_internal(two_tenants, signed_in):
    a = two_tenants.a
    a.admin.display_name = "Adam Admin"
    a.admin.save()
    with set_actor(a.admin):
        issued = person_invite(tenant=a.tenant, actor=a.admin, email="new.person@acme.example",
                               display_name="Nina New", role=Role.AUDITOR)
    html = signed_in(a.owner).get("/logs/audit/").content.decode()
    sentences = _sentences(html)
    assert "Adam Admin added Nina New as Auditor" in sentences
    assert "Adam Admin sent an invitation to Nina New" in sentences
    page = unescape(html)
    for internal in ("Superuser status", "Tenant:", "Operator", "Token hash"):
        assert internal not in page
    # times to the minute, never microseconds
    assert not re.search(r"\d{2}:\d{2}:\d{2}\.\d+", page)
    invitation_row = next(r for r in _rows(html) if "sent an invitation" in r)
    assert f"→ <span class=\"new\">{issued.invitation.user.pk}<" not in invitation_row
    assert "Nina New" in invitation_row


def test_filter_by_person_affected_and_by_object(two_tenants, signed_in):
    a, b = two_tenants.a, two_tenants.b
    person_suspend(tenant=a.tenant, actor=a.admin, person=a.member)
    person_change_role(tenant=a.tenant, actor=a.admin, person=a.helpdesk, role=Role.AUDITOR)
    client = signed_in(a.owner)
    html = client.get(f"/logs/audit/?person={a.member.pk}").content.decode()
    sentences = _sentences(html)
    assert sentences and all(str(a.member) in s for s in sentences)
    assert any("suspended" in s for s in sentences)
    assert 'data-testid="person-filter"' in html
    by_object = client.get(f"/logs/audit/?type=accounts.user&object={a.helpdesk.pk}").content.decode()
    assert _sentences(by_object) and all(str(a.helpdesk) in s for s in _sentences(by_object))
    # another tenant's person: nothing, and no name of theirs
    person_suspend(tenant=b.tenant, actor=b.admin, person=b.member)
    other = client.get(f"/logs/audit/?person={b.member.pk}").content.decode()
    assert _sentences(other) == []
    assert b.member.email not in other


def test_a_bad_object_id_is_a_translated_error_not_a_500(two_tenants, signed_in):
    response = signed_in(two_tenants.a.owner).get("/logs/audit/?type=accounts.user&object=x")
    assert response.status_code == 200
    assert "Object" in response.content.decode()


def test_the_csv_has_the_pages_sentence(two_tenants, signed_in):
    a = two_tenants.a
    a.admin.display_name = "Adam Admin"
    a.admin.save()
    with set_actor(a.admin):
        person_change_role(tenant=a.tenant, actor=a.admin, person=a.member, role=Role.HELPDESK)
    response = signed_in(a.owner).get("/logs/audit/export/?format=csv")
    assert response.status_code == 200
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert {"summary", "changes_text"} <= set(rows[0])
    summaries = [row["summary"] for row in rows]
    assert f"Adam Admin changed {a.member}'s role from Member to Helpdesk" in summaries
    role_row = next(row for row in rows if "role from Member" in row["summary"])
    assert role_row["changes_text"] == "Role: Member → Helpdesk"


def test_a_persons_own_change_says_their(two_tenants, signed_in):
    a = two_tenants.a
    audit_entry_record(obj=a.member, actor=a.member, changes={"password": ["", "changed"]})
    audit_entry_record(obj=a.member, actor=a.admin, changes={"lockout": ["locked", "unlocked"]})
    html = signed_in(a.owner).get(f"/logs/audit/?person={a.member.pk}").content.decode()
    assert f"{a.member} changed their password" in _sentences(html)
    assert f"{a.admin} unlocked {a.member}" in _sentences(html)
