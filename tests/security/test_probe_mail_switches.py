"""Probes of the mail-client switches as an attacker and as a new admin: the per-person switch takes
only an explicit state (a missing, forged or stale value changes nothing, says so, never a 500),
never acts on an offboarded person or across tenants, reads on the audit trail as a sentence in
English and Chinese, and the passdb view Dovecot reads never carries a row for a person whose
address is on another tenant's (or nobody's) mail domain, of a suspended tenant, or not active.
"""

from __future__ import annotations

import pytest
from django.contrib.auth.hashers import Argon2PasswordHasher
from django.contrib.contenttypes.models import ContentType
from django.db import connection

from accounts.mailclients.services import mail_client_password_create
from accounts.models import User
from activity.models import AuditLogEntry
from security.policies.mail.models import MailPolicy
from tenants.models import MailDomain, Tenant
from tenants.roles import Role
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


def _mail_url(person: User) -> str:
    return f"/people/{person.pk}/mail/"


def _person_entries(person: User) -> list[AuditLogEntry]:
    return list(AuditLogEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(User), object_pk=str(person.pk),
        action=AuditLogEntry.Action.UPDATE).order_by("id"))


def _messages(response) -> str:
    return " ".join(str(m) for m in response.context["messages"]) if response.context else ""


# --- Bad input on the person switch -----------------------------------------------------------------


@pytest.mark.parametrize("body", [
    {},  # missing
    {"mail_protocols": "maybe"},  # forged, not one of the choices
    {"mail_protocols": "off" * 2000},  # oversized
    {"mail_protocols": ""},
])
def test_a_missing_or_forged_switch_value_is_a_translated_error_and_changes_nothing(
        body, two_tenants, signed_in):
    member = two_tenants.a.member
    User.objects.filter(pk=member.pk).update(mail_protocols_off=True)
    client = signed_in(two_tenants.a.admin)
    response = client.post(_mail_url(member), body, follow=True)
    assert response.status_code == 200
    assert "Choose whether mail protocols are on or off." in _messages(response)
    member.refresh_from_db()
    assert member.mail_protocols_off is True  # a missing value did not turn them on again
    assert _person_entries(member) == []


def test_the_switch_error_reads_in_chinese(two_tenants, signed_in):
    admin, member = two_tenants.a.admin, two_tenants.a.member
    User.objects.filter(pk=admin.pk).update(language="zh-hans")
    response = signed_in(admin).post(_mail_url(member), {"mail_protocols": "maybe"}, follow=True)
    assert "请选择开启或关闭邮件协议。" in _messages(response)
    member.refresh_from_db()
    assert member.mail_protocols_off is False


def test_a_stale_switch_posted_twice_is_one_change_and_says_it_was_already_done(two_tenants, signed_in):
    member = two_tenants.a.member
    client = signed_in(two_tenants.a.admin)
    first = client.post(_mail_url(member), {"mail_protocols": "off"}, follow=True)
    assert "Mail protocols are off for" in _messages(first)
    again = client.post(_mail_url(member), {"mail_protocols": "off"}, follow=True)
    assert "Mail protocols were already off for" in _messages(again)
    member.refresh_from_db()
    assert member.mail_protocols_off is True
    assert [e.changes for e in _person_entries(member)] == [{"mail_protocols_off": ["False", "True"]}]
    on = client.post(_mail_url(member), {"mail_protocols": "on"}, follow=True)
    assert "Mail protocols are on again for" in _messages(on)
    member.refresh_from_db()
    assert member.mail_protocols_off is False
    assert len(_person_entries(member)) == 2


def test_an_oversized_or_huge_person_id_is_a_404_never_a_500(two_tenants, signed_in):
    client = signed_in(two_tenants.a.admin)
    for pk in ("99999999999999999999", "9223372036854775808", "2147483648"):
        assert client.post(f"/people/{pk}/mail/", {"mail_protocols": "off"}).status_code == 404
    assert not User.objects.filter(mail_protocols_off=True).exists()


def test_an_offboarded_persons_mail_switch_cannot_be_forged(two_tenants, signed_in):
    """The page shows no switch for an offboarded person; a forged POST changes nothing either."""
    member = two_tenants.a.member
    User.objects.filter(pk=member.pk).update(status=User.Status.OFFBOARDED)
    client = signed_in(two_tenants.a.admin)
    assert 'data-testid="person-mail-switch"' not in client.get(f"/people/{member.pk}/").content.decode()
    response = client.post(_mail_url(member), {"mail_protocols": "off"}, follow=True)
    assert response.status_code == 200
    assert "An offboarded person's mail access cannot be changed." in _messages(response)
    member.refresh_from_db()
    assert member.mail_protocols_off is False
    assert _person_entries(member) == []


