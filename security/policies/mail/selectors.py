"""Reads of the mail-client switches; none of them writes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import partial

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.mfa.services import mfa_user_has_device
from accounts.models import User
from security.policies.cache import tenant_rules
from security.policies.mail.models import MailPolicy
from security.policies.mail.rules import (
    AccountPasswordOverMail,
    MailRules,
    account_password_over_mail,
)
from security.policies.mfa.selectors import mfa_rules_for
from security.policies.password.rules import NonCompliance, password_expires_at
from security.policies.password.selectors import password_rules_for, password_state_get
from security.policies.support import policy_or_defaults
from tenants.models import Tenant
from tenants.roles import Cap, can_manage


def mail_policy_get(*, tenant: Tenant) -> MailPolicy:
    """The tenant's mail-client policy, or the defaults (nothing off, account password allowed)."""
    return policy_or_defaults(MailPolicy, tenant=tenant)


def mail_rules_for(*, tenant: Tenant) -> MailRules:
    """The tenant's switches as pure rules (one query, no writes)."""
    return MailRules.from_policy(mail_policy_get(tenant=tenant))


def mail_rules_cached(*, tenant: Tenant) -> MailRules:
    """``mail_rules_for`` through the per-process policy cache (the mail decision's hot path)."""
    return tenant_rules("mail", tenant, lambda: mail_rules_for(tenant=tenant))


def person_account_password_over_mail(*, person: User,
                                      has_mfa_device: bool | None = None) -> AccountPasswordOverMail:
    """Whether this person's mail clients may use the account password (the person page says it;
    it knows ``has_mfa_device`` already)."""
    tenant = person.tenant
    if tenant is None:
        return AccountPasswordOverMail.MAIL_OFF
    if has_mfa_device is None:
        has_mfa_device = mfa_user_has_device(user=person)
    verdict = partial(
        account_password_over_mail, role=person.role, person_off=person.mail_protocols_off,
        has_mfa_device=has_mfa_device, password_hash=person.password or "",
        mail_rules=mail_rules_cached(tenant=tenant),
        mfa_rules=tenant_rules("mfa", tenant, lambda: mfa_rules_for(tenant=tenant)))
    first = verdict()
    if first != AccountPasswordOverMail.ACCEPTED:
        return first  # the password's state would not change the answer: not read
    return verdict(password_change_due=password_change_due(person=person, tenant=tenant))


def password_change_due(*, person: User, tenant: Tenant, now: datetime | None = None) -> bool:
    """Whether the web would ask this person for a new password first (expired, or recorded as not
    complying under "change it at sign-in"), as the passdb view decides it."""
    state = password_state_get(user=person)
    if state is None:
        return False  # the expiry clock starts at the first recorded change
    rules = tenant_rules("password", tenant, lambda: password_rules_for(tenant=tenant))
    expires_at = password_expires_at(state.changed_at, rules)
    if expires_at is not None and (now or timezone.now()) >= expires_at:
        return True
    return state.compliant is False and rules.on_noncompliant == NonCompliance.CHANGE_NOW


_SAYS = {
    AccountPasswordOverMail.ACCEPTED: gettext_lazy("On: the account password or a client-specific password"),
    AccountPasswordOverMail.TWO_STEP: gettext_lazy(
        "On: client-specific passwords only (two-step sign-in applies to this person)"),
    AccountPasswordOverMail.CLIENT_PASSWORDS_REQUIRED: gettext_lazy(
        "On: client-specific passwords only (required for everyone)"),
    AccountPasswordOverMail.HASH_NOT_YET_USABLE: gettext_lazy(
        "On: client-specific passwords; the account password too after their next web sign-in"),
    AccountPasswordOverMail.PASSWORD_CHANGE_DUE: gettext_lazy(
        "On: client-specific passwords; the account password again once they choose a new one"),
}


@dataclass(frozen=True, slots=True)
class PersonMail:
    """What the person page says about a person's mail clients, and whether the viewer may switch."""

    off_for_person: bool
    off_for_role: bool
    says: str
    can_switch: bool


def person_mail_glance(*, person: User, actor: User, has_mfa_device: bool | None = None) -> PersonMail:
    tenant = person.tenant
    rules = mail_rules_cached(tenant=tenant) if tenant is not None else MailRules()
    off_for_role = person.role in rules.off_roles
    if person.status != User.Status.ACTIVE:
        says = str(_("Off while the account is not active"))
    elif person.must_change_password:
        says = str(_("Off until they choose a new password (the account was secured)"))
    elif person.mail_protocols_off:
        says = str(_("Off for this person"))
    elif off_for_role:
        says = str(_("Off for their role (the mail client policy)"))
    else:
        says = str(_SAYS[person_account_password_over_mail(person=person, has_mfa_device=has_mfa_device)])
    can_switch = (actor.can(Cap.PEOPLE_SUSPEND) and actor.pk != person.pk
                  and can_manage(actor.role, person.role) and person.status != User.Status.OFFBOARDED)
    return PersonMail(off_for_person=person.mail_protocols_off, off_for_role=off_for_role, says=says,
                      can_switch=can_switch)
