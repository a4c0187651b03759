"""What one mail sign-in needs to know, read in one statement (PostgreSQL; the ORM elsewhere).

Design: Dovecot calls ``allow`` before every mail sign-in, so its reads are on the client's path
and, at hundreds of sign-ins a second, most of the endpoint's CPU. The ORM's version of them
was three statements and ~2.5 ms of CPU per call, mostly compiling SQL. ``attempt_facts`` reads,
in one round trip on PostgreSQL, everything ``allow`` decides with:

- the person by address (unique), with their tenant's row: its status and ``policy_version``,
  which validates the per-process policy cache (``security.policies.cache``), so the compiled
  rules (allowlist networks, sign-in hours, mail switches, lockout numbers) cost nothing more;
- the tenant owning the address's mail domain (unique across the platform): the log an unknown
  address belongs to, and whether the person's address is still on their own tenant's domain;
- django-axes' address-and-IP bucket: ``AxesDatabaseHandler.get_failures`` for
  ``AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]`` (the sum of
  ``failures_since_start`` since the cool-off);
- the account's ceiling count: ``security.signin.ceiling.account_failures_count`` (the
  record's ``bad_credentials``/``mfa_failed`` rows of the window, after any lift, up to the
  ceiling; constant time bounds, so only the window's partitions are planned);
- for ``report``, the matched client password's last use, so an unchanged last use within a
  minute is not written again (a client reconnecting all day does not rewrite its row on every
  sign-in, nor do parallel sign-ins of one client wait on its row lock).

The cool-off, window and ceiling depend on the tenant, which the statement finds: the caller
passes the numbers it expects (the last ones seen for the address's domain) and asks again in
the rare case the tenant's turn out different (first sign-in of a domain in this process, a
changed lockout policy). tests/mailauth/test_attempt_facts.py holds both counts to axes' and
ceiling.py's own.

Other databases (the embedded SQLite) get the same facts from the ORM.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from axes.handlers.proxy import AxesProxyHandler
from django.db import connection
from django.http import HttpRequest

from accounts.mailclients.models import MailClientPassword
from accounts.models import User
from activity.models import Outcome
from security.policies.lockout.rules import LockoutRules
from security.signin.ceiling import COUNTED_REASONS, account_failures_count
from tenants.models import MailDomain, Tenant

_TENANT_FIELDS = ("id", "name", "slug", "status", "timezone", "language", "created_at", "policy_version")
_USER_FIELDS = ("id", "email", "tenant_id", "role", "status", "must_change_password", "mail_protocols_off")


def _columns(alias: str, fields: tuple[str, ...]) -> str:
    return ", ".join(f"{alias}.{name}" for name in fields)


# One row whatever matches: the person (unique address) and the domain's tenant (unique domain)
# are LEFT JOINs on a one-row relation. Every value is a parameter; identifiers are constants.
_FROM = """
  FROM (SELECT 1) one
  LEFT JOIN accounts_user u ON u.email = %(login)s
  LEFT JOIN tenants_tenant t ON t.id = u.tenant_id
  LEFT JOIN tenants_maildomain dm ON dm.domain = %(domain)s
  LEFT JOIN tenants_tenant dt ON dt.id = dm.tenant_id
"""
_BUCKET = """
  (SELECT COALESCE(SUM(a.failures_since_start), 0) FROM axes_accessattempt a
    WHERE a.ip_address = %(ip)s AND a.username = %(username)s AND a.attempt_time >= %(bucket_since)s)
"""
_REASON_PARAMS = {f"reason{i}": str(reason) for i, reason in enumerate(COUNTED_REASONS)}
_ACCOUNT_FAILURES = """
  CASE WHEN u.id IS NULL OR u.tenant_id IS NULL THEN 0 ELSE
  (SELECT count(*) FROM (
     SELECT 1 FROM activity_loginevent e
      WHERE e.tenant_id = u.tenant_id AND e.user_id = u.id
        AND e.occurred_at >= %(window_since)s AND e.occurred_at <= %(now)s
        AND e.outcome = %(failure)s AND e.reason IN (REASONS)
        AND e.occurred_at > GREATEST(COALESCE(
              (SELECT l.lifted_at FROM security_ceilinglift l
                WHERE l.tenant_id = u.tenant_id AND l.user_id = u.id LIMIT 1),
              %(window_since)s), %(window_since)s)
      LIMIT %(ceiling)s) counted)
  END
""".replace("REASONS", ", ".join(f"%({name})s" for name in _REASON_PARAMS))  # nosec B608 -- only placeholder names of our own constants are joined in; every value is a parameter
_LAST_USE = """
  LEFT JOIN accounts_mailclientpassword p
         ON p.id = %(mail_client)s AND p.tenant_id = u.tenant_id AND p.user_id = u.id
