"""The mail-client switches: mail protocols off per role or per person, and which password a mail
client may use (pure; no model imports).

Design: one ``MailPolicy`` per tenant (``security.policies.mail.models``) holds the admins'
switches: "require client-specific passwords for everyone" and "mail protocols off" for each role;
the per-person switch is ``User.mail_protocols_off`` (the person page). Two places decide with
them and must agree:

- the policy endpoint's ``allow`` (``security.mailauth.services``), before any password:
  ``mail_access`` refuses a person whose mail protocols are off, recorded as
  ``mail_protocols_off``;
- the passdb view ``mailadmin_mail_passdb`` (``security/migrations/0012_mail_passdb_account_password.py``),
  which Dovecot reads for the password itself: it hides every row of a person whose mail is off
  (so the switch holds even while the web tier is down), and carries the person's account
  password, as ``{ARGON2ID}`` and its PHC string, only when ``account_password_over_mail`` says
  so. A test holds the view to this function.

The account password works over mail only when nothing asks for more: no two-step sign-in applies
to the person (none set up, and the tenant's MFA policy does not require one for their role, in a
grace period or not: a password alone must not get past a second factor the web asks for), the
tenant does not require client-specific passwords for everyone, and the web would not ask for a
new password first (expired, or recorded as not complying while the policy says "change it at
sign-in": an old password must not live on over IMAP). Otherwise mail clients use
client-specific passwords only, as Google's and Microsoft's app passwords.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from activity.models import Reason
from security.policies.base import Decision
from security.policies.mfa.rules import MfaRules, mfa_required_for
from tenants.roles import Role

# Which field of the policy turns mail protocols off for which role (the SQL view names them too).
ROLE_FIELDS: dict[str, str] = {
    Role.OWNER: "off_for_owners",
    Role.ADMIN: "off_for_admins",
    Role.AUDITOR: "off_for_auditors",
    Role.HELPDESK: "off_for_helpdesk",
    Role.MEMBER: "off_for_members",
}
# Django's Argon2id hashes ("argon2" + the PHC string): the only ones Dovecot verifies itself.
ARGON2ID_PREFIX = "argon2$argon2id$"


class MailSettings(Protocol):
    client_passwords_required: bool
    off_for_owners: bool
    off_for_admins: bool
    off_for_auditors: bool
    off_for_helpdesk: bool
    off_for_members: bool


@dataclass(frozen=True, slots=True)
class MailRules:
    client_passwords_required: bool = False
    off_roles: frozenset[str] = frozenset()

    @classmethod
    def from_policy(cls, policy: MailSettings) -> MailRules:
        return cls(client_passwords_required=policy.client_passwords_required,
                   off_roles=frozenset(role for role, name in ROLE_FIELDS.items() if getattr(policy, name)))

    @classmethod
    def build(cls, *, client_passwords_required: bool, off_roles: Iterable[str]) -> MailRules:
        return cls(client_passwords_required=client_passwords_required, off_roles=frozenset(off_roles))


def mail_access(*, role: str, person_off: bool, rules: MailRules) -> Decision:
    """Whether the person may sign in over mail protocols at all (before any password)."""
    if person_off or role in rules.off_roles:
        return Decision.deny(Reason.MAIL_PROTOCOLS_OFF)
    return Decision.allow()


class AccountPasswordOverMail(StrEnum):
    """Whether a mail client may sign in with the account password, and if not, why."""

    ACCEPTED = "accepted"
    MAIL_OFF = "mail_off"
    CLIENT_PASSWORDS_REQUIRED = "client_passwords_required"
    TWO_STEP = "two_step"
    PASSWORD_CHANGE_DUE = "password_change_due"  # noqa: S105  # a verdict, not a password
    HASH_NOT_YET_USABLE = "hash_not_yet_usable"


def account_password_over_mail(*, role: str, person_off: bool, has_mfa_device: bool, password_hash: str,
                               mail_rules: MailRules, mfa_rules: MfaRules,
                               password_change_due: bool = False) -> AccountPasswordOverMail:
    """The passdb view's rule for the account-password row, in Python (the person page says it)."""
    if not mail_access(role=role, person_off=person_off, rules=mail_rules).allowed:
        return AccountPasswordOverMail.MAIL_OFF
    if mail_rules.client_passwords_required:
        return AccountPasswordOverMail.CLIENT_PASSWORDS_REQUIRED
    if has_mfa_device or mfa_required_for(role, mfa_rules):
        return AccountPasswordOverMail.TWO_STEP
    if not password_hash.startswith(ARGON2ID_PREFIX):
        # An older hash (PBKDF2, scrypt) Dovecot cannot verify; Django rehashes it with Argon2id
        # at the person's next web sign-in.
        return AccountPasswordOverMail.HASH_NOT_YET_USABLE
    if password_change_due:
        return AccountPasswordOverMail.PASSWORD_CHANGE_DUE
    return AccountPasswordOverMail.ACCEPTED
