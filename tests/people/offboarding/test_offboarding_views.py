"""The person page and its action pages: who sees which action, a confirmation page before each,
the acting admin's fresh confirmation of who they are, and another tenant's id is a 404."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from activity.models import AuditLogEntry
from people.offboarding.services import person_offboard
from people.services import person_invite
from security.models import UserSession
from tests.factories import PASSWORD
from tests.security.signin_support import post_signin

pytestmark = pytest.mark.django_db

ACTION_ROUTES = ["offboard", "offboard/cancel", "offboard/reactivate", "require-password-change",
                 "end-sessions", "revoke-invitation", "send-reset-link"]


def _admin_client(make_client, user, *, reauth=True):
    client = make_client()
    assert post_signin(client, user.email, PASSWORD).status_code == 302
    if reauth:  # the acting admin confirms who they are (password), as the pages ask
        assert client.post("/me/mfa/confirm/", {"secret": PASSWORD}).status_code == 302
    return client


def _url(person, action):
    return f"/people/{person.pk}/{action}/"


def test_the_person_page_lists_open_sessions_with_their_client(two_tenants, make_client):
    a = two_tenants.a
    assert post_signin(make_client(), a.member.email, PASSWORD).status_code == 302
    page = _admin_client(make_client, a.helpdesk, reauth=False).get(f"/people/{a.member.pk}/")
    html = page.content.decode()
    row = html[html.index('data-testid="person-session"'):]
    row = row[:row.index("</tr>")]
    assert "Chrome" in row and "Windows" in row and "8.8.8.8" in row and "US" in row
    assert _url(a.member, "end-sessions") in html
    # Another tenant's person is as missing as no person.
    client = _admin_client(make_client, a.helpdesk, reauth=False)
    assert client.get(f"/people/{two_tenants.b.member.pk}/").status_code == 404


@pytest.mark.parametrize(("role", "visible", "hidden"), [
    ("helpdesk", ["send-reset-link", "require-password-change", "end-sessions"],
     ["offboard", "offboard/reactivate", "/role/"]),
    ("admin", ["send-reset-link", "require-password-change", "end-sessions", "offboard"],
     ["offboard/reactivate"]),
    ("auditor", [], ["send-reset-link", "require-password-change", "end-sessions", "offboard"]),
])
def test_each_role_sees_the_actions_it_may_take(two_tenants, make_client, role, visible, hidden):
    a = two_tenants.a
    assert post_signin(make_client(), a.member.email, PASSWORD).status_code == 302
    html = _admin_client(make_client, a.by_role(role), reauth=False).get(
        f"/people/{a.member.pk}/").content.decode()
    for action in visible:
        assert _url(a.member, action) in html, action
    for action in hidden:
        assert f"/people/{a.member.pk}/{action}".rstrip("/") + "/" not in html, action


def test_offboarding_from_the_page_asks_who_you_are_then_confirms_then_acts(two_tenants, make_client):
    a = two_tenants.a
    laptop = make_client()
    assert post_signin(laptop, a.member.email, PASSWORD).status_code == 302
    admin = _admin_client(make_client, a.admin, reauth=False)
    # A POST without a fresh confirmation does nothing and asks for one.
    response = admin.post(_url(a.member, "offboard"), {"reason": "Left"})
    assert response.status_code == 302
    assert response["Location"] == "/me/mfa/confirm/?next=" + _url(a.member, "offboard").replace("/", "%2F")
    assert User.objects.get(pk=a.member.pk).status == User.Status.ACTIVE
    # Confirming comes back to the offboarding page, which says what will happen.
    back = admin.post(response["Location"], {"secret": PASSWORD})
    assert back["Location"] == _url(a.member, "offboard")
    page = admin.get(back["Location"]).content.decode()
    assert "can no longer sign in" in page and "Their open sessions end at once (1 now)" in page
    done = admin.post(_url(a.member, "offboard"), {"reason": "Left the company"}, follow=True)
    assert "is offboarded and signed out everywhere" in done.content.decode()
    assert User.objects.get(pk=a.member.pk).status == User.Status.OFFBOARDED
    assert laptop.get("/me/")["Location"].startswith(reverse("signin"))
    entry = AuditLogEntry.objects.filter(object_pk=str(a.member.pk), changes__has_key="offboarding").get()
    assert entry.actor == a.admin and entry.changes["offboard_reason"] == ["", "Left the company"]
    page = admin.get(f"/people/{a.member.pk}/").content.decode()
    assert 'data-testid="person-offboarded"' in page and "Left the company" in page


def test_a_date_schedules_the_offboarding_and_the_page_cancels_it(two_tenants, make_client):
    a = two_tenants.a
    admin = _admin_client(make_client, a.admin)
    when = (timezone.localtime() + timedelta(days=5)).replace(second=0, microsecond=0)
    response = admin.post(_url(a.member, "offboard"),
                          {"reason": "Contract ends", "effective_at": when.strftime("%Y-%m-%dT%H:%M")},
                          follow=True)
    assert "will be offboarded on" in response.content.decode()
    person = User.objects.get(pk=a.member.pk)
    assert person.status == User.Status.ACTIVE and person.offboard_at == when
    page = admin.get(f"/people/{a.member.pk}/").content.decode()
    assert 'data-testid="person-offboard-scheduled"' in page and _url(a.member, "offboard/cancel") in page
    confirm = admin.get(_url(a.member, "offboard/cancel")).content.decode()
    assert "Cancel the offboarding of" in confirm
    admin.post(_url(a.member, "offboard/cancel"))
    assert User.objects.get(pk=a.member.pk).offboard_at is None


@pytest.mark.parametrize(("data", "message"), [
    ({"reason": ""}, "Say why this person is being offboarded."),
    ({"reason": "x", "effective_at": "next tuesday"}, "Enter a date and time"),
    ({"reason": "x", "effective_at": "2099-01-01T10:00"}, "at most 366 days ahead"),
])
def test_bad_input_shows_a_message_and_changes_nothing(two_tenants, make_client, data, message):
    a = two_tenants.a
    admin = _admin_client(make_client, a.admin)
    before = AuditLogEntry.objects.count()
    response = admin.post(_url(a.member, "offboard"), data)
    assert response.status_code == 200 and message in response.content.decode()
    person = User.objects.get(pk=a.member.pk)
    assert person.status == User.Status.ACTIVE and person.offboard_at is None
    assert AuditLogEntry.objects.count() == before


def test_refusals_from_the_pages(two_tenants, make_client):
    a = two_tenants.a
    helpdesk = _admin_client(make_client, a.helpdesk)
    assert helpdesk.get(_url(a.member, "offboard")).status_code == 403
    assert helpdesk.post(_url(a.member, "offboard"), {"reason": "x"}).status_code == 403
    admin = _admin_client(make_client, a.admin)
    response = admin.post(_url(a.admin, "offboard"), {"reason": "Bye"})
    assert response.status_code == 200 and "You cannot offboard yourself." in response.content.decode()
    response = admin.post(_url(a.owner, "offboard"), {"reason": "Coup"})
    assert "cannot manage a person with this role" in response.content.decode()
    owner = _admin_client(make_client, a.owner)
    User.objects.filter(pk=a.admin.pk).update(role="member")
    response = owner.post(_url(a.owner, "offboard"), {"reason": "Bye"})
    assert "You cannot offboard yourself." in response.content.decode()
    for person in (a.admin, a.owner):
        assert User.objects.get(pk=person.pk).status == User.Status.ACTIVE


def test_another_tenants_person_is_a_404_on_every_action(two_tenants, make_client):
    owner = _admin_client(make_client, two_tenants.a.owner)
    globex = two_tenants.b.member
    for action in ACTION_ROUTES:
        assert owner.get(_url(globex, action)).status_code == 404, action
        assert owner.post(_url(globex, action), {"reason": "x"}).status_code == 404, action
    assert User.objects.get(pk=globex.pk).status == User.Status.ACTIVE


def test_only_an_owner_reactivates_an_offboarded_person(two_tenants, make_client):
    a = two_tenants.a
    person_offboard(tenant=a.tenant, actor=a.admin, person=a.member, reason="Left")
    admin = _admin_client(make_client, a.admin)
    assert _url(a.member, "offboard/reactivate") not in admin.get(f"/people/{a.member.pk}/").content.decode()
    assert admin.post(_url(a.member, "offboard/reactivate")).status_code == 403
    owner = _admin_client(make_client, a.owner)
    page = owner.get(_url(a.member, "offboard/reactivate")).content.decode()
    assert "set up two-step sign-in anew" in page
    owner.post(_url(a.member, "offboard/reactivate"))
    person = User.objects.get(pk=a.member.pk)
    assert person.status == User.Status.ACTIVE and person.must_change_password


def test_require_a_password_change_from_the_page(two_tenants, make_client):
    a = two_tenants.a
    helpdesk = _admin_client(make_client, a.helpdesk)
    assert "must choose a new password" in helpdesk.get(_url(a.member, "require-password-change")).content.decode()
    response = helpdesk.post(_url(a.member, "require-password-change"), follow=True)
    assert "must change their password at their next sign-in" in response.content.decode()
    assert User.objects.get(pk=a.member.pk).must_change_password
    assert AuditLogEntry.objects.filter(object_pk=str(a.member.pk), actor=a.helpdesk,
                                        changes__must_change_password=["False", "True"]).exists()
    # The sign-in pipeline then sends them to choose a new password (after enrolling MFA).
    response = post_signin(make_client(), a.member.email, PASSWORD)
    assert response["Location"] == reverse("signin_mfa_enroll")
    # The helpdesk may not do it to an admin.
    response = helpdesk.post(_url(a.admin, "require-password-change"), follow=True)
    assert "cannot manage" in response.content.decode()
    assert not User.objects.get(pk=a.admin.pk).must_change_password


def test_end_all_sessions_from_the_page(two_tenants, make_client):
    a = two_tenants.a
    laptop, phone = make_client(), make_client()
    for device in (laptop, phone):
        assert post_signin(device, a.member.email, PASSWORD).status_code == 302
    helpdesk = _admin_client(make_client, a.helpdesk)
    assert "2 session(s)" in helpdesk.get(_url(a.member, "end-sessions")).content.decode()
    response = helpdesk.post(_url(a.member, "end-sessions"), follow=True)
    assert "2 session(s) of" in response.content.decode()
    for device in (laptop, phone):
        assert device.get("/me/")["Location"].startswith(reverse("signin"))
    assert not UserSession.objects.filter(user=a.member).exists()
    assert AuditLogEntry.objects.filter(object_pk=str(a.member.pk), actor=a.helpdesk,
                                        changes__sessions_ended=["", "2"]).exists()


def test_revoke_an_invitation_from_the_page(two_tenants, make_client, client):
    a = two_tenants.a
    issued = person_invite(tenant=a.tenant, actor=a.admin, email="new.hire@acme.example",
                           display_name="", role="member")
    person = issued.invitation.user
    admin = _admin_client(make_client, a.admin)
    assert _url(person, "revoke-invitation") in admin.get(f"/people/{person.pk}/").content.decode()
    admin.post(_url(person, "revoke-invitation"))
    assert client.get(issued.path).status_code == 410
    response = admin.post(_url(person, "revoke-invitation"), follow=True)
    assert "has no pending invitation" in response.content.decode()


def test_send_a_password_reset_link_from_the_page(two_tenants, make_client):
    a = two_tenants.a
    helpdesk = _admin_client(make_client, a.helpdesk)
    mail.outbox.clear()
    assert "single-use link" in helpdesk.get(_url(a.member, "send-reset-link")).content.decode()
    response = helpdesk.post(_url(a.member, "send-reset-link"), follow=True)
    assert f"A password-reset link was sent to {a.member.email}" in response.content.decode()
    sent = [m for m in mail.outbox if m.to == [a.member.email]]
    assert len(sent) == 1 and "/signin/reset/" in sent[0].body
