"""The mail-client switches: the policy page, the person page's switch, the policy endpoint's
refusal, and the passdb view held to ``account_password_over_mail`` (the one rule, in SQL too).
"""

from __future__ import annotations

import datetime as dt
import itertools
import json

import pytest
from django.contrib.auth.hashers import Argon2PasswordHasher
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.utils import timezone

from accounts.mailclients.services import mail_client_password_create
from accounts.mfa.models import EncryptedTOTPDevice
from accounts.models import User
from activity.models import AuditLogEntry, LoginEvent
from activity.services import login_event_record
from security.policies.cache import rules_cache_clear
from security.policies.mail.models import MailPolicy
from security.policies.mail.rules import (
    AccountPasswordOverMail,
    MailRules,
    account_password_over_mail,
)
from security.policies.mail.selectors import person_account_password_over_mail
from security.policies.mfa.models import MfaPolicy
from security.policies.mfa.rules import MfaRules
from security.policies.password.models import PasswordPolicy, PasswordState
from tests.mailauth.conftest import SECRET
from tests.retention.support import client as client_info

pytestmark = pytest.mark.django_db

PAGE = "/policies/mail/"


def _argon2(person: User) -> None:
    """Production's hash (the suite hashes with MD5, which Dovecot could not verify)."""
    hasher = Argon2PasswordHasher()
    User.objects.filter(pk=person.pk).update(password=hasher.encode("Correct-horse-battery-9", hasher.salt()))


def _audit(obj) -> list[AuditLogEntry]:
    return list(AuditLogEntry.objects.filter(content_type=ContentType.objects.get_for_model(type(obj)),
                                             object_pk=str(obj.pk)).order_by("id"))


def test_owner_saves_the_switches_and_each_change_is_one_audit_entry(two_tenants, signed_in):
    tenant = two_tenants.a.tenant
    client = signed_in(two_tenants.a.owner)
    page = client.get(PAGE).content.decode()
    assert 'data-testid="policy-mail-off">Nobody<' in page and 'href="/policies/mail/"' in page
    response = client.post(PAGE, {"client_passwords_required": "on", "off_roles": ["member", "helpdesk"]})
    assert response.status_code == 302
    policy = MailPolicy.objects.get(tenant=tenant)
    assert (policy.client_passwords_required, policy.off_for_members, policy.off_for_helpdesk,
            policy.off_for_admins) == (True, True, True, False)
    client.post(PAGE, {"client_passwords_required": "on", "off_roles": ["member", "helpdesk"]})  # unchanged
    client.post(PAGE, {"off_roles": ["member"]})
    entries = _audit(policy)
    assert len(entries) == 2 and all(e.actor_id == two_tenants.a.owner.pk for e in entries)
    assert entries[1].changes == {"client_passwords_required": ["True", "False"],
                                  "off_for_helpdesk": ["True", "False"]}
    shown = client.get(PAGE).content.decode()
    assert 'data-testid="policy-mail-off">Member<' in shown
    trail = client.get("/logs/audit/").content.decode()
    assert "Mail protocols off for helpdesk" in trail
    bad = client.post(PAGE, {"off_roles": ["superuser"]})
    assert bad.status_code == 200 and "Select a valid choice" in bad.content.decode()
    assert not MailPolicy.objects.filter(tenant=two_tenants.b.tenant).exists()


def test_an_auditor_reads_the_mail_policy_and_cannot_change_it(two_tenants, signed_in):
    client = signed_in(two_tenants.a.auditor)
    page = client.get(PAGE)
    assert page.status_code == 200 and 'data-testid="policy-client-passwords">No<' in page.content.decode()
    assert 'name="off_roles"' not in page.content.decode()
    assert client.post(PAGE, {"off_roles": ["member"]}).status_code == 403
    assert signed_in(two_tenants.a.member).get(PAGE).status_code == 403
    assert not MailPolicy.objects.exists()


def test_an_admin_turns_a_persons_mail_protocols_off_and_on_on_their_page(two_tenants, signed_in):
    member = two_tenants.a.member
    _argon2(member)
    client = signed_in(two_tenants.a.admin)
    page = client.get(f"/people/{member.pk}/").content.decode()
    assert 'data-testid="person-mail">On: the account password or a client-specific password<' in page
    assert 'data-testid="action-mail-off"' in page
    assert client.post(f"/people/{member.pk}/mail/", {"mail_protocols": "off"}).status_code == 302
    member.refresh_from_db()
    assert member.mail_protocols_off
    page = client.get(f"/people/{member.pk}/").content.decode()
    assert 'data-testid="person-mail">Off for this person<' in page and 'data-testid="action-mail-on"' in page
    client.post(f"/people/{member.pk}/mail/", {"mail_protocols": "off"})  # already off: no entry
    client.post(f"/people/{member.pk}/mail/", {"mail_protocols": "on"})
    member.refresh_from_db()
    assert not member.mail_protocols_off
    entries = [e.changes for e in _audit(member) if e.action == AuditLogEntry.Action.UPDATE]
    assert entries == [{"mail_protocols_off": ["False", "True"]}, {"mail_protocols_off": ["True", "False"]}]
    trail = client.get("/logs/audit/").content.decode()
    assert "Mail protocols off" in trail


