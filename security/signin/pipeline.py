"""The sign-in pipeline: every attempt decided by the tenant's policies and recorded once.

Design:
- Ordered steps: lockout → account ceiling → password → account state → network → hours → password compliance →
  MFA. Each policy check is a pure function (``security.policies.<name>.rules``); this module
  fetches their inputs, runs them in order and stops at the first deny or challenge.
- Enumeration: until the password is verified (and for account state, which must not reveal that
  an address exists either), every refusal renders the same status and message, and costs one
  password hash — a locked or unknown account hashes a dummy password, so response time does not
  tell them apart. After the password, the person may be told which policy stopped them.
- Lockout is django-axes: we ask it before the password and send ``user_login_failed`` after a
  failure, so its per-tenant limits count wrong passwords and wrong OTP codes alike.
- Above the per-IP buckets, the account's ceiling across all IPs (``security.signin.ceiling``)
  refuses, before the password, every browser without a valid device cookie of the account
  (``security.signin.device_cookies``): a botnet is stopped, the owner's laptop is not. A
  recognised browser's failures count on its own cookie too. Each successful sign-in issues a
  device cookie to a browser that has none for the person.
- ``login()`` is called only when every step allowed. Passing the password with MFA due leaves a
  *pending* session (``security.signin.pending``) that only the MFA pages read; the session key is
  rotated there and again by ``login()``.
- Every HTTP attempt writes exactly one ``LoginEvent`` through ``activity.services`` in the same
  transaction as the decision. The row never holds a password, a code or a session key.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from axes.handlers.proxy import AxesProxyHandler
from django.conf import settings
from django.contrib.auth import SESSION_KEY, login, logout, user_login_failed
from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.mfa.passkeys import PASSKEY_NOT_ACCEPTED, passkey_verify
from accounts.mfa.services import (
    mfa_device_exists,
    mfa_recent_auth_mark,
    mfa_user_has_device,
    mfa_verify,
)
from accounts.models import User, normalize_email
from accounts.services import language_keep
from activity.capture import ClientInfo, client_info
from activity.models import Outcome, Reason
from activity.services import login_event_record
from security.policies.base import Channel, Decision, SignInContext, Verdict
from security.policies.cache import tenant_rules
from security.policies.hours import rules as hours
from security.policies.hours.selectors import hours_rules_for
from security.policies.lockout.rules import LockoutRules
from security.policies.lockout.selectors import lockout_rules_for
from security.policies.mfa.rules import MfaRules, mfa_requirement
from security.policies.mfa.selectors import mfa_rules_for
from security.policies.network import rules as network
from security.policies.network.selectors import network_rules_for
from security.policies.password.selectors import password_rules_for
from security.policies.password.services import password_signin_compliance
from security.sessions.services import user_session_build, user_session_forget
from security.signin.ceiling import account_ceiling_reached
from security.signin.device_cookies import (
    DeviceState,
    device_cookie_failed,
    device_cookie_for,
    device_cookie_signed_in,
)
from security.signin.lockout import remember_attempt_tenant
from security.signin.pending import (
    MFA_GRACE_SESSION_KEY,
    PASSWORD_CHANGE_SESSION_KEY,
    PendingSignIn,
    pending_begin,
    pending_clear,
)
from security.signin.refusal import GENERIC_FAILURE
from tenants.models import MailDomain, Tenant

POLICY_MESSAGES = {
    Reason.NETWORK_DENIED: _("Sign-in is not allowed from this network. Contact your administrator."),
    Reason.HOURS_DENIED: _("Sign-in is not allowed at this time. Your company limits sign-in hours."),
}
AUTH_BACKEND = "accounts.backends.EmailBackend"
MAX_PASSWORD_LENGTH = 4096  # the form enforces it too; a longer one is never hashed


@dataclass(frozen=True)
class SignInResult:
    """What the view needs: where to go next, or which message to show."""

    status: Literal["signed_in", "mfa_verify", "mfa_enroll", "refused"]
    user: User | None = None
    message: str = ""
    password_change_required: bool = False
    monitored: list[str] = field(default_factory=list)


def tenant_for_login(login_name: str, user: User | None) -> Tenant | None:
    """The tenant an attempt belongs to: the account's, else the address's mail domain's."""
    if user is not None and user.tenant_id is not None:
        return user.tenant
    domain = login_name.rsplit("@", 1)[-1] if "@" in login_name else ""
    if not domain:
        return None
    found = MailDomain.objects.select_related("tenant").filter(domain=domain).first()
    return found.tenant if found else None


