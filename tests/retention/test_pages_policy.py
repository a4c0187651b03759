"""The retention policy page: who reads and who changes it, the shortening preview and its signed
confirmation, bad input, and the last sweep's receipt."""

from __future__ import annotations

import datetime as dt
import re

import pytest
import time_machine
from django.core import signing
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from activity.lifetime import RetentionRules
from activity.models import AuditLogEntry, RetentionPolicy
from retention.models import SweepReceipt, SweepRun
from retention.selectors import purge_preview
from retention.views import CONFIRM_SALT
from tests.activity.test_log_pages import sign_in
from tests.retention.support import exports, sign_ins

pytestmark = pytest.mark.django_db

URL = "/retention/"


def body(response) -> str:
    return response.content.decode()


def policy_values(tenant) -> tuple[int, int, int] | None:
    policy = RetentionPolicy.objects.for_tenant(tenant).first()
    return None if policy is None else (policy.visible_days, policy.purge_days, policy.audit_days)


def token_of(response) -> str:
    match = re.search(r'name="confirm" value="([^"]+)"', body(response))
    assert match, body(response)[:2000]
    return match.group(1)


def post(client, visible=90, purge=180, audit=365):
    return client.post(URL, {"visible_days": visible, "purge_days": purge, "audit_days": audit})


@pytest.mark.parametrize("role,status,form", [
    ("owner", 200, True), ("admin", 200, False), ("auditor", 200, False),
    ("helpdesk", 403, False), ("member", 403, False),
])
def test_who_reads_and_who_changes(two_tenants, make_client, role, status, form) -> None:
    a = two_tenants.a
    client = sign_in(make_client(), a.by_role(role))
    response = client.get(URL)
    assert response.status_code == status
    if status == 200:
        page = body(response)
        assert ('name="purge_days"' in page) is form
        assert "180 days" in page and "90 days" in page  # the defaults, with no saved row
        assert 'data-testid="no-receipt"' in page
    if not form:
        assert post(client, purge=400).status_code == 403
        assert policy_values(a.tenant) is None


def test_lengthening_saves_at_once_and_is_audited(two_tenants, make_client) -> None:
    a, b = two_tenants.a, two_tenants.b
    client = sign_in(make_client(), a.owner)
    response = post(client, visible=120, purge=400, audit=500)
    assert response.status_code == 302 and response["Location"] == URL
    assert policy_values(a.tenant) == (120, 400, 500)
    assert policy_values(b.tenant) is None
    page = body(client.get(URL))
    assert "The retention policy is saved." in page and "400 days" in page
    entry = AuditLogEntry.objects.for_tenant(a.tenant).filter(
        content_type__model="retentionpolicy").latest("pk")
    assert entry.actor == a.owner and entry.changes["purge_days"] == ["180", "400"]


def test_shortening_previews_then_saves_only_on_confirm(two_tenants, make_client) -> None:
    a, b = two_tenants.a, two_tenants.b
    RetentionPolicy.objects.create(tenant=a.tenant, visible_days=90, purge_days=365,
                                   audit_days=365)
    now = timezone.now()
    sign_ins(a.tenant, a.member, [now - dt.timedelta(days=200 + i) for i in range(1203)])
    sign_ins(a.tenant, a.member, [now - dt.timedelta(days=100)])  # kept under both policies
    exports(a.tenant, a.admin, [now - dt.timedelta(days=250)] * 2)
    sign_ins(b.tenant, b.member, [now - dt.timedelta(days=200)] * 5)  # Globex: never counted
    client = sign_in(make_client(), a.owner)

    preview = post(client, visible=60, purge=180, audit=365)
    assert preview.status_code == 200
    page = body(preview)
    # Every table the sweep purges is counted (the sign-ins' alert evidence too, when the
    # detector kept some): the total is the preview's own.
    expected = purge_preview(tenant=a.tenant, rules=RetentionRules(60, 180, 365)).total
    assert expected >= 1205
    assert f"The next sweep will delete {expected:,} records for good" in page
    assert "Sign-in events: <strong>1,203</strong>" in page
    assert "Export events: <strong>2</strong>" in page
    assert 'class="num shorter"' in page  # the shortened period stands out
    assert "leave the logs and exports at once" in page  # visible days shortened too
    assert policy_values(a.tenant) == (90, 365, 365)  # nothing saved yet

    confirmed = client.post(URL, {"confirm": token_of(preview)})
    assert confirmed.status_code == 302
    assert policy_values(a.tenant) == (60, 180, 365)
    # The same confirmation again is stale now: nothing changes.
    RetentionPolicy.objects.filter(tenant=a.tenant).update(purge_days=200)
    client.post(URL, {"confirm": token_of(preview)})
    assert policy_values(a.tenant) == (60, 200, 365)


