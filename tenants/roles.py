"""Roles and the capabilities they grant: the one place that decides who may do what.

Views declare the capability they need (``tenants.access``); nothing else compares role names.
"""

from __future__ import annotations

from enum import StrEnum

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    OWNER = "owner", _("Owner")
    ADMIN = "admin", _("Administrator")
    AUDITOR = "auditor", _("Auditor")
    HELPDESK = "helpdesk", _("Helpdesk")
    MEMBER = "member", _("Member")


ADMIN_ROLES = frozenset({Role.OWNER, Role.ADMIN})


class Cap(StrEnum):
    # Every signed-in employee.
    SELF_SERVICE = "self_service"
    # Console.
    DASHBOARD_VIEW = "dashboard_view"
    PEOPLE_VIEW = "people_view"
    PEOPLE_INVITE = "people_invite"
    PEOPLE_CHANGE_ROLE = "people_change_role"
    PEOPLE_MAKE_OWNER = "people_make_owner"
    PEOPLE_SUSPEND = "people_suspend"
    PEOPLE_OFFBOARD = "people_offboard"
    PEOPLE_UNLOCK = "people_unlock"
    PEOPLE_RESET_MFA = "people_reset_mfa"
    POLICY_VIEW = "policy_view"
    POLICY_MANAGE = "policy_manage"
    LOGS_VIEW = "logs_view"
    LOGS_EXPORT = "logs_export"
    AUDIT_VIEW = "audit_view"
    ALERTS_VIEW = "alerts_view"
    ALERTS_TRIAGE = "alerts_triage"
    REPORTS_VIEW = "reports_view"
    RETENTION_MANAGE = "retention_manage"
    GREY_ZONE_VIEW = "grey_zone_view"
    WEBHOOKS_MANAGE = "webhooks_manage"


_READ_ONLY = {
    Cap.SELF_SERVICE, Cap.DASHBOARD_VIEW, Cap.PEOPLE_VIEW, Cap.POLICY_VIEW, Cap.LOGS_VIEW,
    Cap.LOGS_EXPORT, Cap.AUDIT_VIEW, Cap.ALERTS_VIEW, Cap.REPORTS_VIEW,
}
_ADMIN = _READ_ONLY | {
    Cap.PEOPLE_INVITE, Cap.PEOPLE_CHANGE_ROLE, Cap.PEOPLE_SUSPEND, Cap.PEOPLE_OFFBOARD,
    Cap.PEOPLE_UNLOCK, Cap.PEOPLE_RESET_MFA, Cap.POLICY_MANAGE, Cap.ALERTS_TRIAGE,
    Cap.WEBHOOKS_MANAGE,
}

ROLE_CAPABILITIES: dict[str, frozenset[Cap]] = {
    Role.OWNER: frozenset(_ADMIN | {Cap.PEOPLE_MAKE_OWNER, Cap.RETENTION_MANAGE, Cap.GREY_ZONE_VIEW}),
    Role.ADMIN: frozenset(_ADMIN),
    Role.AUDITOR: frozenset(_READ_ONLY | {Cap.GREY_ZONE_VIEW}),
    Role.HELPDESK: frozenset({
        Cap.SELF_SERVICE, Cap.DASHBOARD_VIEW, Cap.PEOPLE_VIEW, Cap.PEOPLE_SUSPEND,
        Cap.PEOPLE_UNLOCK, Cap.PEOPLE_RESET_MFA,
    }),
    Role.MEMBER: frozenset({Cap.SELF_SERVICE}),
}


def role_has(role: str, cap: Cap) -> bool:
    return cap in ROLE_CAPABILITIES.get(role, frozenset())


# Who may act on whom (suspend, reactivate, unlock, reset MFA): nobody acts above their rank.
_MANAGEABLE: dict[str, frozenset[str]] = {
    Role.OWNER: frozenset(Role.values),
    Role.ADMIN: frozenset({Role.ADMIN, Role.AUDITOR, Role.HELPDESK, Role.MEMBER}),
    Role.HELPDESK: frozenset({Role.MEMBER}),
}


def can_manage(actor_role: str, target_role: str) -> bool:
    return target_role in _MANAGEABLE.get(actor_role, frozenset())
