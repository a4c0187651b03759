"""Preview and apply through the services: each row error, encodings, both apply modes, a
resumed apply after a killed worker, the record."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.test import override_settings
from django.utils import timezone

from accounts.models import User
from activity.models import AuditLogEntry
from notifications.models import OutboxMessage
from people.imports import services
from people.models import ImportChunk, ImportJob, ImportRow
from tenants.models import Invitation
from tenants.roles import Role
from tests.factories import UserFactory
from tests.people.imports.support import applied, outcomes, previewed, upload

pytestmark = pytest.mark.django_db

HEADER = "email,name,role,language,time zone,action\n"


def _people(tenant) -> dict[str, User]:
    return {person.email: person for person in User.objects.for_tenant(tenant)}


def test_gbk_file_with_chinese_names_creates_and_invites_them(two_tenants):
    acme = two_tenants.a
    text = "邮箱,姓名,角色,时区\nlin.wei@acme.example,林伟,成员,Asia/Shanghai\nzhao.min@acme.example,赵敏,管理员,\n"
    job = previewed(acme.tenant, acme.admin, text, encoding="gbk")
    assert job.encoding == "gb18030" and job.status == ImportJob.Status.PREVIEWED
    assert job.counts == {"create": 2}
    assert not User.objects.filter(email="lin.wei@acme.example").exists()  # a dry run
    job = applied(acme.tenant, acme.admin, job)
    assert job.status == ImportJob.Status.APPLIED
    people = _people(acme.tenant)
    lin = people["lin.wei@acme.example"]
    assert (lin.display_name, lin.role, lin.status, lin.timezone) == ("林伟", Role.MEMBER, "invited", "Asia/Shanghai")
    assert people["zhao.min@acme.example"].role == Role.ADMIN
    assert OutboxMessage.objects.for_tenant(acme.tenant).filter(kind="invitation").count() == 2


def test_utf8_with_bom_file_updates_people(two_tenants):
    acme = two_tenants.a
    text = "\ufeffEmail,Name,Role\nmember@acme.example,Mei Ling,helpdesk\nauditor@acme.example,,\n"
    job = previewed(acme.tenant, acme.admin, text)
    assert job.encoding == "utf-8-sig"
    rows = {row.email: row for row in ImportRow.objects.for_tenant(acme.tenant).filter(job=job)}
    assert rows["member@acme.example"].outcome == "update"
    assert rows["member@acme.example"].changes["role"] == ["member", "helpdesk"]
    assert rows["auditor@acme.example"].outcome == "unchanged"
    applied(acme.tenant, acme.admin, job)
    member = User.objects.get(pk=acme.member.pk)
    assert (member.display_name, member.role) == ("Mei Ling", Role.HELPDESK)


def test_a_file_in_another_encoding_is_refused_and_nothing_stored(two_tenants):
    acme = two_tenants.a
    with pytest.raises(ValidationError) as caught:
        services.import_job_create(tenant=acme.tenant, actor=acme.admin,
                                   upload=upload(HEADER + "li@acme.example,李\n", encoding="utf-16"))
    assert caught.value.error_list[0].code == "encoding"
    assert "UTF-8" in caught.value.messages[0]
    assert not ImportJob.objects.exists() and not ImportChunk.objects.exists()


def test_missing_required_column_is_a_whole_file_error(two_tenants):
    acme = two_tenants.a
    with pytest.raises(ValidationError) as caught:
        services.import_job_create(tenant=acme.tenant, actor=acme.admin,
                                   upload=upload("name,role\nLi,admin\n"))
    assert caught.value.error_list[0].code == "missing_columns"
    assert not ImportJob.objects.exists()


@override_settings(PEOPLE_IMPORT_MAX_ROWS=3)
def test_too_many_rows_are_refused_with_the_ceiling(two_tenants):
    acme = two_tenants.a
    text = "email\n" + "".join(f"p{i}@acme.example\n" for i in range(4))
    with pytest.raises(ValidationError) as caught:
        services.import_job_create(tenant=acme.tenant, actor=acme.admin, upload=upload(text))
    assert caught.value.error_list[0].code == "too_many_rows"
    assert "3" in caught.value.messages[0]


def test_each_row_error_is_found_and_the_valid_rows_are_still_previewed(two_tenants):
    acme, globex = two_tenants.a, two_tenants.b
    # An address on Acme's domain that belongs to Globex's account (the domain changed hands).
    UserFactory(tenant=globex.tenant, email="moved@acme.example")
    text = HEADER + "\n".join([
        "new.one@acme.example,New One,,,,",
        "not-an-address,Bad,,,,",
        "someone@globex.example,Elsewhere,,,,",
        "someone@unknown.example,Nobody's,,,,",
        "moved@acme.example,Moved,,,,",
        "new.two@acme.example,Two,emperor,,,",
        "new.one@acme.example,Again,,,,",
        "new.three@acme.example,=cmd|' /C calc'!A0,,,,",
        "member@acme.example,,,,,create",
        "ghost@acme.example,,,,,suspend",
        "owner@acme.example,,,,,suspend",
        "admin@acme.example,,,,,suspend",
    ]) + "\n"
    job = previewed(acme.tenant, acme.admin, text)
    assert outcomes(job) == [
        ("new.one@acme.example", "create", ""),
        ("not-an-address", "error", "bad_email"),
        ("someone@globex.example", "error", "foreign_domain"),
        ("someone@unknown.example", "error", "foreign_domain"),
        ("moved@acme.example", "error", "other_tenant"),
        ("new.two@acme.example", "error", "unknown_role"),
        ("new.one@acme.example", "error", "duplicate"),
        ("new.three@acme.example", "error", "formula"),
        ("member@acme.example", "error", "exists"),
        ("ghost@acme.example", "error", "not_found"),
        ("owner@acme.example", "error", "owner_only"),  # an admin cannot suspend an owner
        ("admin@acme.example", "error", "self"),
    ]
    duplicate = ImportRow.objects.for_tenant(acme.tenant).get(job=job, line=8)
    assert (duplicate.error_code, duplicate.error_params["line"]) == ("duplicate", 2)
    assert job.counts == {"create": 1, "error": 11}
    assert job.total_rows == 12


def test_the_last_owner_cannot_be_demoted_suspended_or_offboarded(two_tenants):
    acme = two_tenants.a
    text = HEADER + "owner@acme.example,,admin,,,\n"
    job = previewed(acme.tenant, acme.owner, text)
    assert outcomes(job) == [("owner@acme.example", "error", "last_owner")]
    text = HEADER + "owner@acme.example,,,,,offboard\n"
    assert outcomes(previewed(acme.tenant, acme.owner, text)) == [("owner@acme.example", "error", "last_owner")]
    # With a second owner, the file may demote them, but then not the other one as well.
    UserFactory(tenant=acme.tenant, role=Role.OWNER, email="second@acme.example")
    text = HEADER + "second@acme.example,,admin,,,\nowner@acme.example,,,,,suspend\n"
    job = previewed(acme.tenant, acme.owner, text)
    assert outcomes(job) == [("second@acme.example", "update", ""),
                             ("owner@acme.example", "error", "last_owner")]


def test_formula_cells_are_refused_saying_which_column(two_tenants, settings):
    acme = two_tenants.a
    job = previewed(acme.tenant, acme.admin, HEADER + "new@acme.example,@SUM(1+1),,,,\n")
    row = ImportRow.objects.for_tenant(acme.tenant).get(job=job)
    assert row.error_code == "formula"
    assert row.error_params == {"column": "name", "char": "@"}


def test_all_or_nothing_is_refused_while_the_preview_has_errors(two_tenants):
    acme = two_tenants.a
    job = previewed(acme.tenant, acme.admin, HEADER + "a@acme.example,A,,,,\nbad,B,,,,\n")
    with pytest.raises(ValidationError) as caught:
        services.import_job_apply(tenant=acme.tenant, actor=acme.admin, job=job,
                                  mode=ImportJob.Mode.ALL_OR_NOTHING)
    assert caught.value.error_list[0].code == "has_errors"
    job.refresh_from_db()
    assert job.status == ImportJob.Status.PREVIEWED
    assert not User.objects.filter(email="a@acme.example").exists()


def test_valid_rows_mode_applies_the_valid_rows_and_skips_the_errors(two_tenants):
    acme = two_tenants.a
    text = HEADER + "a@acme.example,A,,,,\nbad,B,,,,\nmember@acme.example,,,,,suspend\n"
    job = applied(acme.tenant, acme.admin, previewed(acme.tenant, acme.admin, text))
    assert job.status == ImportJob.Status.APPLIED
    assert job.applied_counts == {"create": 1, "suspend": 1}
    assert User.objects.get(email="a@acme.example").status == User.Status.INVITED
    assert User.objects.get(pk=acme.member.pk).status == User.Status.SUSPENDED
    # The import is in the audit trail, and so is each change, through the services.
    assert AuditLogEntry.objects.for_tenant(acme.tenant).filter(
        content_type__model="importjob", object_pk=str(job.pk)).count() == 1
    assert AuditLogEntry.objects.for_tenant(acme.tenant).filter(
        object_pk=str(acme.member.pk), changes__status__1="suspended").exists()
    assert not ImportChunk.objects.filter(job=job).exists()  # the file is not kept after apply


def test_all_or_nothing_rolls_back_everything_when_a_row_fails_at_apply(two_tenants):
    acme = two_tenants.a
    text = HEADER + "a@acme.example,A,,,,\nb@acme.example,B,,,,\nmember@acme.example,,admin,,,\n"
    job = previewed(acme.tenant, acme.admin, text)
    assert job.counts == {"create": 2, "update": 1}
    # Between the preview and the apply, somebody invites b@ through the people page.
    UserFactory(tenant=acme.tenant, email="b@acme.example", status=User.Status.INVITED)
    mails = OutboxMessage.objects.count()
    job = applied(acme.tenant, acme.admin, job, mode=ImportJob.Mode.ALL_OR_NOTHING)
    assert job.status == ImportJob.Status.FAILED
    assert job.error_code == "row_failed" and job.error_params["line"] == 3
    assert not User.objects.filter(email="a@acme.example").exists()
    assert User.objects.get(pk=acme.member.pk).role == Role.MEMBER
    assert OutboxMessage.objects.count() == mails
    assert not ImportRow.objects.filter(job=job, applied_at__isnull=False).exists()


def test_all_or_nothing_applies_a_clean_file(two_tenants):
    acme = two_tenants.a
    job = previewed(acme.tenant, acme.admin, HEADER + "a@acme.example,A,,en,Europe/Berlin,\n")
    job = applied(acme.tenant, acme.admin, job, mode=ImportJob.Mode.ALL_OR_NOTHING)
    assert job.status == ImportJob.Status.APPLIED
    person = User.objects.get(email="a@acme.example")
    assert (person.language, person.timezone) == ("en", "Europe/Berlin")


class _Killed(BaseException):
    """Stands for SIGKILL: nothing after it runs, the open transaction is rolled back."""


@override_settings(PEOPLE_IMPORT_BATCH_ROWS=2)
def test_apply_resumes_after_a_killed_worker_and_a_rerun_does_nothing_twice(two_tenants, monkeypatch):
    acme = two_tenants.a
    text = HEADER + "".join(f"p{i}@acme.example,P {i},,,,\n" for i in range(5))
    job = previewed(acme.tenant, acme.admin, text)
    services.import_job_apply(tenant=acme.tenant, actor=acme.admin, job=job,
                              mode=ImportJob.Mode.VALID_ROWS)
    real = services._apply_row
    calls = {"n": 0}

    def dies_on_the_fourth(job, actor, row):
        calls["n"] += 1
        if calls["n"] == 4:
            raise _Killed
        return real(job, actor, row)

    monkeypatch.setattr(services, "_apply_row", dies_on_the_fourth)
    with pytest.raises(_Killed):
        services.import_job_run(tenant_id=acme.tenant.pk, job_id=job.pk)
    job.refresh_from_db()
    assert job.status == ImportJob.Status.APPLYING and job.applied_rows == 2  # the first batch
    assert User.objects.filter(email__startswith="p", tenant=acme.tenant).count() == 2
    # While the dead worker's lease runs, nobody takes the job; afterwards the next run does.
    services.import_job_run(tenant_id=acme.tenant.pk, job_id=job.pk)
    job.refresh_from_db()
    assert job.applied_rows == 2
    ImportJob.objects.filter(pk=job.pk).update(lease_until=timezone.now() - timedelta(seconds=1))
    assert services.import_jobs_run_due() == 1
    job.refresh_from_db()
    assert job.status == ImportJob.Status.APPLIED and job.applied_counts == {"create": 5}
    assert User.objects.filter(email__startswith="p", tenant=acme.tenant).count() == 5
    assert Invitation.objects.for_tenant(acme.tenant).filter(user__email__startswith="p").count() == 5
    assert OutboxMessage.objects.for_tenant(acme.tenant).filter(kind="invitation").count() == 5
    # Applying again is refused and changes nothing.
    with pytest.raises(ValidationError):
        services.import_job_apply(tenant=acme.tenant, actor=acme.admin, job=job,
                                  mode=ImportJob.Mode.VALID_ROWS)
    assert services.import_jobs_run_due() == 0
    assert OutboxMessage.objects.for_tenant(acme.tenant).filter(kind="invitation").count() == 5


@override_settings(PEOPLE_IMPORT_BATCH_ROWS=2)
def test_preview_resumes_after_a_killed_worker_without_duplicating_rows(two_tenants, monkeypatch):
    acme = two_tenants.a
    text = HEADER + "".join(f"p{i}@acme.example,P {i},,,,\n" for i in range(5)) + "p0@acme.example,,,,,\n"
    job = services.import_job_create(tenant=acme.tenant, actor=acme.admin, upload=upload(text))
    real = services._preview_batch
    calls = {"n": 0}

    def dies_on_the_second(job, judge, batch):
        calls["n"] += 1
        if calls["n"] == 2:
            raise _Killed
        return real(job, judge, batch)

    monkeypatch.setattr(services, "_preview_batch", dies_on_the_second)
    with pytest.raises(_Killed):
        services.import_job_run(tenant_id=acme.tenant.pk, job_id=job.pk)
    monkeypatch.setattr(services, "_preview_batch", real)
    ImportJob.objects.filter(pk=job.pk).update(lease_until=timezone.now() - timedelta(seconds=1))
    services.import_jobs_run_due()
    job.refresh_from_db()
    assert job.status == ImportJob.Status.PREVIEWED
    assert list(ImportRow.objects.filter(job=job).order_by("line").values_list("line", flat=True)) == [2, 3, 4, 5, 6, 7]
    assert job.counts == {"create": 5, "error": 1}  # the repeated p0 is a duplicate across batches


def test_roles_without_the_capability_cannot_import(two_tenants):
    acme = two_tenants.a
    for person in (acme.helpdesk, acme.auditor, acme.member):
        with pytest.raises(ValidationError):
            services.import_job_create(tenant=acme.tenant, actor=person,
                                       upload=upload(HEADER + "a@acme.example,,,,,\n"))
    # Another tenant's admin cannot apply or discard Acme's job.
    job = previewed(acme.tenant, acme.admin, HEADER + "a@acme.example,,,,,\n")
    for call in (services.import_job_apply, services.import_job_discard):
        kwargs = {"mode": ImportJob.Mode.VALID_ROWS} if call is services.import_job_apply else {}
        with pytest.raises(ValidationError):
            call(tenant=two_tenants.b.tenant, actor=two_tenants.b.admin, job=job, **kwargs)
    job.refresh_from_db()
    assert job.status == ImportJob.Status.PREVIEWED


def test_an_admin_cannot_create_owners_by_file(two_tenants):
    acme = two_tenants.a
    job = previewed(acme.tenant, acme.admin, HEADER + "boss@acme.example,Boss,owner,,,\n")
    assert outcomes(job) == [("boss@acme.example", "error", "owner_only")]


def test_details_update_refuses_an_unknown_time_zone_and_changes_nothing(two_tenants):
    acme = two_tenants.a
    member = acme.member
    before = member.timezone
    with pytest.raises(ValidationError) as caught:
        services.person_details_update(tenant=acme.tenant, actor=acme.admin, person=member,
                                       timezone_name="Mars/Olympus_Mons")
    assert caught.value.code == "timezone"
    member.refresh_from_db()
    assert member.timezone == before
    services.person_details_update(tenant=acme.tenant, actor=acme.admin, person=member,
                                   timezone_name="America/Lima")
    member.refresh_from_db()
    assert member.timezone == "America/Lima"


def test_an_imported_persons_invitation_is_in_the_language_of_their_row(two_tenants):
    """The file says 简体中文 for one person in an English company: their invitation e-mail is
    Chinese, the other's English; both keep the file's language and time zone."""
    acme = two_tenants.a
    text = (HEADER + "li.na@acme.example,李娜,member,zh-hans,Asia/Shanghai,\n"
            "sam.lee@acme.example,Sam Lee,member,,,\n")
    applied(acme.tenant, acme.admin, previewed(acme.tenant, acme.admin, text))
    mails = {m.to: m for m in OutboxMessage.objects.for_tenant(acme.tenant).filter(kind="invitation")}
    assert mails["li.na@acme.example"].language == "zh-hans"
    assert mails["sam.lee@acme.example"].language in ("", "en")
    li = User.objects.get(email="li.na@acme.example")
    assert (li.language, li.timezone) == ("zh-hans", "Asia/Shanghai")