def _record(*, request: HttpRequest, tenant: Tenant | None, user: User | None, login_name: str,
            client: ClientInfo, outcome: str, reason: str, mfa_method: str = "") -> None:
    if tenant is None:
        # An address on no tenant's domain belongs to nobody's log; axes still counts it.
        return
    login_event_record(
        tenant=tenant, user=user, attempted_login=login_name, client=client, outcome=outcome,
        reason=reason, mfa_method=mfa_method, session_key=request.session.session_key,
    )


def _failed(request: HttpRequest, login_name: str) -> None:
    user_login_failed.send(sender=__name__, credentials={"email": login_name}, request=request)


def _lockout_rules(tenant: Tenant) -> LockoutRules:
    return tenant_rules("lockout", tenant, lambda: lockout_rules_for(tenant=tenant))


def _throttled(*, request: HttpRequest, user: User, rules: LockoutRules) -> tuple[bool, DeviceState | None]:
    """(refused by the account's ceiling, this browser's device cookie for the person)."""
    device = device_cookie_for(request=request, user=user, rules=rules)
    if device is not None and not device.locked:
        return False, device
    return account_ceiling_reached(user=user, rules=rules), device


def _policy_decisions(ctx: SignInContext, tenant: Tenant) -> list[Decision]:
    return [
        network.evaluate(ctx, tenant_rules("network", tenant, lambda: network_rules_for(tenant=tenant))),
        hours.evaluate(ctx, tenant_rules("hours", tenant, lambda: hours_rules_for(tenant=tenant))),
    ]


def signin_attempt(*, request: HttpRequest, email: str, password: str) -> SignInResult:
    """Run the pipeline for one e-mail + password submission."""
    login_name = normalize_email(email)[:254]
    client = client_info(request)
    user = _signin_user(login_name)
    tenant = tenant_for_login(login_name, user)
    refused = SignInResult(status="refused", message=str(GENERIC_FAILURE))
    credentials = {"email": login_name}
    remember_attempt_tenant(request, login_name=login_name, tenant=tenant)

    with transaction.atomic():
        # 1. Lockout. A locked bucket costs the same hash as a wrong password.
        if not AxesProxyHandler.is_allowed(request, credentials):
            make_password(password[:MAX_PASSWORD_LENGTH])
            _failed(request, login_name)  # same work as a wrong password: no timing tell
            _record(request=request, tenant=tenant, user=user, login_name=login_name, client=client,
                    outcome=Outcome.FAILURE, reason=Reason.LOCKED_OUT)
            return refused

        # 2. The account's ceiling across all IPs: only its recognised browsers get past it, and
        #    the refusal costs the same hash and signal as a wrong password.
        device: DeviceState | None = None
        lockout_rules: LockoutRules | None = None
        if user is not None and user.tenant is not None:
            lockout_rules = _lockout_rules(user.tenant)
            throttled, device = _throttled(request=request, user=user, rules=lockout_rules)
            if throttled:
                make_password(password[:MAX_PASSWORD_LENGTH])
                _failed(request, login_name)
                _record(request=request, tenant=tenant, user=user, login_name=login_name,
                        client=client, outcome=Outcome.FAILURE, reason=Reason.ACCOUNT_THROTTLED)
                return refused

        # 3. Password. Unknown accounts hash a dummy so timing does not reveal them.
        if user is None:
            make_password(password[:MAX_PASSWORD_LENGTH])
            _failed(request, login_name)
            _record(request=request, tenant=tenant, user=None, login_name=login_name,
                    client=client, outcome=Outcome.FAILURE, reason=Reason.UNKNOWN_ACCOUNT)
            return refused
        if not user.check_password(password[:MAX_PASSWORD_LENGTH]):
            if device is not None and lockout_rules is not None:
                device_cookie_failed(state=device, rules=lockout_rules)
            _failed(request, login_name)
            _record(request=request, tenant=tenant, user=user, login_name=login_name, client=client,
                    outcome=Outcome.FAILURE, reason=Reason.BAD_CREDENTIALS)
            return refused

        # 4. Account state: told apart in the record, never on the page.
        state_reason = _account_state_reason(user)
        if state_reason is not None:
            _failed(request, login_name)
            _record(request=request, tenant=tenant, user=user, login_name=login_name, client=client,
                    outcome=Outcome.FAILURE, reason=state_reason)
            return refused
        assert tenant is not None  # an active account always has its tenant

        # 5-6. Network and hours (enforce denies; monitor records "would have denied").
        ctx = SignInContext(ip=client.ip, now=timezone.now(), role=user.role, user_id=user.pk,
                            channel=Channel.WEB)  # a policy kept to mail clients lets it through
        monitored: list[str] = []
        for decision in _policy_decisions(ctx, tenant):
            if decision.verdict == Verdict.DENY:
                _record(request=request, tenant=tenant, user=user, login_name=login_name,
                        client=client, outcome=Outcome.DENIED, reason=decision.reason)
                return SignInResult(status="refused", user=user,
                                    message=str(POLICY_MESSAGES.get(Reason(decision.reason), GENERIC_FAILURE)))
            if decision.monitored:
                monitored.append(decision.reason)

        # 7. Password compliance with the current policy (decided now, enforced after MFA).
        change_required = _password_change_required(user=user, tenant=tenant, password=password,
                                                     now=ctx.now)

        # 8. MFA.
        mfa = _mfa_decision(user=user, tenant=tenant, ctx=ctx)
        if mfa.verdict == Verdict.CHALLENGE:
            stage: Literal["verify", "enroll"] = (
                "enroll" if mfa.reason == Reason.MFA_ENROLLMENT_REQUIRED else "verify"
            )
            pending_begin(request=request, user=user, stage=stage,
                          password_change_required=change_required, monitored=monitored)
            _record(request=request, tenant=tenant, user=user, login_name=login_name, client=client,
                    outcome=Outcome.CHALLENGE, reason=mfa.reason)
            return SignInResult(status=f"mfa_{stage}", user=user)  # type: ignore[arg-type]

        _complete(request=request, user=user, client=client, mfa_method="",
                  reason=monitored[0] if monitored else Reason.PASSWORD_OK,
                  password_change_required=change_required)
        if mfa.grace_days:
            request.session[MFA_GRACE_SESSION_KEY] = mfa.grace_days
    return SignInResult(status="signed_in", user=user, password_change_required=change_required,
                        monitored=monitored)


