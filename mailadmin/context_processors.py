"""Navigation by role: a link appears only when the role holds the capability its view needs."""

from __future__ import annotations

from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from tenants.roles import Cap

NAVIGATION = [
    ("dashboard", _("Dashboard"), Cap.DASHBOARD_VIEW),
    ("people_list", _("People"), Cap.PEOPLE_VIEW),
]
SELF_NAVIGATION = [
    ("profile", _("My profile"), Cap.SELF_SERVICE),
    ("password_change", _("Password"), Cap.SELF_SERVICE),
]


def console(request: HttpRequest) -> dict[str, object]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or getattr(request, "tenant", None) is None:
        return {"nav": [], "self_nav": []}
    current = getattr(request.resolver_match, "url_name", None)
    return {
        "nav": [(name, label, name == current) for name, label, cap in NAVIGATION if user.can(cap)],
        "self_nav": [(name, label, name == current) for name, label, cap in SELF_NAVIGATION
                     if user.can(cap)],
        "tenant": request.tenant,
    }