def test_the_person_switch_is_refused_across_tenants_ranks_and_roles(two_tenants, signed_in, make_client):
    a, b = two_tenants.a, two_tenants.b
    admin = signed_in(a.admin)
    assert admin.post(f"/people/{b.member.pk}/mail/", {"mail_protocols": "off"}).status_code == 404
    admin.post(f"/people/{a.owner.pk}/mail/", {"mail_protocols": "off"})  # above the admin's rank
    admin.post(f"/people/{a.admin.pk}/mail/", {"mail_protocols": "off"})  # themselves
    assert admin.get(f"/people/{a.member.pk}/mail/").status_code == 405
    auditor = make_client()
    auditor.post("/signin/", {"email": a.auditor.email, "password": "Correct-horse-battery-9"})
    assert auditor.post(f"/people/{a.member.pk}/mail/", {"mail_protocols": "off"}).status_code == 403
    assert not User.objects.filter(mail_protocols_off=True).exists()
    # The helpdesk, who may suspend a member, may turn a member's mail off too (not an admin's).
    helpdesk = make_client()
    helpdesk.post("/signin/", {"email": a.helpdesk.email, "password": "Correct-horse-battery-9"})
    helpdesk.post(f"/people/{a.admin.pk}/mail/", {"mail_protocols": "off"})
    helpdesk.post(f"/people/{a.member.pk}/mail/", {"mail_protocols": "off"})
    assert list(User.objects.filter(mail_protocols_off=True)) == [a.member]
    assert 'data-testid="action-mail-off"' not in admin.get(f"/people/{a.owner.pk}/").content.decode()


def test_the_person_page_says_which_password_mail_clients_may_use(two_tenants, signed_in):
    member = two_tenants.a.member
    client = signed_in(two_tenants.a.owner)
    page = client.get(f"/people/{member.pk}/").content.decode()
    assert ("On: client-specific passwords; the account password too after their next web sign-in"
            in page)  # an older hash Dovecot cannot verify
    _argon2(member)

    def says() -> str:
        page = client.get(f"/people/{member.pk}/").content.decode()
        return page.split('data-testid="person-mail">', 1)[1].split("<", 1)[0]

    assert says() == "On: the account password or a client-specific password"
    MfaPolicy.objects.create(tenant=member.tenant, requirement="required_all")
    assert says() == "On: client-specific passwords only (two-step sign-in applies to this person)"
    MailPolicy.objects.create(tenant=member.tenant, client_passwords_required=True, off_for_members=True)
    assert says() == "Off for their role (the mail client policy)"
    User.objects.filter(pk=member.pk).update(must_change_password=True)
    assert says() == "Off until they choose a new password (the account was secured)"
    User.objects.filter(pk=member.pk).update(status=User.Status.SUSPENDED)
    assert says() == "Off while the account is not active"


def test_the_policy_endpoint_refuses_a_person_whose_mail_is_off_before_any_password(
        client, settings, two_tenants):
    settings.MAILADMIN_MAIL_POLICY_SECRET = SECRET
    settings.MAILADMIN_MAIL_POLICY_NETWORKS = ["127.0.0.1/32"]
    settings.ALERTS_DETECT_EAGER = False
    member, admin = two_tenants.a.member, two_tenants.a.admin

    def allow(login: str) -> int:
        body = {"login": login, "remote": "198.51.100.7", "protocol": "pop3", "session_id": "s"}
        return client.post("/mailauth/policy?command=allow", data=json.dumps(body),
                           content_type="application/json", REMOTE_ADDR="127.0.0.1",
                           HTTP_X_API_KEY=SECRET).json()["status"]

    MailPolicy.objects.create(tenant=member.tenant, off_for_members=True)
    User.objects.filter(pk=admin.pk).update(mail_protocols_off=True)
    assert allow(member.email) == allow(admin.email) == -1
    assert allow(two_tenants.a.auditor.email) == allow(two_tenants.b.member.email) == 0
    rows = list(LoginEvent.objects.order_by("id").values_list("user_id", "outcome", "reason", "protocol"))
    assert rows == [(member.pk, "denied", "mail_protocols_off", "pop3"),
                    (admin.pk, "denied", "mail_protocols_off", "pop3")]


