"""``allow``'s one statement counts what axes and the ceiling count, with the tenant's own numbers,
and ``report`` writes a client password's last use only when it changed.

The counts are held to django-axes' own ``get_failures`` and to
``security.signin.ceiling.account_failures_count`` (the ORM queries the web sign-in runs), so the
web and mail clients keep sharing one lockout.
"""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
import time_machine
from axes.handlers.proxy import AxesProxyHandler
from django.utils import timezone

from accounts.mailclients.models import MailClientPassword
from accounts.mailclients.services import mail_client_password_create
from activity.capture import ClientInfo, DeviceType
from activity.models import LoginEvent
from activity.services import login_event_record
from security.mailauth import services
from security.mailauth.attempt import attempt_parse
from security.mailauth.selectors import attempt_facts
from security.policies.lockout.rules import LockoutRules
from security.policies.lockout.services import lockout_policy_update
from security.signin.ceiling import account_ceiling_lift, account_failures_count
from tests.mailauth.conftest import SECRET

pytestmark = pytest.mark.django_db

URL = "/mailauth/policy"


@pytest.fixture(autouse=True)
def _configured(settings):
    settings.MAILADMIN_MAIL_POLICY_SECRET = SECRET
    settings.MAILADMIN_MAIL_POLICY_NETWORKS = ["127.0.0.1/32"]
    settings.ALERTS_DETECT_EAGER = False
    settings.MAILADMIN_MAIL_TARPIT_MAX_SECONDS = 0


def _post(client, command: str, login: str, ip: str, **extra: object):
    body = {"login": login, "remote": ip, "protocol": "imap", "session_id": "s", "device_id": "", **extra}
    response = client.post(f"{URL}?command={command}", data=json.dumps(body), content_type="application/json",
                           REMOTE_ADDR="127.0.0.1", HTTP_X_API_KEY=SECRET)
    assert response.status_code == 200, response.content
    return response.json()


def _fail(client, login: str, ip: str) -> None:
    """One wrong password over IMAP, as Dovecot reports it (axes and the record count it)."""
    assert _post(client, "allow", login, ip)["status"] >= 0
    _post(client, "report", login, ip, success=False, policy_reject=False)


def _client(ip: str) -> ClientInfo:
    return ClientInfo(ip=ip, country="", user_agent="", browser_family="", browser_version="",
                      os_family="", os_version="", device_type=DeviceType.OTHER)


def _orm_counts(login: str, ip: str, user, rules: LockoutRules) -> tuple[int, int]:
    attempt = attempt_parse(command="allow", body=json.dumps({"login": login, "remote": ip, "protocol": "imap"}).encode())
    request = services._axes_request(attempt, user.tenant)
    AxesProxyHandler.update_request(request)
    address = AxesProxyHandler.get_implementation().get_failures(request, {"email": login})
    return int(address), account_failures_count(user=user, rules=rules)


def _facts_counts(login: str, ip: str, rules: LockoutRules) -> tuple[int, int]:
    attempt = attempt_parse(command="allow", body=json.dumps({"login": login, "remote": ip, "protocol": "imap"}).encode())
    facts = attempt_facts(login=login, domain=login.rsplit("@", 1)[1], ip=ip, now=timezone.now(), rules=rules,
                          axes_request=services._axes_request(attempt))
    return facts.address_failures, facts.account_failures


