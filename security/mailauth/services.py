"""Mail-client sign-ins under the tenant's policies: Dovecot's ``allow`` and ``report`` commands.

Design: Dovecot asks ``allow`` before it checks the password and ``report`` after, and it checks
the password itself (the SQL passdb over ``mailadmin_mail_passdb``: client-specific passwords,
and the account password where ``security.policies.mail.rules`` allows it). So the order differs
from the web pipeline in one respect: the policies that can refuse (lockout, the account's
ceiling, account state, mail protocols off, network allowlist, sign-in hours) are decided
*before* the password (a client past the soft lockout threshold is tarpitted instead:
security/mailauth/tarpit.py), and a refused client never gets to try one — stronger against IMAP brute
force, and the mail client is told nothing more than "authentication failed" either way.

The counters are the web sign-in's: the per-(address, IP) lockout is django-axes' (asked and fed
with a request standing for the mail client's address), the per-account ceiling counts the
record's ``bad_credentials`` rows, which mail failures write too. Exactly one LoginEvent per
attempt: written at ``allow`` when it refuses (the report of a refused attempt, if any, is not
recorded again), otherwise at ``report`` with the outcome.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from axes.handlers.proxy import AxesProxyHandler
from django.conf import settings
from django.contrib.auth import user_login_failed
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from accounts.mailclients.services import mail_client_password_use
from accounts.models import User, normalize_email
from activity.capture import ClientInfo, DeviceType, ip_country
from activity.models import Outcome, Reason
from activity.services import login_event_record
from security.mailauth.attempt import MailAttempt
from security.mailauth.tarpit import tarpit_seconds
from security.policies.base import Channel, Decision, SignInContext
from security.policies.cache import tenant_rules
from security.policies.hours import rules as hours
from security.policies.hours.selectors import hours_rules_for
from security.policies.lockout.selectors import lockout_rules_for
from security.policies.mail.rules import mail_access
from security.policies.mail.selectors import mail_rules_cached
from security.policies.network import rules as network
from security.policies.network.selectors import network_rules_for
from security.signin.ceiling import account_failures_count
from security.signin.lockout import failure_limit, remember_attempt_tenant
from tenants.models import MailDomain, Tenant

logger = logging.getLogger(__name__)

ALLOW = 0
REFUSE = -1


@dataclass(frozen=True, slots=True)
class PolicyAnswer:
    """Dovecot's reply: ``status`` 0 lets the attempt go on, -1 refuses it; ``msg`` is logged."""

    status: int
    msg: str = ""
    reason: str = ""


def _client(attempt: MailAttempt) -> ClientInfo:
    return ClientInfo(ip=attempt.ip, country=ip_country(attempt.ip), user_agent=attempt.client_id,
                      browser_family=attempt.client_name, browser_version=attempt.client_version,
                      os_family="", os_version="", device_type=DeviceType.OTHER)


def _axes_request(attempt: MailAttempt, tenant: Tenant | None = None) -> HttpRequest:
    """A request standing for the mail client, so axes counts it in the web sign-in's buckets."""
    request = HttpRequest()
    request.method = "POST"
    request.path = request.path_info = f"/mail/{attempt.protocol}"
    request.META = {"REMOTE_ADDR": attempt.ip, "HTTP_USER_AGENT": attempt.client_id[:255]}
    if tenant is not None:  # axes' limit is the tenant's: spare it the mail-domain lookup
        remember_attempt_tenant(request, login_name=normalize_email(attempt.login), tenant=tenant)
    return request


def _address_bucket(request: HttpRequest, credentials: dict[str, str]) -> tuple[bool, int]:
    """(locked, failures) of axes' address-and-IP bucket: its ``is_allowed`` in one query,
    keeping the count the tarpit grows with."""
    AxesProxyHandler.update_request(request)
    handler = AxesProxyHandler.get_implementation()
    if handler.is_blacklisted(request, credentials):
        return True, 0
    if handler.is_whitelisted(request, credentials):
        return False, 0
    failures = int(handler.get_failures(request, credentials))
    return failures >= failure_limit(request, credentials), failures


def _person_and_tenant(attempt: MailAttempt) -> tuple[User | None, Tenant | None]:
    """The account (only for a clean login) and the tenant whose log the attempt belongs to."""
    login = normalize_email(attempt.login)
    if attempt.login_is_clean:
        user = User.objects.select_related("tenant").filter(email=login).first()
        if user is not None and user.tenant_id is not None:
            return user, user.tenant
    # An unknown address, or one with invalid or control characters in its local part, is
    # recorded under the tenant owning its mail domain (escaped), and never matches an account.
    domain = login.rsplit("@", 1)[-1] if "@" in login else ""
    found = MailDomain.objects.select_related("tenant").filter(domain=domain).first() if domain else None
    return None, (found.tenant if found else None)


def _account_state_reason(user: User) -> str | None:
    if user.status == User.Status.SUSPENDED:
        return Reason.ACCOUNT_SUSPENDED
    if user.status == User.Status.OFFBOARDED:
        return Reason.ACCOUNT_OFFBOARDED
    if user.status == User.Status.INVITED:
        return Reason.ACCOUNT_INVITED
    if user.tenant is None or not user.tenant.is_active:
        return Reason.TENANT_SUSPENDED
    if user.must_change_password:  # secured after a compromise: the web asks for a new password
        return Reason.ACCOUNT_SECURED
    return None


