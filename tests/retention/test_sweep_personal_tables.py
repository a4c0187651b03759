"""The sweep and the personal tables added after it: password-reset links (30 days after they
expired) and the reset throttle (a day), revoked client-specific passwords, and people imports
(the job, its rows and its uploaded file) past the tenant's purge day; a legal hold keeps a held
person's; the dry run counts them, the receipt lists them, a second sweep removes nothing."""

from __future__ import annotations

import datetime as dt

import pytest

from accounts.mailclients.models import MailClientPassword
from activity.lifetime import retention_rules
from people.models import ImportChunk, ImportJob, ImportRow
from retention import selectors
from retention.models import LegalHold, SweepReceipt
from retention.sweep import retention_sweep
from security.recovery.models import PasswordReset, PasswordResetThrottle
from tests.conftest import TenantSet, TwoTenants
from tests.retention.support import NOW, days_ago

pytestmark = pytest.mark.django_db

RESETS, MAIL_CLIENTS = "security_passwordreset", "accounts_mailclientpassword"
JOBS, ROWS, CHUNKS = "people_importjob", "people_importrow", "people_importchunk"
THROTTLE = "security_passwordresetthrottle"


def _reset(t: TenantSet, person, sent: dt.datetime, *, used: bool = False) -> PasswordReset:
    return PasswordReset.objects.create(
        tenant=t.tenant, user=person, token_hash="0" * 64, requested_by=t.helpdesk, created_at=sent,
        expires_at=sent + dt.timedelta(hours=1), used_at=sent + dt.timedelta(minutes=5) if used else None)


def _mail_client(t: TenantSet, person, name: str, revoked: dt.datetime | None) -> MailClientPassword:
    row = MailClientPassword.objects.create(tenant=t.tenant, user=person, name=name,
                                            digest=f"{abs(hash((t.tenant.pk, name))):064x}"[-64:],
                                            revoked_at=revoked)
    MailClientPassword.objects.filter(pk=row.pk).update(created_at=days_ago(400))
    return row


def _import(t: TenantSet, name: str, ended: dt.datetime | None, *, uploaded: dt.datetime,
            emails: tuple[str, ...] = ("new1", "new2"), by=None) -> ImportJob:
    job = ImportJob.objects.create(tenant=t.tenant, filename=f"{name}.csv", size=100, encoding="utf-8",
                                   created_by=by or t.admin, applied_by=by or t.admin,
                                   status=ImportJob.Status.APPLIED if ended else ImportJob.Status.PREVIEWED,
                                   finished_at=ended)
    ImportJob.objects.filter(pk=job.pk).update(created_at=uploaded)
    domain = t.tenant.slug + ".example"
    ImportRow.objects.bulk_create([
        ImportRow(tenant=t.tenant, job=job, line=n + 2, email=f"{local}@{domain}", outcome="create")
        for n, local in enumerate(emails)])
    ImportChunk.objects.create(tenant=t.tenant, job=job, seq=0, data=b"email\r\nnew1@x\r\n")
    return job


def _build(t: TwoTenants) -> dict[str, object]:
    a, b = t.a, t.b
    made: dict[str, object] = {}
    made["a_reset_old"] = _reset(a, a.member, days_ago(40), used=True)
    made["a_reset_unused_old"] = _reset(a, a.admin, days_ago(35))
    made["a_reset_young"] = _reset(a, a.member, days_ago(10), used=True)  # expired 10 days ago
    made["b_reset_old"] = _reset(b, b.member, days_ago(40))
    made["a_client_revoked_old"] = _mail_client(a, a.member, "Outlook", days_ago(200))
    made["a_client_revoked_young"] = _mail_client(a, a.member, "Foxmail", days_ago(20))
    made["a_client_active"] = _mail_client(a, a.member, "Phone", None)  # in use: never purged
    made["b_client_revoked_old"] = _mail_client(b, b.member, "Outlook", days_ago(200))
    made["a_import_old"] = _import(a, "old", days_ago(200), uploaded=days_ago(201))
    made["a_import_abandoned"] = _import(a, "abandoned", None, uploaded=days_ago(250))
    made["a_import_young"] = _import(a, "young", days_ago(20), uploaded=days_ago(190))
    made["b_import_old"] = _import(b, "old", days_ago(200), uploaded=days_ago(200))
    PasswordResetThrottle.objects.create(key="old", at=days_ago(2))
    PasswordResetThrottle.objects.create(key="young", at=days_ago(0.1))
    return made


def _ids(model) -> set[int]:
    return set(model.objects.values_list("id", flat=True))


def _state() -> dict[str, set[int]]:
    return {m.__name__: _ids(m) for m in (PasswordReset, MailClientPassword, ImportJob, ImportRow,
                                          ImportChunk, PasswordResetThrottle)}


def _exists(row) -> bool:
    return type(row).objects.filter(pk=row.pk).exists()


A_EXPECTED = {RESETS: 2, MAIL_CLIENTS: 1, ROWS: 4, CHUNKS: 2, JOBS: 2}