# --- Tenant isolation and roles ---------------------------------------------------------------------


@pytest.mark.parametrize("role", Role.values)
def test_another_tenants_person_is_a_404_or_403_for_every_role_and_method(role, two_tenants, signed_in):
    actor, globex = two_tenants.a.by_role(role), two_tenants.b.member
    client = signed_in(actor)
    may_switch = role in (Role.OWNER, Role.ADMIN, Role.HELPDESK)
    globex_entries = AuditLogEntry.objects.filter(tenant=two_tenants.b.tenant).count()
    post = client.post(_mail_url(globex), {"mail_protocols": "off"})
    assert post.status_code == (404 if may_switch else 403)
    assert client.get(_mail_url(globex)).status_code == 405  # the switch is POST-only for everybody
    assert not User.objects.filter(mail_protocols_off=True).exists()
    assert AuditLogEntry.objects.filter(tenant=two_tenants.b.tenant).count() == globex_entries


@pytest.mark.parametrize("role", Role.values)
def test_the_navigation_the_pages_and_the_switch_agree_for_every_role(role, two_tenants, signed_in):
    a = two_tenants.a
    client = signed_in(a.by_role(role))
    dashboard = client.get("/dashboard/" if role != Role.MEMBER else "/me/").content.decode()
    policy = client.get("/policies/mail/")
    may_view = role in (Role.OWNER, Role.ADMIN, Role.AUDITOR)
    may_manage = role in (Role.OWNER, Role.ADMIN)
    assert ('href="/policies/mail/"' in dashboard) is may_view
    assert policy.status_code == (200 if may_view else 403)
    if may_view:
        assert ('name="off_roles"' in policy.content.decode()) is may_manage
    saved = client.post("/policies/mail/", {"off_roles": ["member"]})
    assert saved.status_code == (302 if may_manage else 403)
    assert MailPolicy.objects.filter(tenant=a.tenant, off_for_members=True).exists() is may_manage
    assert not MailPolicy.objects.filter(tenant=two_tenants.b.tenant).exists()
    # The person switch: shown exactly to those who may suspend the member, and only they may use it.
    member = a.member if role != Role.MEMBER else a.auditor
    page = client.get(f"/people/{member.pk}/")
    may_switch = role in (Role.OWNER, Role.ADMIN, Role.HELPDESK)
    if page.status_code == 200:
        assert ('data-testid="person-mail-switch"' in page.content.decode()) is may_switch
    switched = client.post(_mail_url(member), {"mail_protocols": "off"})
    assert switched.status_code == (302 if may_switch else 403)
    member.refresh_from_db()
    assert member.mail_protocols_off is may_switch


# --- The audit trail ----------------------------------------------------------------------------------


def test_each_switch_change_reads_as_a_sentence_in_english_and_chinese(two_tenants, signed_in, make_client):
    a = two_tenants.a
    client = signed_in(a.admin)
    client.post(_mail_url(a.member), {"mail_protocols": "off"})
    client.post(_mail_url(a.member), {"mail_protocols": "on"})
    assert len(_person_entries(a.member)) == 2
    admin, member = str(a.admin), str(a.member)
    trail = client.get("/logs/audit/").content.decode()
    assert f"{admin} turned mail protocols off for {member}" in trail
    assert f"{admin} turned mail protocols on again for {member}" in trail
    User.objects.filter(pk=a.owner.pk).update(language="zh-hans")
    owner = make_client()
    assert owner.post("/signin/", {"email": a.owner.email, "password": PASSWORD}).status_code == 302
    chinese = owner.get("/logs/audit/").content.decode()
    assert f"{admin} 关闭了 {member} 的邮件协议" in chinese
    assert f"{admin} 重新开启了 {member} 的邮件协议" in chinese
    # The mail policy's save reads as the policy's sentence, its field named in the reader's language.
    owner.post("/policies/mail/", {"off_roles": ["member"]})
    chinese = owner.get("/logs/audit/").content.decode()
    assert "为成员关闭邮件协议" in chinese and "邮件客户端策略" in chinese


# --- The passdb view ----------------------------------------------------------------------------------

needs_postgres = pytest.mark.skipif(connection.vendor != "postgresql", reason="the passdb view is PostgreSQL's")


def _argon2(*people: User) -> None:
    hasher = Argon2PasswordHasher()
    encoded = hasher.encode(PASSWORD, hasher.salt())
    User.objects.filter(pk__in=[p.pk for p in people]).update(password=encoded)


def _logins() -> dict[str, set[str]]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT login, digest IS NULL FROM mailadmin_mail_passdb")
        found: dict[str, set[str]] = {}
        for login, account in cursor.fetchall():
            found.setdefault(login, set()).add("account" if account else "client")
        return found


