"""The import pages as an admin uses them: upload, preview with progress and totals, apply,
discard, the template; other roles and other tenants' ids."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from accounts.models import User
from people.models import ImportJob
from tests.people.imports.support import previewed

pytestmark = pytest.mark.django_db

CSV = ("email,name,role,action\n"
       "lin.wei@acme.example,林伟,member,\n"
       "member@acme.example,,helpdesk,\n"
       "someone@globex.example,Elsewhere,,\n")


def _file(text: str, encoding: str = "utf-8") -> SimpleUploadedFile:
    return SimpleUploadedFile("staff.csv", text.encode(encoding), content_type="text/csv")


def test_upload_previews_and_apply_changes_people(two_tenants, signed_in):
    client = signed_in(two_tenants.a.admin)
    page = client.get("/people/import/").content.decode()
    assert "邮箱" in page and "GBK/GB18030" in page and "100,000" in page.replace("100000", "100,000")
    response = client.post("/people/import/", {"file": _file(CSV)})
    assert response.status_code == 302
    job = ImportJob.objects.get()
    assert response["Location"] == f"/people/import/{job.pk}/"
    body = client.get(response["Location"]).content.decode()
    assert "Ready to apply" in body
    assert 'http-equiv="refresh"' not in body  # the preview is done
    assert "someone@globex.example" in body and "globex.example is not one of your company" in body
    assert "role: Member → Helpdesk" in body
    assert not User.objects.filter(email="lin.wei@acme.example").exists()
    errors_only = client.get(response["Location"], {"outcome": "error"}).content.decode()
    assert "someone@globex.example" in errors_only and "lin.wei@acme.example" not in errors_only

    response = client.post(f"/people/import/{job.pk}/apply/", {"mode": "all_or_nothing"})
    assert response.status_code == 302
    body = client.get(f"/people/import/{job.pk}/").content.decode()
    assert "1 rows have errors" in body
    assert not User.objects.filter(email="lin.wei@acme.example").exists()

    client.post(f"/people/import/{job.pk}/apply/", {"mode": "valid_rows"})
    job.refresh_from_db()
    assert job.status == ImportJob.Status.APPLIED
    assert User.objects.get(email="lin.wei@acme.example").display_name == "林伟"
    assert User.objects.get(pk=two_tenants.a.member.pk).role == "helpdesk"
    people = client.get("/people/").content.decode()
    assert "lin.wei@acme.example" in people


def test_a_whole_file_error_is_shown_on_the_form_and_nothing_is_stored(two_tenants, signed_in):
    client = signed_in(two_tenants.a.admin)
    response = client.post("/people/import/", {"file": _file("name,role\nLi,admin\n")})
    assert response.status_code == 200
    assert "The file has no email column" in response.content.decode()
    response = client.post("/people/import/", {"file": _file(CSV, "utf-16")})
    assert "neither UTF-8 nor GBK" in response.content.decode()
    response = client.post("/people/import/", {})
    assert "Choose a CSV file to upload." in response.content.decode()
    assert not ImportJob.objects.exists()


def test_a_running_preview_refreshes_itself_and_shows_progress(two_tenants, signed_in):
    acme = two_tenants.a
    job = previewed(acme.tenant, acme.admin, CSV)
    ImportJob.objects.filter(pk=job.pk).update(status=ImportJob.Status.PREVIEWING, previewed_rows=1)
    body = signed_in(acme.admin).get(f"/people/import/{job.pk}/").content.decode()
    assert '<meta http-equiv="refresh" content="3">' in body
    assert "1 of 3 rows (33%)" in body
    assert "Refresh now" in body  # without the meta refresh, a link does it


def test_rows_are_paged_by_keyset(two_tenants, signed_in, monkeypatch):
    from people.imports import views

    monkeypatch.setattr(views, "ROW_PAGE_SIZE", 2)
    acme = two_tenants.a
    job = previewed(acme.tenant, acme.admin, "email\n" + "".join(f"p{i}@acme.example\n" for i in range(5)))
    client = signed_in(acme.admin)
    body = client.get(f"/people/import/{job.pk}/").content.decode()
    assert "p1@acme.example" in body and "p2@acme.example" not in body
    after = body.split("after=")[1].split('"')[0]
    body = client.get(f"/people/import/{job.pk}/", {"after": after}).content.decode()
    assert "p2@acme.example" in body and "p1@acme.example" not in body


def test_the_template_downloads_with_a_bom_and_the_documented_columns(two_tenants, signed_in):
    response = signed_in(two_tenants.a.admin).get("/people/import/template.csv")
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    text = response.content.decode("utf-8")
    assert text.startswith("\ufeffemail,name,role,language,time zone,action")


def test_discard_drops_the_preview_and_changes_nobody(two_tenants, signed_in):
    acme = two_tenants.a
    job = previewed(acme.tenant, acme.admin, CSV)
    response = signed_in(acme.admin).post(f"/people/import/{job.pk}/discard/")
    assert response.status_code == 302
    job.refresh_from_db()
    assert job.status == ImportJob.Status.DISCARDED
    assert not User.objects.filter(email="lin.wei@acme.example").exists()


@pytest.mark.parametrize("role", ["auditor", "helpdesk", "member"])
def test_roles_without_people_invite_cannot_open_the_import(two_tenants, signed_in, role):
    client = signed_in(two_tenants.a.by_role(role))
    assert client.get("/people/import/").status_code == 403
    assert client.post("/people/import/", {"file": _file(CSV)}).status_code == 403
    assert not ImportJob.objects.exists()


def test_another_tenants_job_is_a_404_and_stays_unapplied(two_tenants, signed_in):
    globex = two_tenants.b
    job = previewed(globex.tenant, globex.admin, "email\nnew@globex.example\n")
    client = signed_in(two_tenants.a.owner)
    assert client.get(f"/people/import/{job.pk}/").status_code == 404
    assert client.post(f"/people/import/{job.pk}/apply/", {"mode": "valid_rows"}).status_code == 404
    assert client.post(f"/people/import/{job.pk}/discard/").status_code == 404
    job.refresh_from_db()
    assert job.status == ImportJob.Status.PREVIEWED
    assert not User.objects.filter(email="new@globex.example").exists()
    assert "new@globex.example" not in client.get("/people/import/").content.decode()
