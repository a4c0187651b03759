"""Writes of the mail-client switches.

The tenant's switches are one ``MailPolicy`` save (audited by auditlog like every policy: one
entry with the fields that changed; an unchanged save writes nothing). The per-person switch is
one save of the person's ``mail_protocols_off`` (users are audited by auditlog too). Both take
effect at the next mail sign-in: the policy endpoint reads the rules through the policy cache
(the tenant's policy version moves with the save) and the passdb view reads the rows themselves.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from accounts.models import User
from security.policies.mail.models import MailPolicy
from security.policies.mail.rules import ROLE_FIELDS
from security.policies.support import policy_actor_check, policy_for_update, policy_save_if_changed
from tenants.models import Tenant
from tenants.roles import Cap, can_manage


@transaction.atomic
def mail_policy_update(*, tenant: Tenant, actor: User, client_passwords_required: bool,
                       off_roles: Iterable[str]) -> MailPolicy:
    """Save the tenant's switches: client-specific passwords for everyone, mail off per role."""
    policy_actor_check(tenant=tenant, actor=actor)
    roles = set(off_roles)
    unknown = roles - set(ROLE_FIELDS)
    if unknown:
        raise ValidationError(_("Choose valid roles."), code="invalid_choice")
    if not isinstance(client_passwords_required, bool):
        raise ValidationError(_("Choose yes or no."), code="invalid_choice")
    policy = policy_for_update(MailPolicy, tenant=tenant)
    values: dict[str, object] = {"client_passwords_required": client_passwords_required}
    values.update({name: role in roles for role, name in ROLE_FIELDS.items()})
    policy_save_if_changed(policy, actor=actor, values=values)
    return policy


@transaction.atomic
def person_mail_protocols_set(*, actor: User, person: User, off: bool) -> bool:
    """Turn a person's mail protocols off or on again; True when it changed (one audit entry)."""
    if actor.tenant_id is None or actor.tenant_id != person.tenant_id:
        raise ValidationError(_("You can only change people of your own company."), code="wrong_tenant")
    locked = User.objects.select_for_update().get(pk=person.pk, tenant_id=actor.tenant_id)
    # Decided on the locked row: a role changed since the page was read is the one that counts.
    if not actor.can(Cap.PEOPLE_SUSPEND) or actor.pk == locked.pk or not can_manage(actor.role, locked.role):
        raise ValidationError(_("You are not allowed to change this person's mail access."), code="capability")
    if locked.status == User.Status.OFFBOARDED:
        # As the person page (no switch): offboarding ended their access for good.
        raise ValidationError(_("An offboarded person's mail access cannot be changed."), code="offboarded")
    if locked.mail_protocols_off == off:
        return False
    locked.mail_protocols_off = off
    locked.save(update_fields=["mail_protocols_off"])
    person.mail_protocols_off = off
    return True