def _passdb(tenant_id: int) -> dict[int, set[str]]:
    """The view's rows per person: "client" and/or "account"."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT user_id, digest IS NULL, password FROM mailadmin_mail_passdb WHERE tenant_id = %s",
                       [tenant_id])
        found: dict[int, set[str]] = {}
        for user_id, account, password in cursor.fetchall():
            found.setdefault(user_id, set()).add("account" if account else "client")
            if account:
                assert password.startswith("{ARGON2ID}$argon2id$v=19$")
            else:
                assert password.startswith("{SHA256.HEX}")
        return found


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the passdb view is PostgreSQL's")
def test_the_passdb_view_carries_the_account_password_exactly_where_the_rule_accepts_it(two_tenants):
    tenant = two_tenants.a.tenant
    people = [two_tenants.a.by_role(role) for role in ("owner", "admin", "auditor", "helpdesk", "member")]
    hasher = Argon2PasswordHasher()
    argon2 = hasher.encode("Correct-horse-battery-9", hasher.salt())
    for person in people:
        User.objects.filter(pk=person.pk).update(password=argon2)
        mail_client_password_create(user=person, name="Phone")
    # The helpdesk has an authenticator app; the auditor's mail is off; the member keeps an MD5 hash.
    EncryptedTOTPDevice.objects.create(tenant=tenant, user=people[3], name="Phone", key=b"0" * 20,
                                       confirmed=True)
    User.objects.filter(pk=people[2].pk).update(mail_protocols_off=True)
    User.objects.filter(pk=people[4].pk).update(password="md5$salt$0123456789abcdef0123456789abcdef")
    # The admin's password expired under a 90-day expiry; the owner's was changed yesterday.
    PasswordPolicy.objects.create(tenant=tenant, expiry_days=90)
    now = timezone.now()
    PasswordState.objects.create(tenant=tenant, user=people[1], changed_at=now - dt.timedelta(days=91))
    PasswordState.objects.create(tenant=tenant, user=people[0], changed_at=now - dt.timedelta(days=1))
    mfa = MfaPolicy.objects.create(tenant=tenant, requirement="optional")
    mail = MailPolicy.objects.create(tenant=tenant)
    cases = itertools.product(["optional", "required_admins", "required_all"], [False, True], [False, True])
    for requirement, required, members_off in cases:
        MfaPolicy.objects.filter(pk=mfa.pk).update(requirement=requirement)
        MailPolicy.objects.filter(pk=mail.pk).update(client_passwords_required=required,
                                                     off_for_members=members_off)
        rows = _passdb(tenant.pk)
        for person in people:
            person = User.objects.get(pk=person.pk)
            verdict = account_password_over_mail(
                role=person.role, person_off=person.mail_protocols_off,
                has_mfa_device=person.pk == people[3].pk, password_hash=person.password,
                mail_rules=MailRules.build(client_passwords_required=required,
                                           off_roles=["member"] if members_off else []),
                mfa_rules=MfaRules(requirement=requirement),
                password_change_due=person.pk == people[1].pk)
            expected = set() if verdict == AccountPasswordOverMail.MAIL_OFF else {"client"}
            if verdict == AccountPasswordOverMail.ACCEPTED:
                expected.add("account")
            assert rows.get(person.pk, set()) == expected, (requirement, required, members_off, person.role)
    # The selector the person page uses says the same as the pure rule, password state included.
    MfaPolicy.objects.filter(pk=mfa.pk).update(requirement="optional")
    MailPolicy.objects.filter(pk=mail.pk).update(client_passwords_required=False)
    rules_cache_clear()  # .update() above skipped the policy-version bump
    owner, admin = User.objects.get(pk=people[0].pk), User.objects.get(pk=people[1].pk)
    assert person_account_password_over_mail(person=owner) == AccountPasswordOverMail.ACCEPTED
    assert person_account_password_over_mail(person=admin) == AccountPasswordOverMail.PASSWORD_CHANGE_DUE
    assert _passdb(tenant.pk)[owner.pk] == {"client", "account"}
    assert _passdb(two_tenants.b.tenant.pk) == {}


def test_an_admin_reading_chinese_sees_the_switches_and_the_refusal_in_chinese(two_tenants, signed_in):
    admin, member = two_tenants.a.admin, two_tenants.a.member
    User.objects.filter(pk=admin.pk).update(language="zh-hans")
    client = signed_in(admin)
    client.post(f"/people/{member.pk}/mail/", {"mail_protocols": "off"})
    page = client.get(f"/people/{member.pk}/").content.decode()
    assert 'data-testid="person-mail">已为此人员关闭<' in page and "重新开启邮件协议" in page
    policy = client.get(PAGE).content.decode()
    assert "要求所有人使用客户端专用密码" in policy and "为以下角色关闭邮件协议" in policy
    network = client.get("/policies/network/").content.decode()
    assert "适用的登录" in network and "仅邮件客户端" in network
    login_event_record(tenant=member.tenant, user=member, attempted_login=member.email,
                       client=client_info(), outcome="denied", reason="mail_protocols_off", protocol="imap")
    log = client.get("/logs/signins/?protocol=imap").content.decode()
    assert "管理员已关闭邮件协议" in log