def test_a_tampered_stale_foreign_or_expired_confirmation_changes_nothing(two_tenants,
                                                                           make_client) -> None:
    a, b = two_tenants.a, two_tenants.b
    RetentionPolicy.objects.create(tenant=a.tenant, visible_days=90, purge_days=365,
                                   audit_days=365)
    owner = sign_in(make_client(), a.owner)
    token = token_of(post(owner, purge=200))
    # Tampered: the values changed by hand, or the signature cut.
    forged = signing.dumps({"tenant": a.tenant.pk, "actor": a.owner.pk,
                            "before": [90, 365, 365], "after": [1, 180, 180]}, salt="other")
    for bad in (forged, token[:-3] + "abc", "garbage", ""):
        response = owner.post(URL, {"confirm": bad}, follow=True)
        assert response.status_code == 200
        assert "nothing was changed" in body(response)
        assert policy_values(a.tenant) == (90, 365, 365)
    # Another owner of the same tenant cannot replay it, nor can Globex's owner.
    second_owner = a.admin
    second_owner.role = "owner"
    second_owner.save()
    for person in (second_owner, b.owner):
        other = sign_in(make_client(), person)
        other.post(URL, {"confirm": token})
        assert policy_values(a.tenant) == (90, 365, 365)
    assert policy_values(b.tenant) is None
    # Stale: the policy changed after the preview.
    RetentionPolicy.objects.filter(tenant=a.tenant).update(visible_days=80)
    response = owner.post(URL, {"confirm": token}, follow=True)
    assert "changed since that preview" in body(response)
    assert policy_values(a.tenant) == (80, 365, 365)
    # Expired: ten minutes later.
    RetentionPolicy.objects.filter(tenant=a.tenant).update(visible_days=90)
    fresh = token_of(post(owner, purge=200))
    with time_machine.travel(timezone.now() + dt.timedelta(minutes=11)):
        response = owner.post(URL, {"confirm": fresh}, follow=True)
    assert "expired" in body(response)
    assert policy_values(a.tenant) == (90, 365, 365)
    assert signing.loads(fresh, salt=CONFIRM_SALT)["after"] == [90, 200, 365]


@pytest.mark.parametrize("values,field,message", [
    ({"visible_days": 200, "purge_days": 180}, "visible_days", "cannot stay visible longer"),
    ({"purge_days": 30}, "purge_days", "deleted after 180 to 730 days"),
    ({"purge_days": 5000}, "purge_days", "deleted after 180 to 730 days"),
    ({"audit_days": 10}, "audit_days", "at least 180 days"),
    ({"visible_days": -5}, "visible_days", "greater than or equal to 1"),
    ({"visible_days": "ninety"}, "visible_days", "Enter a whole number"),
    ({"purge_days": ""}, "purge_days", "This field is required"),
    ({"purge_days": "1e9"}, "purge_days", "Enter a whole number"),
    ({"purge_days": "9" * 40}, "purge_days", "less than or equal to 100000"),
    ({"audit_days": "3\x0065"}, "audit_days", "Enter a whole number"),
])
def test_bad_input_shows_field_errors_and_saves_nothing(two_tenants, make_client, values, field,
                                                        message) -> None:
    a = two_tenants.a
    client = sign_in(make_client(), a.owner)
    data = {"visible_days": 90, "purge_days": 180, "audit_days": 365, **values}
    response = client.post(URL, data)
    assert response.status_code == 200
    page = body(response)
    assert message in page
    assert re.search(rf'has-error">\s*<label for="id_{field}"', page)
    assert policy_values(a.tenant) is None
    assert not AuditLogEntry.objects.for_tenant(a.tenant).filter(
        content_type__model="retentionpolicy").exists()


def test_unchanged_values_save_nothing(two_tenants, make_client) -> None:
    a = two_tenants.a
    client = sign_in(make_client(), a.owner)
    response = post(client, visible=90, purge=180, audit=365)
    assert response.status_code == 302
    assert policy_values(a.tenant) is None
    assert "Nothing changed." in body(client.get(URL))


def test_the_last_receipt_and_the_history_are_the_tenants_own(two_tenants, make_client) -> None:
    a, b = two_tenants.a, two_tenants.b
    started = timezone.now() - dt.timedelta(hours=3)
    run = SweepRun.objects.create(started_at=started, finished_at=started + dt.timedelta(minutes=2),
                                  status=SweepRun.Status.COMPLETED)
    SweepReceipt.objects.create(tenant=a.tenant, run=run, days_rolled_up=3,
                                rows_purged={"activity_loginevent": 12345,
                                             "activity_exportevent": 6},
                                rows_held=42, purge_before=dt.date(2026, 6, 4),
                                duration=dt.timedelta(seconds=81))
    SweepReceipt.objects.create(tenant=b.tenant, run=run, rows_purged={"activity_loginevent": 777},
                                rows_held=9)
    dry = SweepRun.objects.create(started_at=timezone.now(), status=SweepRun.Status.COMPLETED,
                                  dry_run=True)
    SweepReceipt.objects.create(tenant=a.tenant, run=dry, rows_purged={"activity_loginevent": 5})
    page = body(sign_in(make_client(), a.auditor).get(URL))
    line = re.search(r'data-testid="last-receipt">(.*?)</p>', page, re.DOTALL)
    assert line is not None
    assert "12351 rows removed" in line.group(1) and "42 kept by holds" in line.group(1)
    assert "Sign-in events: 12345" in page and "Export events: 6" in page
    assert "2026-06-04" in page
    assert "777" not in page  # Globex's receipt
    assert page.count('data-testid="receipt-row"') == 1  # the dry run is not a receipt


def test_the_policy_page_queries_do_not_grow_with_receipts(two_tenants, make_client) -> None:
    a = two_tenants.a
    client = sign_in(make_client(), a.owner)

    def grow(n: int) -> None:
        for _ in range(n):
            run = SweepRun.objects.create(started_at=timezone.now(),
                                          status=SweepRun.Status.COMPLETED)
            SweepReceipt.objects.create(tenant=a.tenant, run=run,
                                        rows_purged={"activity_loginevent": 3})

    def queries() -> int:
        client.get(URL)
        with CaptureQueriesContext(connection) as captured:
            assert client.get(URL).status_code == 200
        return len(captured.captured_queries)

    grow(2)
    small = queries()
    grow(20)
    assert queries() == small
    assert body(client.get(URL)).count('data-testid="receipt-row"') == 10
