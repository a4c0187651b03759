"""The account password over mail, and the admins' mail switches, against a real Dovecot.

Dovecot 2.3.19 verifies the account password itself from the passdb view's ``{ARGON2ID}`` row
(Django's Argon2id hash as it is stored); the view carries that row only when no two-step sign-in
applies to the person and client-specific passwords are not required for everyone. "Mail
protocols off" (per role, per person) is refused by the policy endpoint before any password, with
its own reason. The suite hashes with MD5 for speed, so each person here gets a real Argon2id hash.
"""

from __future__ import annotations

import time

import pytest
from django.contrib.auth.hashers import Argon2PasswordHasher

from accounts.mailclients.services import mail_client_password_create
from accounts.mfa.models import EncryptedTOTPDevice
from accounts.models import User
from activity.models import LoginEvent
from security.policies.mail.models import MailPolicy
from security.policies.mfa.models import MfaPolicy
from tests.factories import PASSWORD
from tests.mailauth.clients import imap_login, pop3_login

pytestmark = pytest.mark.django_db(transaction=True)


def _argon2(user: User) -> User:
    """The person's password hashed as production hashes it (Django's Argon2id, 8 lanes)."""
    hasher = Argon2PasswordHasher()
    user.password = hasher.encode(PASSWORD, hasher.salt())
    user.save(update_fields=["password"])
    assert user.password.startswith("argon2$argon2id$v=19$") and ",p=8$" in user.password
    return user


def _events(user: User, *, expected: int) -> list[tuple[str, str, str]]:
    """(protocol, outcome, reason) of the person's events, waiting for Dovecot's reports."""
    deadline = time.monotonic() + 5
    while True:
        rows = list(LoginEvent.objects.for_tenant(user.tenant).filter(user=user).order_by("id")
                    .values_list("protocol", "outcome", "reason"))
        if len(rows) >= expected or time.monotonic() > deadline:
            return rows
        time.sleep(0.05)


def test_the_account_password_signs_in_over_imap_and_pop3_when_nothing_asks_for_more(two_tenants, dovecot):
    member = _argon2(two_tenants.a.member)
    assert imap_login(dovecot.imap_port, member.email, PASSWORD), dovecot.log()[-2000:]
    assert pop3_login(dovecot.pop3_port, member.email, PASSWORD)
    assert not imap_login(dovecot.imap_port, member.email, "Correct-horse-battery-8")
    # A client-specific password still works beside it, and is the one the report names.
    row, plaintext = mail_client_password_create(user=member, name="Thunderbird")
    assert imap_login(dovecot.imap_port, member.email, plaintext)
    assert _events(member, expected=4) == [("imap", "success", ""), ("pop3", "success", ""),
                                           ("imap", "failure", "bad_credentials"), ("imap", "success", "")]
    row.refresh_from_db()
    assert row.last_used_at is not None
    # Globex's member, with the same password and no Argon2id hash, is not let in by it.
    globex = two_tenants.b.member
    assert not imap_login(dovecot.imap_port, globex.email, PASSWORD)
    assert _events(globex, expected=1) == [("imap", "failure", "bad_credentials")]


@pytest.mark.parametrize("why", ["mfa_policy", "own_authenticator", "client_passwords_required"])
def test_the_account_password_is_refused_when_two_step_applies_or_client_passwords_are_required(
        two_tenants, dovecot, why):
    member = _argon2(two_tenants.a.member)
    if why == "mfa_policy":  # required for everyone, even within its grace period
        MfaPolicy.objects.create(tenant=member.tenant, requirement="required_all", grace_days=7)
    elif why == "own_authenticator":
        EncryptedTOTPDevice.objects.create(tenant=member.tenant, user=member, name="Phone", key=b"0" * 20,
                                           confirmed=True)
    else:
        MailPolicy.objects.create(tenant=member.tenant, client_passwords_required=True)
    _row, plaintext = mail_client_password_create(user=member, name="Phone")
    assert not imap_login(dovecot.imap_port, member.email, PASSWORD)
    assert imap_login(dovecot.imap_port, member.email, plaintext)
    assert _events(member, expected=2) == [("imap", "failure", "bad_credentials"), ("imap", "success", "")]


def test_mail_protocols_off_for_a_role_or_a_person_refuse_every_password_with_their_reason(
        two_tenants, dovecot, signed_in):
    member, helpdesk = _argon2(two_tenants.a.member), two_tenants.a.helpdesk
    _row, plaintext = mail_client_password_create(user=member, name="Phone")
    _row, helpdesk_plaintext = mail_client_password_create(user=helpdesk, name="Phone")
    MailPolicy.objects.create(tenant=member.tenant, off_for_members=True)
    assert not imap_login(dovecot.imap_port, member.email, plaintext)
    assert not pop3_login(dovecot.pop3_port, member.email, PASSWORD)
    assert imap_login(dovecot.imap_port, helpdesk.email, helpdesk_plaintext)  # another role
    User.objects.filter(pk=helpdesk.pk).update(mail_protocols_off=True)
    assert not imap_login(dovecot.imap_port, helpdesk.email, helpdesk_plaintext)
    assert _events(member, expected=2) == [("imap", "denied", "mail_protocols_off"),
                                           ("pop3", "denied", "mail_protocols_off")]
    assert _events(helpdesk, expected=2) == [("imap", "success", ""), ("imap", "denied", "mail_protocols_off")]
    # The sign-in log says why, in words.
    log = signed_in(two_tenants.a.owner).get("/logs/signins/?protocol=imap").content.decode()
    assert "Mail protocols turned off by an administrator" in log
    # On again: the same password works at once.
    User.objects.filter(pk=helpdesk.pk).update(mail_protocols_off=False)
    assert imap_login(dovecot.imap_port, helpdesk.email, helpdesk_plaintext)
    assert _events(helpdesk, expected=3)[-1] == ("imap", "success", "")  # its report has landed
