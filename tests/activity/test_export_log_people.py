"""The export log names the people an export was filtered to ("Person: Bob Builder", not
"Person: 5"), looked up in the reader's tenant only: another tenant's id reads as an unknown
person and none of their details reach the page."""

from __future__ import annotations

from html import unescape

import pytest

from activity.filters import filters_describe, filters_person_ids
from tests.activity.test_log_support import export

pytestmark = pytest.mark.django_db


def test_the_export_log_names_the_person_filtered_to(two_tenants, signed_in):
    a, b = two_tenants.a, two_tenants.b
    a.member.display_name = "Bob Builder"
    a.member.save()
    b.member.display_name = "Gina Globex"
    b.member.save()
    export(a.tenant, a.auditor, filters={"person": str(a.member.pk), "outcome": "failure"})
    export(a.tenant, a.auditor, dataset="audit_trail", filters={"actor": str(a.admin.pk)})
    export(a.tenant, a.auditor, filters={"person": str(b.member.pk)})  # a tampered URL, recorded
    page = unescape(signed_in(a.owner).get("/logs/exports/").content.decode())
    assert "Person: Bob Builder" in page
    assert f"Actor: {a.admin}" in page
    assert f"Person: {a.member.pk}<" not in page
    assert "Person: unknown person" in page
    assert "Gina Globex" not in page and b.member.email not in page
    assert f"Person: {b.member.pk}<" not in page


def test_my_exports_name_me(two_tenants, signed_in):
    a = two_tenants.a
    export(a.tenant, a.member, filters={"person": str(a.member.pk)})
    page = unescape(signed_in(a.member).get("/me/exports/").content.decode())
    assert f"Person: {a.member}" in page


def test_describe_without_names_keeps_the_record_and_with_names_never_shows_an_id():
    recorded = {"person": "5", "actor": "x", "outcome": "failure"}
    assert filters_person_ids(recorded) == {5}
    assert filters_person_ids({"person": "-1", "actor": "1e9"}) == set()
    assert dict(filters_describe(recorded))["Person"] == "5"
    named = dict(filters_describe(recorded, {5: "Bob Builder"}))
    assert named == {"Person": "Bob Builder", "Actor": "unknown person", "Outcome": "Failure"}
    assert dict(filters_describe({"person": "6"}, {5: "Bob Builder"})) == {"Person": "unknown person"}