@needs_postgres
def test_the_passdb_view_has_no_row_for_an_address_on_another_tenants_or_nobodys_domain(two_tenants):
    a, b = two_tenants.a, two_tenants.b
    # An Acme person left on a domain an operator moved to Globex, and one on a domain since removed.
    MailDomain.objects.create(tenant=a.tenant, domain="acme-old.example")
    MailDomain.objects.create(tenant=a.tenant, domain="acme-gone.example")
    moved = UserFactory(tenant=a.tenant, role=Role.MEMBER, email="moved@acme-old.example")
    gone = UserFactory(tenant=a.tenant, role=Role.MEMBER, email="gone@acme-gone.example")
    _argon2(moved, gone, a.member)
    for person in (moved, gone, a.member):
        mail_client_password_create(user=person, name="Phone")
    assert _logins()[moved.email] == _logins()[gone.email] == {"client", "account"}
    MailDomain.objects.filter(domain="acme-old.example").update(tenant=b.tenant)
    MailDomain.objects.filter(domain="acme-gone.example").delete()
    rows = _logins()
    assert moved.email not in rows and gone.email not in rows
    assert rows[a.member.email] == {"client", "account"}  # Acme's own domain: unchanged


@needs_postgres
def test_the_passdb_view_has_no_row_for_a_suspended_tenant_or_a_person_not_active(two_tenants):
    a, b = two_tenants.a, two_tenants.b
    people = [a.by_role(role) for role in Role.values] + [b.member]
    _argon2(*people)
    for person in people:
        mail_client_password_create(user=person, name="Phone")
    User.objects.filter(pk=a.member.pk).update(status=User.Status.OFFBOARDED)
    User.objects.filter(pk=a.helpdesk.pk).update(status=User.Status.SUSPENDED)
    User.objects.filter(pk=a.auditor.pk).update(status=User.Status.INVITED)
    rows = _logins()
    assert {a.member.email, a.helpdesk.email, a.auditor.email} & set(rows) == set()
    assert rows[a.admin.email] == rows[b.member.email] == {"client", "account"}
    Tenant.objects.filter(pk=a.tenant.pk).update(status=Tenant.Status.SUSPENDED)
    rows = _logins()
    assert {a.owner.email, a.admin.email} & set(rows) == set()
    assert rows[b.member.email] == {"client", "account"}


def test_a_change_of_sign_ins_covered_reads_on_the_audit_trail_in_english_and_chinese(
        two_tenants, signed_in, make_client):
    a = two_tenants.a
    client = signed_in(a.admin)
    saved = client.post("/policies/hours/", {"day_0": "09:00-18:00", "mode": "monitor",
                                             "scope": "everyone", "channels": "mail"})
    assert saved.status_code == 302, saved.context["form"].errors
    trail = client.get("/logs/audit/").content.decode()
    assert "changed the sign-in hours policy: " in trail and "Sign-ins covered" in trail
    assert "Mail clients only (IMAP, POP3, SMTP)" in trail  # the choice's label, not its code
    User.objects.filter(pk=a.owner.pk).update(language="zh-hans")
    owner = make_client()
    assert owner.post("/signin/", {"email": a.owner.email, "password": PASSWORD}).status_code == 302
    chinese = owner.get("/logs/audit/").content.decode()
    assert "适用的登录" in chinese and "仅邮件客户端（IMAP、POP3、SMTP）" in chinese  # noqa: RUF001
    assert "Sign-ins covered" not in chinese


def test_the_person_page_offers_the_switch_exactly_where_the_service_allows_it(two_tenants):
    from django.core.exceptions import ValidationError

    from security.policies.mail.selectors import person_mail_glance
    from security.policies.mail.services import person_mail_protocols_set

    a = two_tenants.a
    leaver = UserFactory(tenant=a.tenant, role=Role.MEMBER, email="leaver@acme.example",
                         status=User.Status.OFFBOARDED)
    invited = UserFactory(tenant=a.tenant, role=Role.MEMBER, email="invited@acme.example",
                          status=User.Status.INVITED)
    targets = [a.by_role(role) for role in Role.values] + [leaver, invited, two_tenants.b.member]
    offered_somewhere = False
    for actor in (a.by_role(role) for role in Role.values):
        for target in targets:
            target = User.objects.select_related("tenant").get(pk=target.pk)
            offered = (target.tenant_id == actor.tenant_id
                       and person_mail_glance(person=target, actor=actor).can_switch)
            try:
                person_mail_protocols_set(actor=actor, person=target, off=True)
            except ValidationError:
                allowed = False
            else:
                allowed = True
                User.objects.filter(pk=target.pk).update(mail_protocols_off=False)
            assert offered is allowed, (actor.role, target.email)
            offered_somewhere |= offered
    assert offered_somewhere
