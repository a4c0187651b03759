"""Device cookies (OWASP "Slow Down Online Guessing Attacks with Device Cookies").

Design:
- Issued at each successful sign-in (after the second factor) to a browser that does not hold a
  valid one for the person yet: ``mailadmin_device`` = signed ``<user id>:<random nonce>``
  (``django.core.signing`` with its own salt, HMAC-SHA256 under ``SECRET_KEY``), HttpOnly,
  Secure when the session cookie is, SameSite=Lax, sent only to ``/signin/``, 180 days.
  The row (``security.signin.models.DeviceCookie``) keeps the nonce's SHA-256.
- Checked only for the account being signed in to: a cookie signed for another person, tampered
  with, expired or revoked is simply absent (no query unless the signed id is this person's).
- Valid and not locked, it lets the browser past the account's ceiling
  (``security.signin.ceiling``). Its wrong passwords count on its own row; after the tenant's
  failure limit within the ceiling's window it stops counting as recognised until that window
  has passed, so a stolen cookie buys an attacker a handful of tries, not a bypass.
- Revoked all at once by deleting the person's rows (``device_cookies_revoke``): "This wasn't me",
  offboarding and password reset call it.
- The request path never touches Redis: one indexed query by ``(tenant, token_hash)``, and the
  new row of a sign-in goes out in the same statement as its LoginEvent.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core import signing
from django.db.models import Case, F, Value, When, Window
from django.db.models.functions import RowNumber
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from accounts.models import User
from activity.capture import ClientInfo
from security.policies.lockout.rules import LockoutRules
from security.signin.models import DeviceCookie
from tenants.models import Tenant

COOKIE_NAME = "mailadmin_device"
COOKIE_PATH = "/signin/"
COOKIE_AGE = timedelta(days=180)
_SALT = "mailadmin.security.device_cookie"
_KNOWN_ATTR = "_mailadmin_device_cookie"  # (user id, DeviceCookie | None), once per request
_ISSUE_ATTR = "_mailadmin_device_cookie_issue"  # the value to set on the response
# Refresh last_used_at at most this often (a write on a sign-in only when it is stale).
_TOUCH_RESOLUTION = timedelta(hours=1)
# Browsers remembered per person; the daily purge forgets the least recently used beyond these
# (private windows and wiped browsers would otherwise add a row at every sign-in).
KEEP_PER_PERSON = 20


def _hash(nonce: str) -> str:
    return hashlib.sha256(nonce.encode()).hexdigest()


def _signer() -> signing.Signer:
    return signing.Signer(salt=_SALT, algorithm="sha256")


def _unsign(value: str) -> tuple[int, str] | None:
    try:
        raw = _signer().unsign(value)
    except signing.BadSignature:
        return None
    uid, _, nonce = raw.partition(":")
    if not uid.isdigit() or len(nonce) < 16:
        return None
    return int(uid), nonce


@dataclass(frozen=True)
class DeviceState:
    device: DeviceCookie
    locked: bool


def device_cookie_for(*, request: HttpRequest, user: User, rules: LockoutRules,
                      now: datetime | None = None) -> DeviceState | None:
    """This browser's device cookie for ``user``, if it has a valid one (locked or not)."""
    known = getattr(request, _KNOWN_ATTR, None)
    if known is not None and known[0] == user.pk:
        found: DeviceCookie | None = known[1]
    else:
        found = None
        parsed = _unsign(request.COOKIES.get(COOKIE_NAME, ""))
        if parsed is not None and parsed[0] == user.pk and user.tenant_id is not None:
            found = (DeviceCookie.objects.filter(tenant_id=user.tenant_id, token_hash=_hash(parsed[1]),
                                                 user=user).first())
        setattr(request, _KNOWN_ATTR, (user.pk, found))
    now = now or timezone.now()
    if found is None or found.expires_at <= now:
        return None
    locked = (found.failures >= rules.device_limit and found.failures_since is not None
              and found.failures_since > now - rules.ceiling_window)
    return DeviceState(device=found, locked=locked)


