"""Bulk actions from the people list: one plan saying what will happen to whom, then each person
through the per-person service.

Design notes
- ``bulk_plan`` reads the selected people (only the tenant's: an id of another tenant makes the
  whole request unknown, ``PeopleNotFound``, and nothing happens) and sorts them into the people
  the action will change and the people it skips, each with the reason in the admin's language:
  yourself, a role yours may not manage, a status the action does not apply to, the last active
  owner. The confirmation page shows that plan; applying plans again from the same ids (the
  state may have moved meanwhile), so the page never acts on a stale list.
- ``bulk_apply`` calls the action's own service once per person, each in its own transaction:
  the service checks its rules again, writes its audit entry and e-mails as it does on the
  person page. A person it refuses now (someone else acted first) is reported, not half-changed.
- The capability an action needs is the service's own; the view refuses a role without it
  before planning (403). At most ``MAX_SELECTED`` people per request.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.mfa.selectors import METHOD_PASSKEY, METHOD_TOTP, mfa_methods_by_user
from accounts.models import User
from people import services as people_services
from people.directory.selectors import people_by_ids
from people.directory.services import person_mfa_enrol_remind
from people.offboarding import services as offboarding_services
from tenants.models import Tenant
from tenants.roles import Cap, Role, can_manage, role_has

MAX_SELECTED = 500


class PeopleNotFound(Exception):
    """A selected id is not a person of this tenant (another tenant's, or none at all)."""


@dataclass(frozen=True, slots=True)
class Facts:
    """What the checks need about the selection, read once for all of it."""

    methods: dict[int, list[str]]
    active_owner_ids: frozenset[int]


Check = Callable[[User, User, Facts], str | None]


@dataclass(frozen=True, slots=True)
class BulkAction:
    code: str
    label: str | Promise  # the choice in the list's menu
    summary: str | Promise  # what will happen to each person, on the confirmation page
    button: str | Promise
    capability: Cap
    check: Check  # why a person is skipped, or None
    run: Callable[..., Any]  # the per-person service
    # State-changing actions ask for the acting admin's recent re-authentication.
    recent_auth: bool = True
    # The action takes a reason and an optional date (offboarding).
    needs_reason: bool = False
    # Skipping the last active owner: actions after which an owner no longer signs in.
    protects_last_owner: bool = False


@dataclass(frozen=True, slots=True)
class Skip:
    person: User
    reason: str


@dataclass(frozen=True, slots=True)
class BulkPlan:
    action: BulkAction
    targets: list[User]
    skipped: list[Skip]


@dataclass(slots=True)
class BulkResult:
    done: list[User] = field(default_factory=list)
    failed: list[Skip] = field(default_factory=list)


def _has_second_factor(person: User, facts: Facts) -> bool:
    methods = facts.methods.get(person.pk, [])
    return METHOD_TOTP in methods or METHOD_PASSKEY in methods


def _check_suspend(actor: User, person: User, facts: Facts) -> str | None:
    if person.status != User.Status.ACTIVE:
        return _("Only an active person can be suspended.")
    return None


def _check_reactivate(actor: User, person: User, facts: Facts) -> str | None:
    if person.status == User.Status.OFFBOARDED:
        return _("An offboarded person is reactivated by an owner, from their own page.")
    if person.status != User.Status.SUSPENDED:
        return _("Only a suspended person can be reactivated.")
    return None


def _check_offboard(actor: User, person: User, facts: Facts) -> str | None:
    if person.status == User.Status.OFFBOARDED:
        return _("Already offboarded.")
    return None


def _check_password_change(actor: User, person: User, facts: Facts) -> str | None:
    if person.status not in (User.Status.ACTIVE, User.Status.SUSPENDED):
        return _("Only a person who has a password can be asked to change it.")
    if person.must_change_password:
        return _("Already has to choose a new password at the next sign-in.")
    return None


def _check_mfa_reset(actor: User, person: User, facts: Facts) -> str | None:
    if not facts.methods.get(person.pk):
        return _("Has no two-step sign-in to reset.")
    return None


def _check_remind(actor: User, person: User, facts: Facts) -> str | None:
    if person.status != User.Status.ACTIVE:
        return _("Only an active person can set up two-step sign-in.")
    if _has_second_factor(person, facts):
        return _("Already uses two-step sign-in.")
    return None


ACTIONS: dict[str, BulkAction] = {action.code: action for action in (
    BulkAction(
        code="suspend", label=gettext_lazy("Suspend"),
        summary=gettext_lazy("They cannot sign in, and every session of theirs ends now."),
        button=gettext_lazy("Suspend these people"), capability=Cap.PEOPLE_SUSPEND,
        check=_check_suspend, run=people_services.person_suspend, protects_last_owner=True,
    ),
    BulkAction(
        code="reactivate", label=gettext_lazy("Reactivate"),
        summary=gettext_lazy("They can sign in again."),
        button=gettext_lazy("Reactivate these people"), capability=Cap.PEOPLE_SUSPEND,
        check=_check_reactivate, run=people_services.person_reactivate,
    ),
    BulkAction(
        code="offboard", label=gettext_lazy("Offboard"),
        summary=gettext_lazy("Their account is closed: they cannot sign in, every session ends, "
                             "and every authenticator, backup code, mail-client password, "
                             "invitation and reset link stops working."),
        button=gettext_lazy("Offboard these people"), capability=Cap.PEOPLE_OFFBOARD,
        check=_check_offboard, run=offboarding_services.person_offboard, needs_reason=True,
        protects_last_owner=True,
    ),
    BulkAction(
        code="require_password_change", label=gettext_lazy("Require a password change"),
        summary=gettext_lazy("They must choose a new password at their next sign-in; their mail "
                             "clients are refused until then."),
        button=gettext_lazy("Require a new password"), capability=Cap.PEOPLE_SUSPEND,
        check=_check_password_change, run=offboarding_services.person_require_password_change,
    ),
    BulkAction(
        code="reset_mfa", label=gettext_lazy("Reset two-step sign-in"),
        summary=gettext_lazy("Their authenticator apps, passkeys and backup codes are removed; "
                             "they set up two-step sign-in again at their next sign-in and are "
                             "told by e-mail."),
        button=gettext_lazy("Reset two-step sign-in"), capability=Cap.PEOPLE_RESET_MFA,
        check=_check_mfa_reset, run=people_services.person_mfa_reset,
    ),
    BulkAction(
        code="remind_mfa", label=gettext_lazy("Remind to set up two-step sign-in"),
        summary=gettext_lazy("They receive an e-mail asking them to set up two-step sign-in "
                             "(at most one a day)."),
        button=gettext_lazy("Send the reminders"), capability=Cap.PEOPLE_RESET_MFA,
        check=_check_remind, run=person_mfa_enrol_remind, recent_auth=False,
    ),
)}


def actions_for(actor: User) -> list[BulkAction]:
    """The actions the actor's role may take, in the menu's order."""
    return [action for action in ACTIONS.values() if role_has(actor.role, action.capability)]


def _facts(tenant: Tenant, people: list[User]) -> Facts:
    owners = User.objects.for_tenant(tenant).filter(role=Role.OWNER, status=User.Status.ACTIVE)
    return Facts(methods=mfa_methods_by_user(tenant=tenant, user_ids=[p.pk for p in people]),
                 active_owner_ids=frozenset(owners.values_list("pk", flat=True)))


def bulk_plan(*, tenant: Tenant, actor: User, action: BulkAction, ids: list[int]) -> BulkPlan:
    """Who ``action`` will change among ``ids``, and who it skips and why (nothing is changed).

    Raises PeopleNotFound when an id is not one of the tenant's people.
    """
    wanted = set(ids)
    people = people_by_ids(tenant=tenant, ids=list(wanted))
    if len(people) != len(wanted):
        raise PeopleNotFound
    facts = _facts(tenant, people)
    owners_left = set(facts.active_owner_ids)
    targets: list[User] = []
    skipped: list[Skip] = []
    for person in people:
        reason: str | None
        if person.pk == actor.pk:
            reason = _("This is you: change your own account from your own pages.")
        elif not can_manage(actor.role, person.role):
            reason = _("Your role may not manage a person with the role %(role)s.") % {
                "role": person.get_role_display()}
        else:
            reason = action.check(actor, person, facts)
        if reason is None and action.protects_last_owner and person.role == Role.OWNER:
            if not owners_left - {person.pk}:
                reason = _("The last active owner: make someone else an owner first.")
            else:
                owners_left.discard(person.pk)
        if reason is None:
            targets.append(person)
        else:
            skipped.append(Skip(person=person, reason=reason))
    return BulkPlan(action=action, targets=targets, skipped=skipped)


def bulk_apply(*, tenant: Tenant, actor: User, plan: BulkPlan, reason: str = "",
               effective_at: datetime | None = None) -> BulkResult:
    """Run the plan's action on each of its people through the per-person service.

    Each person is one transaction of the service's; one it refuses now is reported in
    ``failed`` with the service's message, and the others go ahead.
    """
    options: dict[str, Any] = {}
    if plan.action.needs_reason:
        options = {"reason": reason, "effective_at": effective_at}
    result = BulkResult()
    for person in plan.targets:
        try:
            plan.action.run(tenant=tenant, actor=actor, person=person, **options)
        except ValidationError as exc:
            result.failed.append(Skip(person=person, reason=" ".join(exc.messages)))
        else:
            result.done.append(person)
    return result