def test_dry_run_counts_them_and_deletes_nothing(two_tenants: TwoTenants):
    _build(two_tenants)
    before = _state()
    run = retention_sweep(now=NOW, pause_seconds=0, dry_run=True)
    assert _state() == before
    receipt = SweepReceipt.objects.get(run=run, tenant=two_tenants.a.tenant)
    assert receipt.rows_purged == A_EXPECTED
    assert SweepReceipt.objects.get(run=run, tenant=two_tenants.b.tenant).rows_purged == {
        RESETS: 1, MAIL_CLIENTS: 1, ROWS: 2, CHUNKS: 1, JOBS: 1}
    # The policy page's preview counts the same, under the tables' names.
    labels = dict(selectors.purge_preview(tenant=two_tenants.a.tenant,
                                          rules=retention_rules(tenant=two_tenants.a.tenant),
                                          now=NOW).labelled())
    assert labels == {"Password reset links": 2, "Revoked client-specific passwords": 1,
                      "People import rows": 4, "Uploaded import files": 2, "People imports": 2}


def test_the_rows_past_their_day_go_the_rest_stay_and_a_second_sweep_is_a_no_op(two_tenants: TwoTenants):
    made = _build(two_tenants)
    a = two_tenants.a
    # One tenant's sweep: the other tenant's rows and the platform's throttle stay.
    run = retention_sweep(now=NOW, pause_seconds=0, batch_size=1, tenant=a.tenant)
    assert SweepReceipt.objects.get(run=run, tenant=a.tenant).rows_purged == A_EXPECTED
    gone = {"a_reset_old", "a_reset_unused_old", "a_client_revoked_old", "a_import_old",
            "a_import_abandoned"}
    for name, row in made.items():
        assert _exists(row) == (name not in gone), name
    assert set(ImportRow.objects.filter(tenant=a.tenant).values_list("job_id", flat=True)) == {
        made["a_import_young"].pk}  # type: ignore[attr-defined]
    assert set(ImportChunk.objects.filter(tenant=a.tenant).values_list("job_id", flat=True)) == {
        made["a_import_young"].pk}  # type: ignore[attr-defined]
    assert PasswordResetThrottle.objects.count() == 2
    # Every tenant's sweep: the other tenant's old rows go too, and the day-old throttle row.
    run = retention_sweep(now=NOW, pause_seconds=0, batch_size=2)
    assert SweepReceipt.objects.get(run=run, tenant=a.tenant).rows_purged == {}
    assert SweepReceipt.objects.get(run=run, tenant=two_tenants.b.tenant).rows_purged == {
        RESETS: 1, MAIL_CLIENTS: 1, ROWS: 2, CHUNKS: 1, JOBS: 1}
    assert run.rows_purged[THROTTLE] == 1
    assert list(PasswordResetThrottle.objects.values_list("key", flat=True)) == ["young"]
    assert not ImportRow.objects.filter(tenant=two_tenants.b.tenant).exists()
    # A second sweep is a no-op.
    state = _state()
    again = retention_sweep(now=NOW, pause_seconds=0)
    assert _state() == state
    assert all(r.total_purged == 0 for r in SweepReceipt.objects.filter(run=again))
    assert not any(again.rows_purged.get(table) for table in (THROTTLE,))


def test_a_running_import_is_left_to_its_worker(two_tenants: TwoTenants):
    a = two_tenants.a
    job = _import(a, "running", None, uploaded=days_ago(300))
    ImportJob.objects.filter(pk=job.pk).update(status=ImportJob.Status.APPLYING,
                                               lease_until=NOW + dt.timedelta(minutes=3))
    retention_sweep(now=NOW, pause_seconds=0)
    assert _exists(job) and ImportRow.objects.filter(job=job).count() == 2


def test_a_hold_keeps_the_held_persons_rows_and_the_receipt_counts_them(two_tenants: TwoTenants):
    made = _build(two_tenants)
    a = two_tenants.a
    LegalHold.objects.create(tenant=a.tenant, person=a.member, reason="case", placed_by=a.owner,
                             ends_on=NOW.date())
    # An old import with a line for the held person's address is kept whole.
    theirs = _import(a, "theirs", days_ago(300), uploaded=days_ago(300), emails=("member", "other"))
    run = retention_sweep(now=NOW, pause_seconds=0)
    kept = {"a_reset_old", "a_client_revoked_old"}  # the member's
    for name in kept:
        assert _exists(made[name]), name
    assert not _exists(made["a_reset_unused_old"])  # the admin's link: not held
    assert not _exists(made["a_import_old"]) and not _exists(made["a_import_abandoned"])
    assert _exists(theirs) and ImportRow.objects.filter(job=theirs).count() == 2
    assert ImportChunk.objects.filter(job=theirs).count() == 1
    receipt = SweepReceipt.objects.get(run=run, tenant=a.tenant)
    assert receipt.rows_purged == {RESETS: 1, ROWS: 4, CHUNKS: 2, JOBS: 2}
    # held: the member's link and client password, and the kept import's job, 2 rows, 1 chunk
    assert receipt.rows_held == 2 + 1 + 2 + 1
    # A whole-tenant hold keeps all of them.
    LegalHold.objects.create(tenant=a.tenant, person=None, reason="audit", placed_by=a.owner,
                             ends_on=NOW.date())
    state = _state()
    retention_sweep(now=NOW, pause_seconds=0)
    assert _state() == state
