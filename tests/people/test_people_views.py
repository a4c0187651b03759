from __future__ import annotations

import pytest
from django.core import mail

from accounts.models import User
from security.models import UserSession
from tenants.models import Invitation
from tenants.roles import Role
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


def test_people_list_shows_own_tenant_only(two_tenants, signed_in):
    client = signed_in(two_tenants.a.admin)
    response = client.get("/people/")
    assert response.status_code == 200
    body = response.content.decode()
    assert "member@acme.example" in body
    assert "globex.example" not in body


def test_people_search_filters_by_name_and_email(two_tenants, signed_in):
    UserFactory(tenant=two_tenants.a.tenant, email="zhang.wei@acme.example", display_name="Zhang Wei")
    client = signed_in(two_tenants.a.admin)
    body = client.get("/people/", {"q": "zhang"}).content.decode()
    assert "zhang.wei@acme.example" in body
    assert "member@acme.example" not in body
    body = client.get("/people/", {"role": "auditor"}).content.decode()
    assert "auditor@acme.example" in body and "member@acme.example" not in body


def test_people_list_with_bad_filters_is_not_an_error(two_tenants, signed_in):
    client = signed_in(two_tenants.a.admin)
    response = client.get("/people/", {"role": "emperor", "status": "x" * 5000, "page": "9999999999"})
    assert response.status_code == 200


@pytest.mark.parametrize("path", ["/people/{pk}/", "/people/{pk}/role/", "/people/{pk}/suspend/",
                                  "/people/{pk}/reactivate/", "/people/{pk}/resend/"])
def test_another_tenants_person_is_404(two_tenants, signed_in, path):
    client = signed_in(two_tenants.a.owner)
    assert client.post("/me/mfa/confirm/", {"secret": PASSWORD}).status_code == 302  # resend asks
    victim = two_tenants.b.member
    url = path.format(pk=victim.pk)
    response = client.post(url, {"role": "admin"}) if not url.endswith(f"{victim.pk}/") else client.get(url)
    assert response.status_code == 404
    victim.refresh_from_db()
    assert victim.status == User.Status.ACTIVE and victim.role == Role.MEMBER


def test_member_cannot_open_people_pages(two_tenants, signed_in):
    client = signed_in(two_tenants.a.member)
    assert client.get("/people/").status_code == 403
    assert client.get("/dashboard/").status_code == 403
    assert client.get("/me/").status_code == 200


def test_anonymous_is_sent_to_signin(client, two_tenants):
    response = client.get("/people/")
    assert response.status_code == 302
    assert response["Location"].startswith("/signin/?next=/people/")


def test_invite_sends_one_time_link_and_lists_pending(two_tenants, signed_in):
    client = signed_in(two_tenants.a.admin)
    response = client.post("/people/invite/", {"email": "New.Person@ACME.example", "role": "member",
                                               "display_name": "New Person"})
    assert response.status_code == 302
    invited = User.objects.get(email="new.person@acme.example")
    assert invited.status == User.Status.INVITED and invited.tenant == two_tenants.a.tenant
    assert not invited.has_usable_password()
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["new.person@acme.example"]
    assert "/invitation/" in mail.outbox[0].body
    dashboard = client.get("/dashboard/").content.decode()
    assert 'data-testid="pending-invitations">1<' in dashboard


@pytest.mark.parametrize(("email", "message"), [
    ("not-an-address", "valid e-mail"),
    ("someone@globex.example", "not on one of your company"),
    ("member@acme.example", "already has an account"),
    ("MEMBER@Acme.Example", "already has an account"),
])
def test_invite_rejects_bad_addresses(two_tenants, signed_in, email, message):
    client = signed_in(two_tenants.a.admin)
    before = User.objects.count()
    response = client.post("/people/invite/", {"email": email, "role": "member"})
    assert response.status_code == 200
    assert message in response.content.decode()
    assert User.objects.count() == before
    assert mail.outbox == []


def test_admin_cannot_invite_an_owner(two_tenants, signed_in):
    client = signed_in(two_tenants.a.admin)
    response = client.post("/people/invite/", {"email": "boss@acme.example", "role": "owner"})
    assert response.status_code == 200
    assert not User.objects.filter(email="boss@acme.example").exists()


