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

Cost: ``allow`` is one statement (``security.mailauth.selectors.attempt_facts``: the person, the
tenant's policy version, axes' bucket and the ceiling's count together) and the rules come from
the per-process policy cache; ``report`` of a success is one statement for the person, the
record's INSERT, and the client password's last use only when it changed (a new IP, or a minute
later). Refusals and failures keep their transaction: a failure's axes count and its row commit
together.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

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
from security.mailauth.selectors import AttemptFacts, attempt_facts, report_facts
from security.mailauth.tarpit import tarpit_seconds
from security.policies.base import Channel, Decision, SignInContext
from security.policies.cache import tenant_rules
from security.policies.hours import rules as hours
from security.policies.hours.selectors import hours_rules_for
from security.policies.lockout.rules import DEFAULT_RULES, LockoutRules
from security.policies.lockout.selectors import lockout_rules_for
from security.policies.mail.rules import mail_access
from security.policies.mail.selectors import mail_rules_cached
from security.policies.network import rules as network
from security.policies.network.selectors import network_rules_for
from security.signin.lockout import remember_attempt_tenant
from tenants.models import Tenant

logger = logging.getLogger(__name__)

ALLOW = 0
REFUSE = -1
# A client password's last use is written again only when its IP changed or this much later.
LAST_USE_RESOLUTION = timedelta(minutes=1)
# The lockout numbers last seen per mail domain: what ``attempt_facts`` counts with before it
# knows the tenant (checked against the tenant's own rules right after; see selectors).
_domain_rules: dict[str, LockoutRules] = {}
_DOMAIN_RULES_MAX = 10_000


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


def _domain(login: str) -> str:
    return login.rsplit("@", 1)[-1] if "@" in login else ""


def _lockout_rules(tenant: Tenant | None) -> LockoutRules:
    if tenant is None:
        return DEFAULT_RULES  # as axes' rules for an address on no tenant's domain
    return tenant_rules("lockout", tenant, lambda: lockout_rules_for(tenant=tenant))


def _allow_facts(attempt: MailAttempt, now: datetime, axes_request: HttpRequest
                 ) -> tuple[AttemptFacts, LockoutRules]:
    """The attempt's facts counted with its tenant's lockout numbers (one statement, rarely two)."""
    login = normalize_email(attempt.login)
    domain = _domain(login)
    expected = _domain_rules.get(domain, DEFAULT_RULES)
    while True:
        facts = attempt_facts(login=login if attempt.login_is_clean else None, domain=domain, ip=attempt.ip,
                              now=now, rules=expected, axes_request=axes_request)
        rules = _lockout_rules(facts.tenant)
        if rules == expected:
            return facts, rules
        if len(_domain_rules) >= _DOMAIN_RULES_MAX:
            _domain_rules.clear()
        _domain_rules[domain] = expected = rules


def _address_locked(attempt: MailAttempt, request: HttpRequest, failures: int, rules: LockoutRules) -> bool:
    """axes' ``is_allowed`` for the address-and-IP bucket, its count read with the facts."""
    if not settings.AXES_ENABLED:
        return False
    credentials = {"email": normalize_email(attempt.login)}
    AxesProxyHandler.update_request(request)
    handler = AxesProxyHandler.get_implementation()
    if handler.is_blacklisted(request, credentials):
        return True
    if handler.is_whitelisted(request, credentials):
        return False
    return failures >= rules.limit


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


def _policy_decisions(user: User, tenant: Tenant, ip: str, now: datetime | None = None) -> list[Decision]:
    # Over the mail channel: a policy kept to the web console lets mail clients through.
    ctx = SignInContext(ip=ip, now=now or timezone.now(), role=user.role, user_id=user.pk,
                        channel=Channel.MAIL)
    return [
        network.evaluate(ctx, tenant_rules("network", tenant, lambda: network_rules_for(tenant=tenant))),
        hours.evaluate(ctx, tenant_rules("hours", tenant, lambda: hours_rules_for(tenant=tenant))),
    ]


def _refusal(attempt: MailAttempt, facts: AttemptFacts, rules: LockoutRules, now: datetime,
             axes_request: HttpRequest) -> tuple[str | None, int]:
    """The reason to refuse before the password, or None (monitor verdicts are not refusals), and
    the tarpit's delay in seconds for an attempt let through (security/mailauth/tarpit.py)."""
    user, tenant = facts.user, facts.tenant
    if _address_locked(attempt, axes_request, facts.address_failures, rules):
        return Reason.LOCKED_OUT, 0
    if user is None or tenant is None:
        return None, 0  # an unknown account fails at the passdb and is recorded by the report
    if facts.account_failures >= rules.ceiling:
        return Reason.ACCOUNT_THROTTLED, 0  # mail clients have no device cookie to vouch for them
    state = _account_state_reason(user)
    if state is not None:
        return state, 0
    if not facts.own_domain:
        # The address's mail domain was moved to another tenant (or removed): the mail server
        # that serves it now knows no such account, and the passdb has no row for it.
        return Reason.UNKNOWN_ACCOUNT, 0
    if not mail_access(role=user.role, person_off=user.mail_protocols_off,
                       rules=mail_rules_cached(tenant=tenant)).allowed:
        return Reason.MAIL_PROTOCOLS_OFF, 0  # an admin's switch, per role or per person
    for decision in _policy_decisions(user, tenant, attempt.ip, now):
        if not decision.allowed:
            return str(decision.reason), 0
    return None, tarpit_seconds(address_failures=facts.address_failures, address_limit=rules.limit,
                                account_failures=facts.account_failures, account_ceiling=rules.ceiling,
                                cap=settings.MAILADMIN_MAIL_TARPIT_MAX_SECONDS)


def _record(attempt: MailAttempt, *, user: User | None, tenant: Tenant, outcome: str, reason: str) -> None:
    login_event_record(tenant=tenant, user=user, attempted_login=attempt.login, client=_client(attempt),
                       outcome=outcome, reason=reason, protocol=attempt.protocol)


def mail_policy_allow(*, attempt: MailAttempt) -> PolicyAnswer:
    """Dovecot's ``allow``: refuse (and record) or let the password be checked (record nothing yet)."""
    now = timezone.now()
    axes_request = _axes_request(attempt)
    facts, rules = _allow_facts(attempt, now, axes_request)
    tenant = facts.tenant
    if tenant is None:
        # An address on no tenant's domain (or not a clean one) belongs to nobody's log, as on the
        # web; no account can match it in the passdb either.
        return PolicyAnswer(REFUSE, "unknown account", Reason.UNKNOWN_ACCOUNT)
    if not attempt.login_is_clean:
        _record(attempt, user=None, tenant=tenant, outcome=Outcome.FAILURE, reason=Reason.UNKNOWN_ACCOUNT)
        return PolicyAnswer(REFUSE, "unknown account", Reason.UNKNOWN_ACCOUNT)
    # axes' limit is the tenant's: spare it the mail-domain lookup
    remember_attempt_tenant(axes_request, login_name=normalize_email(attempt.login), tenant=tenant)
    reason, delay = _refusal(attempt, facts, rules, now, axes_request)  # reads only: no transaction
    if reason is None:
        # A positive status is Dovecot's tarpit: it waits, then checks the password and reports.
        return PolicyAnswer(delay, "tarpit" if delay else "")
    with transaction.atomic():
        _record(attempt, user=facts.user, tenant=tenant, outcome=Outcome.DENIED if reason in (
            Reason.NETWORK_DENIED, Reason.HOURS_DENIED, Reason.MAIL_PROTOCOLS_OFF) else Outcome.FAILURE,
            reason=reason)
    return PolicyAnswer(REFUSE, "refused by policy", reason)


def _last_use_changed(facts: AttemptFacts, ip: str, now: datetime) -> bool:
    return (facts.last_used_at is None or facts.last_used_ip != ip
            or now - facts.last_used_at >= LAST_USE_RESOLUTION)


def mail_policy_report(*, attempt: MailAttempt) -> PolicyAnswer:
    """Dovecot's ``report``: record the attempt's outcome once, count a failure, note the client's use."""
    if attempt.policy_reject:
        return PolicyAnswer(ALLOW)  # recorded when ``allow`` refused it
    login = normalize_email(attempt.login)
    facts = report_facts(login=login if attempt.login_is_clean else None, domain=_domain(login),
                         mail_client_id=attempt.mail_client_id if attempt.success else None)
    user, tenant = facts.user, facts.tenant
    if tenant is None:
        if not attempt.login_is_clean and attempt.login:
            logger.warning("mail sign-in with an unusable login from %s", attempt.ip)
        return PolicyAnswer(ALLOW)
    if not attempt.success:
        with transaction.atomic():  # axes' count and the row commit together
            user_login_failed.send(sender=__name__, credentials={"email": login},
                                   request=_axes_request(attempt, tenant))
            _record(attempt, user=user, tenant=tenant, outcome=Outcome.FAILURE,
                    reason=Reason.BAD_CREDENTIALS if user is not None else Reason.UNKNOWN_ACCOUNT)
        return PolicyAnswer(ALLOW)
    reason = ""
    if user is not None:
        now = timezone.now()
        monitored = [d.reason for d in _policy_decisions(user, tenant, attempt.ip, now) if d.monitored]
        reason = str(monitored[0]) if monitored else ""
        if attempt.mail_client_id is not None and _last_use_changed(facts, attempt.ip, now):
            mail_client_password_use(user=user, password_id=attempt.mail_client_id, ip=attempt.ip, at=now)
    # One statement, its own transaction: the last use above is a convenience, not the record.
    _record(attempt, user=user, tenant=tenant, outcome=Outcome.SUCCESS, reason=reason)
    return PolicyAnswer(ALLOW)