def _signin_user(login_name: str) -> User | None:
    """The person, their tenant, whether they have an MFA device and their password state:
    everything the pipeline needs about them, in one query."""
    return (
        User.objects.select_related("tenant", "password_state")
        .annotate(mfa_device=mfa_device_exists())
        .filter(email=login_name).first()
    )


def _account_state_reason(user: User) -> str | None:
    tenant = user.tenant
    if tenant is None:
        return Reason.UNKNOWN_ACCOUNT  # operators sign in at /ops/, not in the console
    if user.status == User.Status.SUSPENDED:
        return Reason.ACCOUNT_SUSPENDED
    if user.status == User.Status.OFFBOARDED:
        return Reason.ACCOUNT_OFFBOARDED
    if user.status == User.Status.INVITED:
        return Reason.ACCOUNT_INVITED
    if not tenant.is_active:
        return Reason.TENANT_SUSPENDED
    return None


def _password_change_required(*, user: User, tenant: Tenant, password: str, now: datetime) -> bool:
    if user.must_change_password:  # the account was secured after a compromise
        return True
    rules = tenant_rules("password", tenant, lambda: password_rules_for(tenant=tenant))
    decision = password_signin_compliance(user=user, password=password, rules=rules, now=now,
                                          state=getattr(user, "password_state", None))
    return decision.verdict == Verdict.CHALLENGE


def _mfa_rules(tenant: Tenant) -> MfaRules:
    return tenant_rules("mfa", tenant, lambda: mfa_rules_for(tenant=tenant))


def _mfa_decision(*, user: User, tenant: Tenant, ctx: SignInContext) -> Decision:
    has_device = getattr(user, "mfa_device", None)
    if has_device is None:
        has_device = mfa_user_has_device(user=user)
    if user.must_change_password and not has_device:
        # Secured after a compromise: the next sign-in proves a second factor, so one is enrolled.
        return Decision.challenge(Reason.MFA_ENROLLMENT_REQUIRED)
    return mfa_requirement(user.role, has_device, ctx.now, _mfa_rules(tenant))


def _complete(*, request: HttpRequest, user: User, client: ClientInfo, mfa_method: str,
              reason: str, password_change_required: bool) -> None:
    """Every step allowed: sign in on a fresh session key, index the session, record success."""
    # Read again here: an account secured while this sign-in waited at the second factor.
    password_change_required = password_change_required or user.must_change_password
    pending_clear(request)
    if SESSION_KEY in request.session:
        # Signing in again over a signed-in session (the same person or another): that session
        # ends here, with its index row, so the new one starts on a fresh key of its own. Django's
        # login() keeps the key when the same person signs in again.
        user_session_forget(session_key=request.session.session_key)
        request.session.flush()
    login(request, user, backend=AUTH_BACKEND)
    _language_keep_choice(request, user)
    if password_change_required:
        # "secured": after a compromise; True: the password no longer meets the policy.
        request.session[PASSWORD_CHANGE_SESSION_KEY] = "secured" if user.must_change_password else True
    if mfa_method:
        mfa_recent_auth_mark(request, user=user)
    # The session's index row, a new device cookie's row and the success's LoginEvent, in one
    # statement (the view sets the cookie: ``device_cookie_apply``).
    session_row = user_session_build(request=request, user=user, client=client,
                                     mfa_method=mfa_method)
    device_row = (device_cookie_signed_in(request=request, user=user, client=client,
                                          rules=_lockout_rules(user.tenant))
                  if user.tenant is not None else None)
    login_event_record(
        tenant=user.tenant, user=user, attempted_login=user.email, client=client,
        outcome=Outcome.SUCCESS, reason=reason, mfa_method=mfa_method,
        session_key=request.session.session_key, together_with=(session_row, device_row),
    )


