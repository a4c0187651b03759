from __future__ import annotations

import pytest
from django.contrib.contenttypes.models import ContentType

from activity.models import AuditLogEntry
from security.models import LockoutPolicy, MfaPolicy, PasswordPolicy, SessionPolicy
from security.policies.password import services as password_services
from security.policies.password.selectors import password_rules_for
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db

PAGES = {
    "/policies/password/": (PasswordPolicy, {
        "profile": "custom", "on_noncompliant": "report_only", "min_length": "14",
        "max_length": "128", "require_digit": "on", "history_count": "3", "expiry_days": "180"}),
    "/policies/mfa/": (MfaPolicy, {"requirement": "required_all", "grace_days": "5"}),
    "/policies/lockout/": (LockoutPolicy, {"failure_limit": "4", "cooloff_minutes": "30",
                                           "account_ceiling": "40", "ceiling_hours": "24"}),
    "/policies/sessions/": (SessionPolicy, {"idle_timeout_minutes": "20", "absolute_lifetime_hours": "9"}),
}
READ_ONLY_PAGES = [*PAGES, "/policies/password/compliance/"]


def signed_in_with_a_noncompliant_password(person) -> None:
    """What the sign-in records of a password its tenant's policy no longer accepts."""
    from django.utils import timezone

    password_services.password_signin_compliance(
        user=person, password="short", rules=password_rules_for(tenant=person.tenant), now=timezone.now())


def snapshot(model, tenant):
    row = model.objects.filter(tenant=tenant).first()
    if row is None:
        return None
    return {f.attname: getattr(row, f.attname) for f in model._meta.concrete_fields
            if f.attname not in ("updated_at",)}


@pytest.mark.parametrize("path", list(PAGES))
def test_admin_saves_a_policy_audited_and_other_tenant_untouched(two_tenants, signed_in, path):
    model, data = PAGES[path]
    client = signed_in(two_tenants.a.admin)
    assert client.get(path).status_code == 200
    response = client.post(path, data)
    assert response.status_code == 302, response.content.decode()[:2000]
    assert "Last changed" in client.get(path).content.decode()
    row = model.objects.get(tenant=two_tenants.a.tenant)
    assert row.updated_by == two_tenants.a.admin
    for name, value in data.items():
        stored = getattr(row, name)
        expected = True if value == "on" else (int(value) if value.isdigit() else value)
        assert stored == expected, name
    entries = AuditLogEntry.objects.for_tenant(two_tenants.a.tenant).filter(
        content_type=ContentType.objects.get_for_model(model), object_pk=str(row.pk))
    assert entries.filter(actor=two_tenants.a.admin, action=AuditLogEntry.Action.UPDATE).exists()
    assert not entries.filter(action=AuditLogEntry.Action.CREATE).exists()  # defaults are not a change
    assert snapshot(model, two_tenants.b.tenant) is None
    assert not AuditLogEntry.objects.for_tenant(two_tenants.b.tenant).filter(
        content_type=ContentType.objects.get_for_model(model)).exists()


def test_profiles_set_their_knobs(two_tenants, signed_in):
    client = signed_in(two_tenants.a.owner)
    client.post("/policies/password/", {"profile": "classic", "on_noncompliant": "change_now",
                                        "min_length": "40", "max_length": "64"})
    policy = PasswordPolicy.objects.get(tenant=two_tenants.a.tenant)
    assert (policy.min_length, policy.expiry_days, policy.history_count, policy.require_symbol) == (8, 90, 5, True)
    page = client.get("/policies/password/").content.decode()
    assert "at least 8 characters" in page


@pytest.mark.parametrize("path", READ_ONLY_PAGES)
def test_auditor_reads_but_cannot_post(two_tenants, signed_in, path):
    client = signed_in(two_tenants.a.auditor)
    page = client.get(path)
    assert page.status_code == 200
    assert 'class="primary">' not in page.content.decode()  # no save button
    model, data = PAGES.get(path, (PasswordPolicy, PAGES["/policies/password/"][1]))
    before = snapshot(model, two_tenants.a.tenant)
    assert client.post(path, data).status_code == (405 if path.endswith("compliance/") else 403)
    assert snapshot(model, two_tenants.a.tenant) == before


@pytest.mark.parametrize("path", [*READ_ONLY_PAGES, "/people/locked/"])
def test_member_is_refused(two_tenants, signed_in, path):
    client = signed_in(two_tenants.a.member)
    assert client.get(path).status_code == 403
    assert client.post(path, {}).status_code in (403, 405)


@pytest.mark.parametrize("path", READ_ONLY_PAGES)
def test_helpdesk_has_no_policy_pages(two_tenants, signed_in, path):
    assert signed_in(two_tenants.a.helpdesk).get(path).status_code == 403


def test_anonymous_is_sent_to_signin(client, two_tenants):
    for path in [*READ_ONLY_PAGES, "/people/locked/"]:
        response = client.get(path)
        assert response.status_code == 302 and response["Location"].startswith("/signin/")