def _policy_decisions(user: User, tenant: Tenant, ip: str) -> list[Decision]:
    # Over the mail channel: a policy kept to the web console lets mail clients through.
    ctx = SignInContext(ip=ip, now=timezone.now(), role=user.role, user_id=user.pk, channel=Channel.MAIL)
    return [
        network.evaluate(ctx, tenant_rules("network", tenant, lambda: network_rules_for(tenant=tenant))),
        hours.evaluate(ctx, tenant_rules("hours", tenant, lambda: hours_rules_for(tenant=tenant))),
    ]


def _refusal(attempt: MailAttempt, user: User | None, tenant: Tenant | None) -> tuple[str | None, int]:
    """The reason to refuse before the password, or None (monitor verdicts are not refusals), and
    the tarpit's delay in seconds for an attempt let through (security/mailauth/tarpit.py)."""
    credentials = {"email": normalize_email(attempt.login)}
    locked, address_failures = _address_bucket(_axes_request(attempt, tenant), credentials)
    if locked:
        return Reason.LOCKED_OUT, 0
    if user is None or tenant is None:
        return None, 0  # an unknown account fails at the passdb and is recorded by the report
    rules = tenant_rules("lockout", tenant, lambda: lockout_rules_for(tenant=tenant))
    account_failures = account_failures_count(user=user, rules=rules)
    if account_failures >= rules.ceiling:
        return Reason.ACCOUNT_THROTTLED, 0  # mail clients have no device cookie to vouch for them
    state = _account_state_reason(user)
    if state is not None:
        return state, 0
    if not mail_access(role=user.role, person_off=user.mail_protocols_off,
                       rules=mail_rules_cached(tenant=tenant)).allowed:
        return Reason.MAIL_PROTOCOLS_OFF, 0  # an admin's switch, per role or per person
    for decision in _policy_decisions(user, tenant, attempt.ip):
        if not decision.allowed:
            return str(decision.reason), 0
    return None, tarpit_seconds(address_failures=address_failures, address_limit=rules.limit,
                                account_failures=account_failures, account_ceiling=rules.ceiling,
                                cap=settings.MAILADMIN_MAIL_TARPIT_MAX_SECONDS)


def _record(attempt: MailAttempt, *, user: User | None, tenant: Tenant, outcome: str, reason: str) -> None:
    login_event_record(tenant=tenant, user=user, attempted_login=attempt.login, client=_client(attempt),
                       outcome=outcome, reason=reason, protocol=attempt.protocol)


def mail_policy_allow(*, attempt: MailAttempt) -> PolicyAnswer:
    """Dovecot's ``allow``: refuse (and record) or let the password be checked (record nothing yet)."""
    user, tenant = _person_and_tenant(attempt)
    if tenant is None:
        # An address on no tenant's domain (or not a clean one) belongs to nobody's log, as on the
        # web; no account can match it in the passdb either.
        return PolicyAnswer(REFUSE, "unknown account", Reason.UNKNOWN_ACCOUNT)
    if not attempt.login_is_clean:
        _record(attempt, user=None, tenant=tenant, outcome=Outcome.FAILURE, reason=Reason.UNKNOWN_ACCOUNT)
        return PolicyAnswer(REFUSE, "unknown account", Reason.UNKNOWN_ACCOUNT)
    reason, delay = _refusal(attempt, user, tenant)  # reads only: no transaction
    if reason is None:
        # A positive status is Dovecot's tarpit: it waits, then checks the password and reports.
        return PolicyAnswer(delay, "tarpit" if delay else "")
    with transaction.atomic():
        _record(attempt, user=user, tenant=tenant, outcome=Outcome.DENIED if reason in (
            Reason.NETWORK_DENIED, Reason.HOURS_DENIED, Reason.MAIL_PROTOCOLS_OFF) else Outcome.FAILURE,
            reason=reason)
    return PolicyAnswer(REFUSE, "refused by policy", reason)


def mail_policy_report(*, attempt: MailAttempt) -> PolicyAnswer:
    """Dovecot's ``report``: record the attempt's outcome once, count a failure, note the client's use."""
    if attempt.policy_reject:
        return PolicyAnswer(ALLOW)  # recorded when ``allow`` refused it
    user, tenant = _person_and_tenant(attempt)
    if tenant is None:
        if not attempt.login_is_clean and attempt.login:
            logger.warning("mail sign-in with an unusable login from %s", attempt.ip)
        return PolicyAnswer(ALLOW)
    with transaction.atomic():
        if not attempt.success:
            user_login_failed.send(sender=__name__, credentials={"email": normalize_email(attempt.login)},
                                   request=_axes_request(attempt, tenant))
            _record(attempt, user=user, tenant=tenant, outcome=Outcome.FAILURE,
                    reason=Reason.BAD_CREDENTIALS if user is not None else Reason.UNKNOWN_ACCOUNT)
            return PolicyAnswer(ALLOW)
        reason = ""
        if user is not None:
            monitored = [d.reason for d in _policy_decisions(user, tenant, attempt.ip) if d.monitored]
            reason = str(monitored[0]) if monitored else ""
            if attempt.mail_client_id is not None:
                mail_client_password_use(user=user, password_id=attempt.mail_client_id, ip=attempt.ip)
        _record(attempt, user=user, tenant=tenant, outcome=Outcome.SUCCESS, reason=reason)
    return PolicyAnswer(ALLOW)
