"""The grey zone: rows past the tenant's visible days are hidden from every default log page and
export; owners and auditors may include them (with each row's deletion day), and that access is
itself recorded. Employees never see their own grey-zone rows on their history pages."""

from __future__ import annotations

import csv
import io
from datetime import UTC, timedelta

import pytest
from django.utils import timezone

from accounts.models import User
from activity.models import AuditLogEntry, ExportEvent, LoginEvent, RetentionPolicy
from activity.services import GREY_ZONE_CHANGE
from tests.activity.test_log_pages import body, row_ids, sign_in
from tests.activity.test_log_support import export, login
from tests.conftest import TwoTenants

pytestmark = pytest.mark.django_db

GREY_ROLES = ["owner", "auditor"]
REFUSED_ROLES = ["admin", "helpdesk", "member"]
CHROME_UA = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
             "Chrome/126.0.0.0 Safari/537.36")


def grey_entries(tenant) -> list[AuditLogEntry]:
    return list(AuditLogEntry.objects.for_tenant(tenant)
                .filter(action=AuditLogEntry.Action.ACCESS, changes__has_key=GREY_ZONE_CHANGE)
                .order_by("pk"))


@pytest.fixture
def aged(two_tenants: TwoTenants) -> dict[str, LoginEvent]:
    """Acme: one sign-in a day old and one 100 days old (grey zone under the defaults, 90/180)."""
    a, b = two_tenants.a, two_tenants.b
    now = timezone.now()
    rows = {
        "new": login(a.tenant, user=a.member, at=now - timedelta(days=1)),
        "old": login(a.tenant, user=a.member, at=now - timedelta(days=100)),
        "gone": login(a.tenant, user=a.member, at=now - timedelta(days=200)),  # past the purge
        "globex": login(b.tenant, user=b.member, at=now - timedelta(days=100)),
    }
    return rows


@pytest.mark.parametrize("role", ["owner", "admin", "auditor"])
def test_a_row_100_days_old_is_hidden_by_default(two_tenants, make_client, aged, role) -> None:
    a = two_tenants.a
    client = sign_in(make_client(), a.by_role(role))
    for url in ("/logs/signins/", f"/people/{a.member.pk}/signins/"):
        response = client.get(url)
        assert response.status_code == 200
        assert row_ids(response) == [aged["new"].pk]
        assert 'data-testid="deleted-on"' not in body(response)
    assert client.get(f"/logs/signins/{aged['old'].pk}/").status_code == 404
    assert grey_entries(a.tenant) == []


def test_an_employee_never_sees_own_grey_rows(two_tenants, make_client, aged) -> None:
    a = two_tenants.a
    client = sign_in(make_client(), a.member)
    for query in ("", "?grey=1", "?grey=1&from=2000-01-01"):
        response = client.get(f"/me/signins/{query}")
        assert response.status_code == 200
        assert row_ids(response) == [aged["new"].pk]
    assert 'data-testid="grey-toggle"' not in body(response)
    assert "shown to owners and auditors only" in body(response)
    export_response = client.get("/me/signins/export/?format=csv&grey=1")
    assert export_response.status_code == 403
    assert not ExportEvent.objects.for_tenant(a.tenant).exists()
    assert grey_entries(a.tenant) == []


@pytest.mark.parametrize("role", GREY_ROLES)
def test_owner_and_auditor_include_them_with_the_deletion_date_and_it_is_recorded(
        two_tenants, make_client, aged, role) -> None:
    a = two_tenants.a
    viewer = a.by_role(role)
    client = sign_in(make_client(), viewer)
    plain = client.get("/logs/signins/")
    assert 'data-testid="grey-toggle"' in body(plain)  # the box is offered, unticked
    assert grey_entries(a.tenant) == []

    response = client.get("/logs/signins/?grey=1", HTTP_USER_AGENT=CHROME_UA,
                          REMOTE_ADDR="203.0.113.9")
    assert response.status_code == 200
    assert row_ids(response) == [aged["new"].pk, aged["old"].pk]  # not the purged-due row
    deleted_on = (aged["old"].occurred_at + timedelta(days=180)).date().isoformat()
    page = body(response)
    assert deleted_on in page and "pending deletion" in page
    assert 'data-testid="grey-notice"' in page
    assert f'/logs/signins/{aged["old"].pk}/?grey=1' in page  # the detail keeps it open

    [entry] = grey_entries(a.tenant)
    assert entry.actor == viewer
    assert entry.remote_addr == "203.0.113.9"
    assert entry.additional_data["view"] == "signin_log"
    assert entry.additional_data["browser"].startswith("Chrome")
    assert entry.additional_data["os"].startswith("Windows")
    assert abs(entry.timestamp - timezone.now()) < timedelta(minutes=1)

    detail = client.get(f"/logs/signins/{aged['old'].pk}/?grey=1")
    assert detail.status_code == 200 and deleted_on in body(detail)
    assert len(grey_entries(a.tenant)) == 2
    # The other tenant's grey rows stay invisible, with the box ticked too.
    assert client.get(f"/logs/signins/{aged['globex'].pk}/?grey=1").status_code == 404
    assert "globex" not in page.lower()

    # The access shows in the audit trail, readable.
    trail = body(client.get("/logs/audit/"))
    assert "opened records pending deletion (Sign-in log)" in trail
    assert "Chrome 126.0.0 · Windows 10" in trail  # the client of the access, beside it