BAD_INPUT = {
    "/policies/password/": [
        {"profile": "emperor", "on_noncompliant": "change_now"},
        {"profile": "custom", "on_noncompliant": "change_now", "min_length": "7", "max_length": "128"},
        {"profile": "custom", "on_noncompliant": "change_now", "min_length": "12", "max_length": "63"},
        {"profile": "custom", "on_noncompliant": "change_now", "min_length": "100", "max_length": "64"},
        {"profile": "custom", "on_noncompliant": "change_now", "min_length": "9" * 5000, "max_length": "x"},
        {"profile": "custom", "on_noncompliant": "change_now"},
        {"profile": "classic", "on_noncompliant": "maybe"},
        {"profile": "custom", "on_noncompliant": "change_now", "min_length": "12", "max_length": "128",
         "history_count": "25", "expiry_days": "-1"},
        {},
    ],
    "/policies/mfa/": [
        {"requirement": "always", "grace_days": "7"},
        {"requirement": "required_all", "grace_days": "91"},
        {"requirement": "required_all", "grace_days": "\x00"},
        {"requirement": ["required_all", "off"], "grace_days": "1e3"},
    ],
    "/policies/lockout/": [
        {"failure_limit": "2", "cooloff_minutes": "15"},
        {"failure_limit": "51", "cooloff_minutes": "15"},
        {"failure_limit": "5", "cooloff_minutes": "0"},
        {"failure_limit": "5", "cooloff_minutes": "1441"},
        {"failure_limit": "five", "cooloff_minutes": ""},
        {"failure_limit": "5" * 10000, "cooloff_minutes": "15"},
        # The per-account ceiling: zero, negative, absurd, not a number, below the per-IP limit.
        *({"failure_limit": "5", "cooloff_minutes": "15", "account_ceiling": ceiling, "ceiling_hours": hours}
          for ceiling, hours in (("0", "12"), ("-30", "12"), ("1001", "12"), ("1e9", "12"), ("thirty", "12"),
                                 ("30", "0"), ("30", "-1"), ("30", "169"), ("30", ""), ("", "12"))),
        {"failure_limit": "20", "cooloff_minutes": "15", "account_ceiling": "10", "ceiling_hours": "12"},
    ],
    "/policies/sessions/": [
        {"idle_timeout_minutes": "4", "absolute_lifetime_hours": "12"},
        {"idle_timeout_minutes": "600", "absolute_lifetime_hours": "2"},
        {"idle_timeout_minutes": "60", "absolute_lifetime_hours": "721"},
        {"idle_timeout_minutes": "６０", "absolute_lifetime_hours": "-12"},  # noqa: RUF001
    ],
}


@pytest.mark.parametrize(("path", "data"), [(p, d) for p, cases in BAD_INPUT.items() for d in cases])
def test_bad_input_is_an_error_message_and_changes_nothing(two_tenants, signed_in, path, data):
    model = PAGES[path][0]
    client = signed_in(two_tenants.a.admin)
    client.get(path)  # reading the page writes nothing
    before = snapshot(model, two_tenants.a.tenant)
    entries = AuditLogEntry.objects.count()
    response = client.post(path, data)
    assert response.status_code == 200
    assert 'class="error' in response.content.decode()
    assert snapshot(model, two_tenants.a.tenant) == before
    assert AuditLogEntry.objects.count() == entries


def test_compliance_page_lists_noncompliant_and_expiring_of_own_tenant_only(two_tenants, signed_in):
    from datetime import timedelta

    from django.utils import timezone

    a, b = two_tenants.a, two_tenants.b
    password_services.password_policy_update(tenant=a.tenant, actor=a.admin, profile="classic",
                                   on_noncompliant="change_now")
    password_services.password_policy_update(tenant=b.tenant, actor=b.admin, profile="classic",
                                   on_noncompliant="change_now")
    signed_in_with_a_noncompliant_password(a.member)
    signed_in_with_a_noncompliant_password(b.member)
    password_services.password_record_change(user=a.auditor, new_hash="x", now=timezone.now() - timedelta(days=80))
    password_services.password_record_change(user=b.auditor, new_hash="x", now=timezone.now() - timedelta(days=80))
    password_services.password_record_change(user=a.helpdesk, new_hash="x", now=timezone.now() - timedelta(days=10))
    client = signed_in(a.admin)
    body = client.get("/policies/password/compliance/").content.decode()
    noncompliant = body[body.index('data-testid="noncompliant"'):body.index('data-testid="expiring"')]
    expiring = body[body.index('data-testid="expiring"'):]
    assert a.member.email in noncompliant and a.auditor.email in expiring
    assert a.helpdesk.email not in expiring
    assert "globex" not in body


def test_compliance_page_query_count(two_tenants, signed_in, django_assert_max_num_queries):
    from tests.factories import UserFactory

    a = two_tenants.a
    password_services.password_policy_update(tenant=a.tenant, actor=a.admin, profile="classic",
                                   on_noncompliant="change_now")
    for n in range(15):
        person = UserFactory(tenant=a.tenant, email=f"p{n}@acme.example")
        signed_in_with_a_noncompliant_password(person)
    client = signed_in(a.admin)
    client.get("/policies/password/compliance/")
    with django_assert_max_num_queries(12):
        assert client.get("/policies/password/compliance/").status_code == 200


def test_unlock_needs_post_and_capability(two_tenants, signed_in):
    path = f"/people/{two_tenants.a.member.pk}/unlock/"
    # A GET only shows the confirmation page (after the helpdesk confirms who they are).
    helpdesk = signed_in(two_tenants.a.helpdesk)
    assert helpdesk.post("/me/mfa/confirm/", {"secret": PASSWORD}).status_code == 302
    assert 'data-testid="confirm"' in helpdesk.get(path).content.decode()
    auditor = signed_in(two_tenants.a.auditor)
    assert auditor.get("/people/locked/").status_code == 200
    assert auditor.post(path).status_code == 403
    # Not locked: a message, no audit entry.
    admin = signed_in(two_tenants.a.admin)
    assert admin.post("/me/mfa/confirm/", {"secret": PASSWORD}).status_code == 302
    response = admin.post(path, follow=True)
    assert "is not locked out" in response.content.decode()
    assert not AuditLogEntry.objects.filter(changes__lockout__isnull=False).exists()


def test_every_policy_view_declares_a_capability():
    from security.policies.urls import urlpatterns

    for pattern in urlpatterns:
        assert getattr(pattern.callback, "capability", None), pattern.name