def _language_keep_choice(request: HttpRequest, user: User) -> None:
    """A person without a language of their own who chose one with the sign-in page's switcher
    keeps it: it becomes theirs, as if they had switched once signed in (their e-mails follow it
    too). A person who has a language keeps theirs; a cookie for a language not offered is ignored."""
    choice = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME, "")
    if user.language or choice not in dict(settings.LANGUAGES):
        return
    language_keep(user=user, language=choice)


def mfa_attempt(*, request: HttpRequest, pending: PendingSignIn, code: str) -> SignInResult:
    """Second factor for a pending sign-in: one row per submission; failures count to lockout."""
    return _second_factor(request=request, pending=pending,
                          verify=lambda user: mfa_verify(user=user, code=code),
                          failure=str(_("That code is not valid. Try the current code.")))


def passkey_attempt(*, request: HttpRequest, pending: PendingSignIn, data: object) -> SignInResult:
    """A passkey's assertion (the browser's JSON) as the second factor: the same lockout, account
    ceiling, failure counting and one ``LoginEvent`` per attempt as a code; ``mfa_method`` passkey."""
    return _second_factor(
        request=request, pending=pending,
        verify=lambda user: "passkey" if passkey_verify(request=request, user=user, data=data) else None,
        failure=str(PASSKEY_NOT_ACCEPTED),
    )


def _second_factor(*, request: HttpRequest, pending: PendingSignIn,
                   verify: Callable[[User], str | None], failure: str) -> SignInResult:
    user = pending.user
    client = client_info(request)
    credentials = {"email": user.email}
    remember_attempt_tenant(request, login_name=user.email, tenant=user.tenant)
    with transaction.atomic():
        if not AxesProxyHandler.is_allowed(request, credentials):
            pending_clear(request)
            _record(request=request, tenant=user.tenant, user=user, login_name=user.email,
                    client=client, outcome=Outcome.FAILURE, reason=Reason.LOCKED_OUT)
            return SignInResult(status="refused", message=str(GENERIC_FAILURE))
        device: DeviceState | None = None
        lockout_rules: LockoutRules | None = None
        if user.tenant is not None:  # wrong codes count toward the account's ceiling too
            lockout_rules = _lockout_rules(user.tenant)
            throttled, device = _throttled(request=request, user=user, rules=lockout_rules)
            if throttled:
                pending_clear(request)
                _failed(request, user.email)
                _record(request=request, tenant=user.tenant, user=user, login_name=user.email,
                        client=client, outcome=Outcome.FAILURE, reason=Reason.ACCOUNT_THROTTLED)
                return SignInResult(status="refused", message=str(GENERIC_FAILURE))
        method = verify(user)
        if method is None:
            if device is not None and lockout_rules is not None:
                device_cookie_failed(state=device, rules=lockout_rules)
            _failed(request, user.email)
            _record(request=request, tenant=user.tenant, user=user, login_name=user.email,
                    client=client, outcome=Outcome.FAILURE, reason=Reason.MFA_FAILED)
            return SignInResult(status="mfa_verify", user=user, message=failure)
        mfa_complete(request=request, pending=pending, method=method, client=client)
    return SignInResult(status="signed_in", user=user,
                        password_change_required=pending.password_change_required)


def mfa_complete(*, request: HttpRequest, pending: PendingSignIn, method: str,
                 client: ClientInfo | None = None) -> None:
    """The second factor is verified (or just enrolled): finish the sign-in."""
    _complete(request=request, user=pending.user, client=client or client_info(request),
              mfa_method=method,
              reason=pending.monitored[0] if pending.monitored else Reason.MFA_VERIFIED,
              password_change_required=pending.password_change_required)


def signout(*, request: HttpRequest, reason: str = Reason.SIGNED_OUT) -> None:
    """End this session and record it."""
    user = request.user
    if user.is_authenticated and user.tenant_id is not None:
        _record(request=request, tenant=user.tenant, user=user, login_name=user.email,
                client=client_info(request), outcome=Outcome.SIGNOUT, reason=reason)
    user_session_forget(session_key=request.session.session_key)
    logout(request)