def test_auditor_and_helpdesk_cannot_invite(two_tenants, signed_in):
    for role in ("auditor", "helpdesk"):
        client = signed_in(two_tenants.a.by_role(role))
        assert client.post("/people/invite/", {"email": f"x{role}@acme.example", "role": "member"}).status_code == 403
    assert not User.objects.filter(email__startswith="x").exists()


def _invite(client, email="joiner@acme.example"):
    client.post("/people/invite/", {"email": email, "role": "member"})
    body = mail.outbox[-1].body
    return body[body.index("/invitation/"):].split()[0]


def test_invitation_sets_password_once(two_tenants, signed_in, client):
    path = _invite(signed_in(two_tenants.a.admin))
    client.post("/signout/")
    weak = client.post(path, {"password1": "short", "password2": "short"})
    assert weak.status_code == 200 and "too short" in weak.content.decode()
    assert User.objects.get(email="joiner@acme.example").status == User.Status.INVITED
    ok = client.post(path, {"password1": "a-Much-longer-secret-42", "password2": "a-Much-longer-secret-42"})
    assert ok.status_code == 302
    assert User.objects.get(email="joiner@acme.example").status == User.Status.ACTIVE
    reused = client.get(path)
    assert reused.status_code == 410 and "already been used" in reused.content.decode()
    again = client.post(path, {"password1": "another-Long-secret-77", "password2": "another-Long-secret-77"})
    assert again.status_code == 410
    assert client.post("/signin/", {"email": "joiner@acme.example",
                                    "password": "a-Much-longer-secret-42"}).status_code == 302


def test_tampered_and_expired_invitations(two_tenants, signed_in, client, time_machine):
    path = _invite(signed_in(two_tenants.a.admin))
    client.post("/signout/")
    tampered = client.get(path[:-3] + "abc/")
    assert tampered.status_code == 410 and "not valid" in tampered.content.decode()
    assert client.get("/invitation/" + "x" * 5000 + "/").status_code == 410
    time_machine.move_to(Invitation.objects.get().expires_at, tick=False)
    expired = client.post(path, {"password1": "a-Much-longer-secret-42", "password2": "a-Much-longer-secret-42"})
    assert expired.status_code == 410 and "expired" in expired.content.decode()
    assert User.objects.get(email="joiner@acme.example").status == User.Status.INVITED


def test_resend_revokes_the_old_link(two_tenants, signed_in, client):
    admin_client = signed_in(two_tenants.a.admin)
    old_path = _invite(admin_client)
    person = User.objects.get(email="joiner@acme.example")
    # Resending asks for a fresh confirmation of who the admin is (password), then acts.
    assert admin_client.post("/me/mfa/confirm/", {"secret": PASSWORD}).status_code == 302
    admin_client.post(f"/people/{person.pk}/resend/")
    assert len(mail.outbox) == 2
    assert "replaced" in admin_client.get(old_path).content.decode()


def test_only_owner_makes_owners(two_tenants, signed_in):
    member = two_tenants.a.member
    admin_client = signed_in(two_tenants.a.admin)
    admin_client.post(f"/people/{member.pk}/role/", {"role": "owner"})
    member.refresh_from_db()
    assert member.role == Role.MEMBER
    admin_client.post(f"/people/{two_tenants.a.owner.pk}/role/", {"role": "member"})
    two_tenants.a.owner.refresh_from_db()
    assert two_tenants.a.owner.role == Role.OWNER
    admin_client.post(f"/people/{member.pk}/role/", {"role": "auditor"})
    member.refresh_from_db()
    assert member.role == Role.AUDITOR


def test_last_owner_cannot_be_demoted(two_tenants, signed_in):
    owner = two_tenants.a.owner
    client = signed_in(owner)
    response = client.post(f"/people/{owner.pk}/role/", {"role": "admin"}, follow=True)
    assert "last owner" in response.content.decode()
    owner.refresh_from_db()
    assert owner.role == Role.OWNER
    second = UserFactory(tenant=two_tenants.a.tenant, role=Role.MEMBER)
    client.post(f"/people/{second.pk}/role/", {"role": "owner"})
    client.post(f"/people/{owner.pk}/role/", {"role": "admin"})
    owner.refresh_from_db()
    assert owner.role == Role.ADMIN