def device_cookie_failed(*, state: DeviceState, rules: LockoutRules, now: datetime | None = None) -> None:
    """A wrong password (or code) from a recognised browser: one more failure in its own bucket,
    counted in one atomic UPDATE (a window that has passed starts again at 1)."""
    now = now or timezone.now()
    since = now - rules.ceiling_window
    fresh = When(failures_since__gt=since, then=F("failures") + 1)
    DeviceCookie.objects.filter(pk=state.device.pk).update(
        failures=Case(fresh, default=Value(1)),
        failures_since=Case(When(failures_since__gt=since, then=F("failures_since")), default=Value(now)),
    )


def device_cookie_signed_in(*, request: HttpRequest, user: User, client: ClientInfo,
                            rules: LockoutRules) -> DeviceCookie | None:
    """A sign-in completed: the unsaved row of a new device cookie to insert with the sign-in's
    LoginEvent, or None when the browser's own valid cookie was kept (its failures forgiven)."""
    now = timezone.now()
    state = device_cookie_for(request=request, user=user, rules=rules, now=now)
    if state is not None and not state.locked:
        device = state.device
        if device.failures or now - device.last_used_at >= _TOUCH_RESOLUTION:
            DeviceCookie.objects.filter(pk=device.pk).update(failures=0, failures_since=None,
                                                             last_used_at=now)
        return None
    if user.tenant_id is None:
        return None
    nonce = secrets.token_urlsafe(32)
    setattr(request, _ISSUE_ATTR, _signer().sign(f"{user.pk}:{nonce}"))
    browser = " ".join(p for p in (client.browser_family, client.browser_version) if p)
    os_name = " ".join(p for p in (client.os_family, client.os_version) if p)
    return DeviceCookie(tenant_id=user.tenant_id, user=user, token_hash=_hash(nonce), created_at=now,
                        last_used_at=now, expires_at=now + COOKIE_AGE, browser=browser[:80],
                        os=os_name[:80], ip=client.ip or None)


def device_cookie_apply(*, request: HttpRequest, response: HttpResponse) -> HttpResponse:
    """Set the cookie a sign-in issued on this request's response (the views call it)."""
    value = getattr(request, _ISSUE_ATTR, None)
    if value:
        response.set_cookie(COOKIE_NAME, value, max_age=int(COOKIE_AGE.total_seconds()),
                            path=COOKIE_PATH, secure=settings.SESSION_COOKIE_SECURE, httponly=True,
                            samesite="Lax")
    return response


def device_cookies_revoke(*, user: User) -> int:
    """Every device cookie of this person stops counting as recognised; returns how many.
    Who may do it and its audit entry are the caller's (``security.signin.compromise``)."""
    if user.tenant_id is None:
        return 0
    deleted, _ = DeviceCookie.objects.filter(tenant_id=user.tenant_id, user=user).delete()
    return int(deleted)



def device_cookies_purge_expired(*, now: datetime | None = None) -> int:
    """Forget device cookies past their expiry, and all but each person's ``KEEP_PER_PERSON``
    most recently used, tenant by tenant (beat, daily; idempotent, and a run killed half-way
    leaves only rows the next run deletes). Returns how many went."""
    now = now or timezone.now()
    total = 0
    for tenant in Tenant.objects.only("pk").iterator():
        rows = DeviceCookie.objects.for_tenant(tenant)
        deleted, _ = rows.filter(expires_at__lte=now).delete()
        surplus = list(
            rows.annotate(rank=Window(RowNumber(), partition_by=F("user_id"),
                                      order_by=[F("last_used_at").desc(), F("id").desc()]))
            .filter(rank__gt=KEEP_PER_PERSON).values_list("pk", flat=True))
        if surplus:
            deleted += rows.filter(pk__in=surplus).delete()[0]
        total += int(deleted)
    return total
