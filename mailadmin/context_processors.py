"""Navigation by role: a link appears only when the role holds the capability its view needs."""

from __future__ import annotations

from typing import cast

from django.http import HttpRequest
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext_lazy as _

from accounts.mfa.services import mfa_user_has_device
from accounts.requests import ConsoleRequest
from security.signin.pending import MFA_GRACE_SESSION_KEY
from tenants.roles import Cap

NAVIGATION = [
    (_("Console"), [
        ("dashboard", _("Dashboard"), Cap.DASHBOARD_VIEW),
        ("people_list", _("People"), Cap.PEOPLE_VIEW),
        ("reports", _("Reports"), Cap.REPORTS_VIEW),
    ]),
    (_("Alerts"), [
        ("alerts_list", _("Alerts"), Cap.ALERTS_VIEW),
        ("alert_rules", _("Alert rules"), Cap.ALERTS_VIEW),
        ("webhooks", _("Webhooks"), Cap.WEBHOOKS_MANAGE),
    ]),
    (_("Logs"), [
        ("signin_log", _("Sign-in log"), Cap.LOGS_VIEW),
        ("export_log", _("Export log"), Cap.LOGS_VIEW),
        ("audit_trail", _("Audit trail"), Cap.AUDIT_VIEW),
        ("email_log", _("E-mail log"), Cap.AUDIT_VIEW),
    ]),
    (_("Policies"), [
        ("policy_password", _("Passwords"), Cap.POLICY_VIEW),
        ("policy_mfa", _("Two-step sign-in"), Cap.POLICY_VIEW),
        ("policy_network", _("Network allowlist"), Cap.POLICY_VIEW),
        ("policy_hours", _("Sign-in hours"), Cap.POLICY_VIEW),
        ("policy_lockout", _("Lockout"), Cap.POLICY_VIEW),
        ("policy_sessions", _("Sessions"), Cap.POLICY_VIEW),
        ("policy_mail", _("Mail clients"), Cap.POLICY_VIEW),
        ("retention_policy", _("Retention"), Cap.POLICY_VIEW),
        ("legal_holds", _("Legal holds"), Cap.POLICY_VIEW),
    ]),
    (_("Accounts"), [
        ("locked_accounts", _("Locked accounts"), Cap.PEOPLE_VIEW),  # unlocking: PEOPLE_UNLOCK
        ("password_compliance", _("Password compliance"), Cap.POLICY_VIEW),
    ]),
    (_("Me"), [
        ("my_security", _("My security"), Cap.SELF_SERVICE),
        ("profile", _("My profile"), Cap.SELF_SERVICE),
        ("password_change", _("Password"), Cap.SELF_SERVICE),
        ("mfa_manage", _("Two-step sign-in"), Cap.SELF_SERVICE),
        ("my_sessions", _("My sessions"), Cap.SELF_SERVICE),
        ("mail_clients", _("Mail client passwords"), Cap.SELF_SERVICE),
        ("my_signins", _("My sign-in history"), Cap.SELF_SERVICE),
        ("my_exports", _("My exports"), Cap.SELF_SERVICE),
    ]),
]


def _url(name: str) -> str | None:
    try:
        return reverse(name)
    except NoReverseMatch:  # a page that is not mounted in this deployment
        return None


def console(request: HttpRequest) -> dict[str, object]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or getattr(request, "tenant", None) is None:
        return {"nav": []}
    path = request.path
    groups = []
    for title, links in NAVIGATION:
        items = [
            (url, label, url == path)
            for name, label, cap in links
            if user.can(cap) and (url := _url(name)) is not None
        ]
        if items:
            groups.append((title, items))
    console_request = cast(ConsoleRequest, request)  # signed in, with a tenant: checked above
    return {"nav": groups, "tenant": console_request.tenant,
            "mfa_grace_days": _mfa_grace_days(console_request)}


def _mfa_grace_days(request: ConsoleRequest) -> int | None:
    days = request.session.get(MFA_GRACE_SESSION_KEY)
    if days is None:
        return None
    if mfa_user_has_device(user=request.user):  # enrolled since: the banner has done its job
        request.session.pop(MFA_GRACE_SESSION_KEY, None)
        return None
    return int(days)