"""
_PEOPLE = f"{_columns('u', _USER_FIELDS)}, {_columns('t', _TENANT_FIELDS)}, {_columns('dt', _TENANT_FIELDS)}"
ALLOW_SQL = f"SELECT {_PEOPLE}, {_BUCKET}, {_ACCOUNT_FAILURES} {_FROM}"  # nosec B608  # constant identifiers; values are parameters
REPORT_SQL = f"SELECT {_PEOPLE}, p.last_used_at, host(p.last_used_ip) {_FROM} {_LAST_USE}"  # nosec B608  # as above


@dataclass(frozen=True, slots=True)
class AttemptFacts:
    user: User | None  # the account, with ``tenant`` set (no further query)
    tenant: Tenant | None  # whose log the attempt belongs to: the account's, else the domain's
    own_domain: bool  # the address is on a mail domain of the person's own tenant
    address_failures: int = 0  # axes' bucket (allow only)
    account_failures: int = 0  # the ceiling's count (allow only)
    last_used_at: datetime | None = None  # of the matched client password (report only)
    last_used_ip: str | None = None


def _tenant(values: tuple[Any, ...]) -> Tenant | None:
    if values[0] is None:
        return None
    return Tenant.from_db(connection.alias, list(_TENANT_FIELDS), list(values))


def _from_row(row: tuple[Any, ...]) -> tuple[User | None, Tenant | None, bool]:
    n_user, n_tenant = len(_USER_FIELDS), len(_TENANT_FIELDS)
    user_values, own, domain_values = (row[:n_user], row[n_user:n_user + n_tenant],
                                       row[n_user + n_tenant:n_user + 2 * n_tenant])
    own_tenant, domain_tenant = _tenant(own), _tenant(domain_values)
    user = None
    if user_values[0] is not None and own_tenant is not None:
        # Only the fields the decision reads; the rest are deferred (never touched on this path).
        user = User.from_db(connection.alias, list(_USER_FIELDS), list(user_values))
        user.tenant = own_tenant
    own_domain = user is not None and domain_tenant is not None and domain_tenant.pk == user.tenant_id
    return user, (own_tenant if user is not None else domain_tenant), own_domain


def _orm_people(login: str | None, domain: str) -> tuple[User | None, Tenant | None, bool]:
    user = User.objects.select_related("tenant").filter(email=login).first() if login else None
    found = MailDomain.objects.select_related("tenant").filter(domain=domain).first() if domain else None
    if user is not None and user.tenant_id is not None:
        return user, user.tenant, found is not None and found.tenant_id == user.tenant_id
    return None, (found.tenant if found else None), False


def attempt_facts(*, login: str | None, domain: str, ip: str, now: datetime, rules: LockoutRules,
                  axes_request: HttpRequest) -> AttemptFacts:
    """What ``allow`` decides with (see the module's notes); ``login`` None: match no account.
    ``rules``: the lockout numbers to count with, ``axes_request`` the request standing for the
    mail client (the ORM path asks axes through it)."""
    username = login or ""
    if connection.vendor != "postgresql":
        user, tenant, own = _orm_people(login, domain)
        credentials = {"email": username}
        AxesProxyHandler.update_request(axes_request)
        address = int(AxesProxyHandler.get_implementation().get_failures(axes_request, credentials))
        account = account_failures_count(user=user, rules=rules, now=now) if user is not None else 0
        return AttemptFacts(user, tenant, own, address, account)
    params = {"login": login, "domain": domain, "ip": ip, "username": username,
              "bucket_since": now - rules.cooloff, "window_since": now - rules.ceiling_window,
              "now": now, "ceiling": rules.ceiling, "failure": str(Outcome.FAILURE), **_REASON_PARAMS}
    with connection.cursor() as cursor:
        cursor.execute(ALLOW_SQL, params)
        row = cursor.fetchone()
    user, tenant, own = _from_row(row)
    return AttemptFacts(user, tenant, own, int(row[-2]), int(row[-1]))


def report_facts(*, login: str | None, domain: str, mail_client_id: int | None) -> AttemptFacts:
    """What ``report`` records with: the person, the tenant, the matched password's last use."""
    if connection.vendor != "postgresql":
        user, tenant, own = _orm_people(login, domain)
        last = (MailClientPassword.objects.for_tenant(user.tenant).filter(pk=mail_client_id, user=user)
                .values_list("last_used_at", "last_used_ip").first()
                if user is not None and user.tenant is not None and mail_client_id is not None else None)
        return AttemptFacts(user, tenant, own, last_used_at=last[0] if last else None,
                            last_used_ip=last[1] if last else None)
    with connection.cursor() as cursor:
        cursor.execute(REPORT_SQL, {"login": login, "domain": domain, "mail_client": mail_client_id})
        row = cursor.fetchone()
    user, tenant, own = _from_row(row)
    return AttemptFacts(user, tenant, own, last_used_at=row[-2], last_used_ip=row[-1])