def test_helpdesk_cannot_change_roles(two_tenants, signed_in):
    client = signed_in(two_tenants.a.helpdesk)
    assert client.post(f"/people/{two_tenants.a.member.pk}/role/", {"role": "admin"}).status_code == 403
    two_tenants.a.member.refresh_from_db()
    assert two_tenants.a.member.role == Role.MEMBER


def test_invalid_role_value_changes_nothing(two_tenants, signed_in):
    client = signed_in(two_tenants.a.owner)
    response = client.post(f"/people/{two_tenants.a.member.pk}/role/", {"role": "god"}, follow=True)
    assert response.status_code == 200 and "valid role" in response.content.decode()


def test_suspend_ends_sessions_and_blocks_signin(two_tenants, signed_in, make_client):
    Client = make_client
    member_client = Client()
    member_client.post("/signin/", {"email": two_tenants.a.member.email, "password": PASSWORD})
    assert member_client.get("/me/").status_code == 200
    assert UserSession.objects.filter(user=two_tenants.a.member).count() == 1
    admin_client = signed_in(two_tenants.a.admin)
    admin_client.post(f"/people/{two_tenants.a.member.pk}/suspend/")
    two_tenants.a.member.refresh_from_db()
    assert two_tenants.a.member.status == User.Status.SUSPENDED
    assert UserSession.objects.filter(user=two_tenants.a.member).count() == 0
    assert member_client.get("/me/").status_code == 302
    retry = Client().post("/signin/", {"email": two_tenants.a.member.email, "password": PASSWORD})
    assert retry.status_code == 200 and "cannot sign in" in retry.content.decode()
    admin_client.post(f"/people/{two_tenants.a.member.pk}/reactivate/")
    assert Client().post("/signin/", {"email": two_tenants.a.member.email, "password": PASSWORD}).status_code == 302


def test_cannot_suspend_self_or_last_owner_or_higher_rank(two_tenants, signed_in):
    owner_client = signed_in(two_tenants.a.owner)
    response = owner_client.post(f"/people/{two_tenants.a.owner.pk}/suspend/", follow=True)
    assert "cannot suspend yourself" in response.content.decode()
    helpdesk_client = signed_in(two_tenants.a.helpdesk)
    response = helpdesk_client.post(f"/people/{two_tenants.a.admin.pk}/suspend/", follow=True)
    assert "cannot manage" in response.content.decode()
    admin_client = signed_in(two_tenants.a.admin)
    response = admin_client.post(f"/people/{two_tenants.a.owner.pk}/suspend/", follow=True)
    assert "cannot manage" in response.content.decode()
    for person in (two_tenants.a.owner, two_tenants.a.admin):
        person.refresh_from_db()
        assert person.status == User.Status.ACTIVE


def test_helpdesk_suspends_member(two_tenants, signed_in):
    client = signed_in(two_tenants.a.helpdesk)
    client.post(f"/people/{two_tenants.a.member.pk}/suspend/")
    two_tenants.a.member.refresh_from_db()
    assert two_tenants.a.member.status == User.Status.SUSPENDED


def test_role_change_is_in_the_audit_trail_of_the_tenant(two_tenants, signed_in):
    from activity.models import AuditLogEntry

    client = signed_in(two_tenants.a.owner)
    client.post(f"/people/{two_tenants.a.member.pk}/role/", {"role": "auditor"}, REMOTE_ADDR="203.0.113.9",
                HTTP_X_FORWARDED_FOR="10.9.9.9")
    entry = AuditLogEntry.objects.filter(object_pk=str(two_tenants.a.member.pk)).latest("timestamp")
    assert entry.tenant_id == two_tenants.a.tenant.pk
    assert entry.actor_id == two_tenants.a.owner.pk
    assert entry.remote_addr == "203.0.113.9"
    assert entry.changes["role"] == ["member", "auditor"]
    assert not AuditLogEntry.objects.filter(tenant=two_tenants.b.tenant, object_pk=str(two_tenants.a.member.pk)).exists()