@pytest.mark.parametrize("role", REFUSED_ROLES)
def test_the_tick_is_refused_for_other_roles(two_tenants, make_client, aged, role) -> None:
    a = two_tenants.a
    client = sign_in(make_client(), a.by_role(role))
    # Helpdesk and members read no sign-in log: their own history is where they could ask.
    response = client.get("/logs/signins/?grey=1" if role == "admin" else "/me/signins/?grey=1")
    assert response.status_code == 200
    assert aged["old"].pk not in row_ids(response)
    assert 'data-testid="grey-toggle"' not in body(response)
    assert "shown to owners and auditors only" in body(response)
    if role == "admin":
        assert client.get(f"/logs/signins/{aged['old'].pk}/?grey=1").status_code == 404
        refused = client.get("/logs/signins/export/?format=csv&grey=1")
        assert refused.status_code == 403
        assert not ExportEvent.objects.for_tenant(a.tenant).exists()
    assert grey_entries(a.tenant) == []


def test_a_grey_export_is_recorded_as_such(two_tenants, make_client, aged) -> None:
    a = two_tenants.a
    client = sign_in(make_client(), a.auditor)
    default = client.get("/logs/signins/export/?format=csv")
    default_rows = list(csv.DictReader(io.StringIO(b"".join(default.streaming_content)
                                                   .decode("utf-8-sig"))))
    day = lambda event: event.occurred_at.astimezone(UTC).date().isoformat()  # noqa: E731
    assert [r["time_utc"][:10] for r in default_rows] == [day(aged["new"])]
    response = client.get("/logs/signins/export/?format=csv&grey=1")
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content)
                                           .decode("utf-8-sig"))))
    assert [r["time_utc"][:10] for r in rows] == [day(aged["new"]), day(aged["old"])]
    recorded = ExportEvent.objects.for_tenant(a.tenant).order_by("-pk").first()
    assert recorded is not None and recorded.user == a.auditor
    assert recorded.filters == {"grey": "1"}
    # The export log names it.
    assert "Records pending deletion: included" in body(client.get("/logs/exports/"))


def test_the_export_links_of_a_grey_page_export_the_grey_page(two_tenants, make_client,
                                                               aged) -> None:
    client = sign_in(make_client(), two_tenants.a.owner)
    page = body(client.get("/logs/signins/?grey=1&outcome=success"))
    assert "/logs/signins/export/?outcome=success&amp;grey=1&amp;format=csv" in page


def test_a_tenant_with_30_visible_days_hides_a_40_day_old_row(two_tenants, make_client) -> None:
    a, b = two_tenants.a, two_tenants.b
    RetentionPolicy.objects.create(tenant=a.tenant, visible_days=30, purge_days=180,
                                   audit_days=365)
    now = timezone.now()
    old = login(a.tenant, user=a.member, at=now - timedelta(days=40))
    new = login(a.tenant, user=a.member, at=now - timedelta(days=20))
    globex_old = login(b.tenant, user=b.member, at=now - timedelta(days=40))
    old_export = export(a.tenant, a.admin, at=now - timedelta(days=40))
    acme = sign_in(make_client(), a.admin)
    assert row_ids(acme.get("/logs/signins/")) == [new.pk]
    assert row_ids(acme.get("/me/signins/")) == []
    exports_page = body(acme.get("/logs/exports/"))
    assert f'data-event="{old_export.pk}"' not in exports_page
    assert "the last 30 days" in body(acme.get("/logs/signins/"))
    member = sign_in(make_client(), a.member)
    assert row_ids(member.get("/me/signins/")) == [new.pk]
    assert old.pk not in row_ids(sign_in(make_client(), a.owner).get("/logs/signins/"))
    # Globex keeps the defaults: its 40-day-old row is visible to its own admin.
    assert row_ids(sign_in(make_client(), b.admin).get("/logs/signins/")) == [globex_old.pk]


def test_grey_zone_on_export_log_and_audit_trail(two_tenants, make_client) -> None:
    a = two_tenants.a
    now = timezone.now()
    old_export = export(a.tenant, a.admin, at=now - timedelta(days=120))
    entry = AuditLogEntry.objects.log_create(a.member, force_log=True,
                                             action=AuditLogEntry.Action.UPDATE,
                                             changes={"display_name": ["a", "b"]}, actor=a.admin)
    AuditLogEntry.objects.filter(pk=entry.pk).update(timestamp=now - timedelta(days=200))
    client = sign_in(make_client(), a.owner)
    assert f'data-event="{old_export.pk}"' not in body(client.get("/logs/exports/"))
    grey_exports = body(client.get("/logs/exports/?grey=1"))
    assert f'data-event="{old_export.pk}"' in grey_exports
    assert (old_export.occurred_at + timedelta(days=180)).date().isoformat() in grey_exports
    assert f'data-entry="{entry.pk}"' not in body(client.get("/logs/audit/"))
    grey_trail = body(client.get("/logs/audit/?grey=1"))  # its own retention: 365 days
    assert f'data-entry="{entry.pk}"' in grey_trail
    assert (now - timedelta(days=200) + timedelta(days=365)).date().isoformat() in grey_trail
    assert [e.additional_data["view"] for e in grey_entries(a.tenant)] == [
        "export_log", "audit_trail"]


def test_person_history_hides_grey_rows_and_includes_them_for_the_owner(
        two_tenants, make_client, aged) -> None:
    a = two_tenants.a
    member: User = a.member
    owner = sign_in(make_client(), a.owner)
    assert row_ids(owner.get(f"/people/{member.pk}/signins/")) == [aged["new"].pk]
    assert row_ids(owner.get(f"/people/{member.pk}/signins/?grey=1")) == [
        aged["new"].pk, aged["old"].pk]
    assert [e.additional_data["view"] for e in grey_entries(a.tenant)] == ["person_signins"]
