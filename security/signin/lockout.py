"""Glue between django-axes and the tenants' lockout policies, and the console's unlock.

Design: axes counts failures per ``[username, ip_address]``, where the username is the
normalised address (case variants are one account). The failure limit and cool-off are the
tenant's: the tenant is found from the address's mail domain, so unknown addresses on a
tenant's domain are counted under its rules too, and anything else gets the defaults. The rules
are resolved at most once per request (one query) and cached on the request.

Per-tenant cool-offs need ``AXES_USE_ATTEMPT_EXPIRATION = True``: without it axes deletes every
attempt older than *the current request's* cool-off, so a tenant with a 1-minute cool-off would
unlock another tenant's 60-minute lockouts. With it each attempt carries its own expiry.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from axes.models import AccessAttempt
from django.db.models import Max, Q, Sum
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from accounts.models import User, normalize_email
from security.policies.cache import tenant_rules
from security.policies.lockout.rules import DEFAULT_RULES, LockoutRules
from security.policies.lockout.selectors import lockout_rules_for, lockout_rules_for_domain
from security.signin.ceiling import account_ceiling_lift, throttled_accounts
from security.signin.refusal import render_signin_failure
from tenants.models import Tenant

_USERNAME_ATTR = "mailadmin_axes_username"
_RULES_ATTR = "mailadmin_lockout_rules"


def username_from_request(request: HttpRequest, credentials: dict[str, Any] | None) -> str:
    """axes counts failures on the normalised address, so case variants share one bucket."""
    raw = ""
    if credentials:
        raw = credentials.get("email") or credentials.get("username") or ""
    if not raw and request is not None:
        raw = request.POST.get("email", "") if request.method == "POST" else ""
    username = normalize_email(str(raw))
    if username and request is not None:
        # Remembered for cooloff(request), which axes calls without the credentials.
        setattr(request, _USERNAME_ATTR, username)
    return username


_TENANT_ATTR = "_mailadmin_attempt_tenant"


def remember_attempt_tenant(request: HttpRequest, *, login_name: str, tenant: Tenant | None) -> None:
    """The sign-in pipeline already knows the attempt's tenant: spare axes the domain lookup."""
    setattr(request, _TENANT_ATTR, (login_name, tenant))


def _rules(request: HttpRequest | None, credentials: dict[str, Any] | None = None) -> LockoutRules:
    if request is None:
        return DEFAULT_RULES
    username = (username_from_request(request, credentials) if credentials else "") or getattr(
        request, _USERNAME_ATTR, "") or username_from_request(
        request, getattr(request, "axes_credentials", None))
    cached = getattr(request, _RULES_ATTR, None)
    if cached is not None and cached[0] == username:
        return cached[1]
    known = getattr(request, _TENANT_ATTR, None)
    if known is not None and known[0] == username:
        tenant = known[1]
        rules = (tenant_rules("lockout", tenant, lambda: lockout_rules_for(tenant=tenant))
                 if tenant is not None else DEFAULT_RULES)
    else:
        domain = username.rpartition("@")[2] if "@" in username else ""
        rules = lockout_rules_for_domain(domain=domain)
    setattr(request, _RULES_ATTR, (username, rules))
    return rules


def failure_limit(request: HttpRequest, credentials: dict[str, Any] | None = None) -> int:
    """``AXES_FAILURE_LIMIT``: the tenant's failure limit for this attempt."""
    return _rules(request, credentials).limit


def cooloff(request: HttpRequest | None = None) -> timedelta:
    """``AXES_COOLOFF_TIME``: the tenant's cool-off for this attempt (never None: no permanent lock)."""
    return _rules(request).cooloff


def lockout_response(request: HttpRequest, credentials: dict[str, Any] | None = None,
                     *args: Any, **kwargs: Any) -> HttpResponse:
    """A locked account sees the same page and message as a wrong password."""
    return render_signin_failure(request)


# --- Who is locked out, and ending a lockout ----------------------------------------------


@dataclass(frozen=True)
class LockedAccount:
    person: User
    ip_address: str | None
    failures: int
    last_attempt_at: datetime
    unlocks_at: datetime


def locked_accounts_list(*, tenant: Tenant, person: User | None = None,
                         now: datetime | None = None) -> list[LockedAccount]:
    """People of this tenant (or just ``person``) locked out right now: one row per (person, IP)
    bucket, and one without an IP per person at their account's ceiling; four queries."""
    rules = lockout_rules_for(tenant=tenant)
    now = now or timezone.now()
    # axes' table is platform-wide: the tenant's people's addresses are what scope it.
    people_here = User.objects.for_tenant(tenant)
    if person is not None:
        people_here = people_here.filter(pk=person.pk)
    emails = people_here.values("email")
    buckets = list(
        AccessAttempt.objects.filter(username__in=emails, attempt_time__gte=now - rules.cooloff)
        .values("username", "ip_address")
        .annotate(failures=Sum("failures_since_start"), last_attempt_at=Max("attempt_time"))
        .filter(failures__gte=rules.limit)
        .order_by("-last_attempt_at", "username")
    )
    # The account's ceiling across all IPs: one row with no IP (every unrecognised browser).
    throttled = throttled_accounts(tenant=tenant, rules=rules, user=person, now=now)
    people_found = list(User.objects.for_tenant(tenant).filter(
        Q(email__in={b["username"] for b in buckets}) | Q(pk__in=[t.user_id for t in throttled])))
    people = {p.email: p for p in people_found}
    ids = {p.pk: p for p in people_found}
    locked = [
        LockedAccount(person=people[b["username"]], ip_address=b["ip_address"], failures=b["failures"],
                      last_attempt_at=b["last_attempt_at"],
                      unlocks_at=b["last_attempt_at"] + rules.cooloff)
        for b in buckets if b["username"] in people
    ]
    # Lifts by itself once the window has passed its failures: at the latest a window after the last.
    locked += [
        LockedAccount(person=ids[t.user_id], ip_address=None, failures=t.failures,
                      last_attempt_at=t.last_failure_at, unlocks_at=t.last_failure_at + rules.ceiling_window)
        for t in throttled if t.user_id in ids
    ]
    return sorted(locked, key=lambda row: row.last_attempt_at, reverse=True)


def lockout_reset(*, person: User) -> int:
    """End a person's lockout now, on every IP, and lift their account's ceiling; returns the
    attempts removed. Who may do it and its audit entry are the caller's
    (``people.services.person_unlock``)."""
    from axes.utils import reset  # axes' utils import its handler: loaded only for an unlock

    account_ceiling_lift(user=person)
    return int(reset(username=person.email))