def test_the_statement_counts_what_axes_and_the_ceiling_count(client, two_tenants):
    member, other = two_tenants.a.member, two_tenants.a.admin
    rules = LockoutRules(failure_limit=50, account_ceiling=12)
    assert _facts_counts(member.email, "198.51.100.1", rules) == (0, 0)
    for ip in ("198.51.100.1", "198.51.100.1", "198.51.100.1", "198.51.100.2"):
        _fail(client, member.email, ip)
    _fail(client, other.email, "198.51.100.1")  # another account: neither count
    # Rows the ceiling does not count: too old, another reason.
    login_event_record(tenant=member.tenant, user=member, attempted_login=member.email, client=_client("1.2.3.4"),
                       outcome="failure", reason="bad_credentials", occurred_at=timezone.now() - timedelta(hours=13))
    login_event_record(tenant=member.tenant, user=member, attempted_login=member.email, client=_client("1.2.3.4"),
                       outcome="failure", reason="locked_out")
    for ip in ("198.51.100.1", "198.51.100.2", "198.51.100.3"):
        assert _facts_counts(member.email, ip, rules) == _orm_counts(member.email, ip, member, rules)
    assert _facts_counts(member.email, "198.51.100.1", rules) == (3, 4)
    # Up to the ceiling only, as the ORM's LIMIT (the smallest ceiling is 10).
    for _ in range(8):
        login_event_record(tenant=member.tenant, user=member, attempted_login=member.email,
                           client=_client("1.2.3.4"), outcome="failure", reason="bad_credentials")
    assert _facts_counts(member.email, "198.51.100.1", rules)[1] == 12
    smallest = LockoutRules(account_ceiling=10)
    assert _facts_counts(member.email, "198.51.100.1", smallest)[1] == 10 == \
        _orm_counts(member.email, "198.51.100.1", member, smallest)[1]
    # An unlock's lift: earlier failures no longer count toward the ceiling.
    account_ceiling_lift(user=member)
    assert _facts_counts(member.email, "198.51.100.1", rules)[1] == 0 == \
        _orm_counts(member.email, "198.51.100.1", member, rules)[1]


def test_a_changed_lockout_policy_applies_on_the_next_attempt(client, two_tenants):
    member = two_tenants.a.member
    for _ in range(3):
        _fail(client, member.email, "198.51.100.9")
    assert _post(client, "allow", member.email, "198.51.100.9")["status"] == 0  # 3 of the default 5
    lockout_policy_update(tenant=member.tenant, actor=two_tenants.a.owner, failure_limit=3, cooloff_minutes=15)
    assert _post(client, "allow", member.email, "198.51.100.9")["status"] == -1
    row = LoginEvent.objects.for_tenant(member.tenant).filter(user=member).order_by("-id").first()
    assert (row.outcome, row.reason) == ("failure", "locked_out")
    # A cool-off shorter than the failures' age unlocks them.
    lockout_policy_update(tenant=member.tenant, actor=two_tenants.a.owner, failure_limit=3, cooloff_minutes=1)
    with time_machine.travel(timezone.now() + timedelta(minutes=2)):
        assert _post(client, "allow", member.email, "198.51.100.9")["status"] == 0


def test_a_client_passwords_last_use_is_written_when_it_changed(client, two_tenants):
    member = two_tenants.a.member
    row, _plaintext = mail_client_password_create(user=member, name="Phone")

    def success(ip: str) -> tuple[object, object]:
        _post(client, "report", member.email, ip, success=True, policy_reject=False, mail_client=str(row.pk))
        fresh = MailClientPassword.objects.for_tenant(member.tenant).get(pk=row.pk)
        return fresh.last_used_at, fresh.last_used_ip

    start = timezone.now()
    with time_machine.travel(start, tick=False):
        first = success("198.51.100.1")
        assert first == (start, "198.51.100.1")
    with time_machine.travel(start + timedelta(seconds=30), tick=False):
        assert success("198.51.100.1") == first  # the same client again within the minute
        assert success("198.51.100.2") == (start + timedelta(seconds=30), "198.51.100.2")  # another IP: at once
    with time_machine.travel(start + timedelta(seconds=95), tick=False):
        assert success("198.51.100.2") == (start + timedelta(seconds=95), "198.51.100.2")
    # Every attempt is still one row of the record.
    assert LoginEvent.objects.for_tenant(member.tenant).filter(user=member, outcome="success").count() == 4
