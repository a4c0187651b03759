"""The legal holds page: owners place, extend and lift holds; others with POLICY_VIEW read;
another tenant's holds and people are out of reach."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from activity.models import AuditLogEntry
from retention.models import LegalHold
from tests.activity.test_log_pages import sign_in

pytestmark = pytest.mark.django_db

URL = "/retention/holds/"


def body(response) -> str:
    return response.content.decode()


def today() -> dt.date:
    return timezone.now().astimezone(dt.UTC).date()


def hold(tenant, *, person=None, days=30, reason="Case 2026-17", lifted=False) -> LegalHold:
    return LegalHold.objects.create(tenant=tenant, person=person, reason=reason,
                                    ends_on=today() + dt.timedelta(days=days),
                                    lifted_at=timezone.now() if lifted else None)


def test_empty_state_tells_what_to_do(two_tenants, make_client) -> None:
    owner_page = body(sign_in(make_client(), two_tenants.a.owner).get(URL))
    assert "Place a hold below" in owner_page and 'data-testid="hold-form"' in owner_page
    auditor_page = body(sign_in(make_client(), two_tenants.a.auditor).get(URL))
    assert "Owners can place a hold" in auditor_page and "hold-form" not in auditor_page


def test_owner_places_a_hold_on_a_person_and_on_the_company(two_tenants, make_client) -> None:
    a, b = two_tenants.a, two_tenants.b
    client = sign_in(make_client(), a.owner)
    page = body(client.get(URL))
    assert a.member.email in page and b.member.email not in page  # the picker: Acme's people
    ends = (today() + dt.timedelta(days=90)).isoformat()
    response = client.post(URL, {"person": a.member.pk, "reason": "Litigation: Acme v. Doe",
                                 "ends_on": ends})
    assert response.status_code == 302
    response = client.post(URL, {"person": "", "reason": "Regulator inquiry", "ends_on": ends})
    assert response.status_code == 302
    holds = list(LegalHold.objects.for_tenant(a.tenant).order_by("pk"))
    assert [(h.person, h.reason, h.ends_on.isoformat(), h.placed_by) for h in holds] == [
        (a.member, "Litigation: Acme v. Doe", ends, a.owner),
        (None, "Regulator inquiry", ends, a.owner)]
    page = body(client.get(URL))
    assert page.count('data-testid="hold-row"') == 2
    assert "The whole company" in page and "Litigation: Acme v. Doe" in page
    assert AuditLogEntry.objects.for_tenant(a.tenant).filter(
        content_type__model="legalhold", action=AuditLogEntry.Action.CREATE).count() == 2
    # Globex sees none of it.
    assert "Litigation" not in body(sign_in(make_client(), b.owner).get(URL))


@pytest.mark.parametrize("data,message", [
    ({"reason": "", "ends_on": "+30"}, "This field is required"),
    ({"reason": "x", "ends_on": "-1"}, "A hold cannot end in the past"),
    ({"reason": "x", "ends_on": "2026-02-30"}, "Enter a valid date"),
    ({"reason": "x", "ends_on": "+5000"}, "at most 10 years"),
    ({"reason": "x" * 1001, "ends_on": "+30"}, "at most 1000 characters"),
    ({"reason": "x", "ends_on": "+30", "person": "OTHER"}, "Select a valid choice"),
    ({"reason": "x", "ends_on": "+30", "person": "abc"}, "Select a valid choice"),
    ({"reason": "x", "ends_on": "+30", "person": "9" * 30}, "Select a valid choice"),
    ({"reason": "x", "ends_on": "+30", "person": "-1"}, "Select a valid choice"),
    ({"reason": "bad\x00byte", "ends_on": "+30"}, "Null characters are not allowed"),
    ({"reason": "x", "ends_on": "9" * 40}, "Enter a valid date"),
])
def test_bad_input_is_refused_with_a_field_error(two_tenants, make_client, data, message) -> None:
    a, b = two_tenants.a, two_tenants.b
    values = dict(data)
    if values["ends_on"][0] in "+-" and values["ends_on"][1:].isdigit():
        values["ends_on"] = (today() + dt.timedelta(days=int(values["ends_on"]))).isoformat()
    if values.get("person") == "OTHER":
        values["person"] = str(b.member.pk)  # another tenant's person
    client = sign_in(make_client(), a.owner)
    response = client.post(URL, values)
    assert response.status_code == 200
    assert message in body(response)
    assert not LegalHold.objects.exists()


@pytest.mark.parametrize("role", ["admin", "auditor"])
def test_others_with_policy_view_read_only(two_tenants, make_client, role) -> None:
    a = two_tenants.a
    existing = hold(a.tenant, person=a.member)
    client = sign_in(make_client(), a.by_role(role))
    page = body(client.get(URL))
    assert 'data-testid="hold-row"' in page and "Lift" not in page
    ends = (today() + dt.timedelta(days=9)).isoformat()
    assert client.post(URL, {"reason": "x", "ends_on": ends}).status_code == 403
    assert client.get(f"{URL}{existing.pk}/extend/").status_code == 403
    assert client.post(f"{URL}{existing.pk}/lift/").status_code == 403
    assert LegalHold.objects.count() == 1 and LegalHold.objects.get().lifted_at is None


@pytest.mark.parametrize("role", ["helpdesk", "member"])
def test_roles_without_policy_view_are_refused(two_tenants, make_client, role) -> None:
    assert sign_in(make_client(), two_tenants.a.by_role(role)).get(URL).status_code == 403


def test_extend_and_lift_with_confirmation(two_tenants, make_client) -> None:
    a = two_tenants.a
    existing = hold(a.tenant, person=a.member, days=10)
    client = sign_in(make_client(), a.owner)
    form = client.get(f"{URL}{existing.pk}/extend/")
    assert form.status_code == 200 and existing.ends_on.isoformat() in body(form)
    later = (today() + dt.timedelta(days=400)).isoformat()
    assert client.post(f"{URL}{existing.pk}/extend/", {"ends_on": later}).status_code == 302
    existing.refresh_from_db()
    assert existing.ends_on.isoformat() == later
    past = (today() - dt.timedelta(days=1)).isoformat()
    refused = client.post(f"{URL}{existing.pk}/extend/", {"ends_on": past})
    assert refused.status_code == 200 and "cannot end in the past" in body(refused)
    existing.refresh_from_db()
    assert existing.ends_on.isoformat() == later

    confirm = client.get(f"{URL}{existing.pk}/lift/")
    assert confirm.status_code == 200 and 'data-testid="confirm-lift"' in body(confirm)
    existing.refresh_from_db()
    assert existing.lifted_at is None  # the GET only asks
    assert client.post(f"{URL}{existing.pk}/lift/").status_code == 302
    existing.refresh_from_db()
    assert existing.lifted_at is not None and existing.lifted_by == a.owner
    page = body(client.get(URL))
    assert 'data-testid="ended-row"' in page and "Lifted on" in page
    assert 'data-testid="hold-row"' not in page
    # Lifting twice, or extending a lifted hold, changes nothing and says so.
    again = client.post(f"{URL}{existing.pk}/lift/", follow=True)
    assert "already been lifted" in body(again)
    assert client.post(f"{URL}{existing.pk}/extend/", {"ends_on": later}).status_code == 302


def test_an_expired_hold_shows_as_ended(two_tenants, make_client) -> None:
    a = two_tenants.a
    expired = hold(a.tenant, days=-3, reason="Old case")
    page = body(sign_in(make_client(), a.owner).get(URL))
    assert f'data-testid="ended-row" data-hold="{expired.pk}"' in page and "Expired on" in page
    assert 'data-testid="no-active-holds"' in page


@pytest.mark.parametrize("action,method", [("extend", "get"), ("extend", "post"),
                                           ("lift", "get"), ("lift", "post")])
def test_another_tenants_hold_is_404(two_tenants, make_client, action, method) -> None:
    a, b = two_tenants.a, two_tenants.b
    theirs = hold(b.tenant, person=b.member)
    client = sign_in(make_client(), a.owner)
    ends = (today() + dt.timedelta(days=99)).isoformat()
    response = getattr(client, method)(f"{URL}{theirs.pk}/{action}/", {"ends_on": ends})
    assert response.status_code == 404
    theirs.refresh_from_db()
    assert theirs.lifted_at is None and theirs.ends_on != dt.date.fromisoformat(ends)
    assert client.get(f"{URL}999999/{action}/").status_code == 404


def _queries(client, url: str) -> int:
    client.get(url)  # warm caches (content types, session)
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured.captured_queries)


def test_the_holds_page_queries_do_not_grow_with_its_rows(two_tenants, make_client) -> None:
    a = two_tenants.a
    people = [a.member, a.admin, a.auditor, a.helpdesk, None]
    client = sign_in(make_client(), a.owner)

    def grow(n: int) -> None:
        for i in range(n):
            made = hold(a.tenant, person=people[i % 5], days=i - 2, lifted=i % 3 == 0)
            if made.lifted_at is not None:
                LegalHold.objects.filter(pk=made.pk).update(lifted_by=a.owner)

    grow(3)
    small = _queries(client, URL)
    grow(27)
    assert _queries(client, URL) == small
