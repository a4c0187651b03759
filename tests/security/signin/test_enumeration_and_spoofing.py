"""No account enumeration, and no header that moves a request past the allowlist, the hours or
the lockout."""

from __future__ import annotations

import itertools
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from accounts.models import User
from activity.models import LoginEvent, Reason
from security.policies.hours.services import hours_policy_update
from security.policies.lockout.services import lockout_policy_update
from security.policies.network.services import network_policy_update
from tests.factories import PASSWORD
from tests.security.signin_support import normalise_page, post_signin

pytestmark = pytest.mark.django_db


def test_unknown_wrong_locked_and_suspended_look_identical(two_tenants, make_client):
    acme = two_tenants.a
    lockout_policy_update(tenant=acme.tenant, actor=acme.owner, failure_limit=3, cooloff_minutes=15)
    for _ in range(3):
        post_signin(make_client(), acme.auditor.email, "wrong")  # the auditor is now locked
    User.objects.filter(pk=acme.helpdesk.pk).update(status=User.Status.SUSPENDED)
    cases = {
        "unknown": ("ghost@acme.example", PASSWORD),
        "wrong": (acme.member.email, "not-it"),
        "locked": (acme.auditor.email, PASSWORD),
        "suspended": (acme.helpdesk.email, PASSWORD),
    }
    pages = {}
    for name, (email, password) in cases.items():
        response = post_signin(make_client(), email, password)
        pages[name] = (response.status_code, normalise_page(response.content.decode()))
    assert len(set(pages.values())) == 1, {k: v[0] for k, v in pages.items()}
    reasons = list(LoginEvent.objects.for_tenant(acme.tenant).order_by("id").values_list("reason", flat=True))[-4:]
    assert reasons == [Reason.UNKNOWN_ACCOUNT, Reason.BAD_CREDENTIALS, Reason.LOCKED_OUT,
                       Reason.ACCOUNT_SUSPENDED]


def _forged_headers() -> list[dict[str, str]]:
    """Header sets a client can send to pretend to come from inside 203.0.113.0/24."""
    inside = ["203.0.113.5", "203.0.113.5:443", "[::ffff:203.0.113.5]", "::ffff:203.0.113.5",
              "203.0.113.5%eth0", " 203.0.113.5 ", "203.0.113.005", "unknown, 203.0.113.5",
              "203.0.113.5, 203.0.113.6", "garbage", "", ",,,", "203.0.113.5," * 50,
              "2001:db8::1", "[2001:db8::1]:8443", "198.51.100.1, 203.0.113.5"]
    names = ["HTTP_X_FORWARDED_FOR", "HTTP_X_REAL_IP", "HTTP_FORWARDED", "HTTP_CLIENT_IP",
             "HTTP_TRUE_CLIENT_IP", "HTTP_X_CLUSTER_CLIENT_IP", "HTTP_CF_CONNECTING_IP",
             "HTTP_X_ORIGINAL_FORWARDED_FOR", "HTTP_X_FORWARDED", "HTTP_X_CLIENT_IP"]
    variants = [{name: value} for name, value in itertools.product(names, inside)]
    variants += [{"HTTP_X_FORWARDED_FOR": v, "HTTP_X_REAL_IP": v} for v in inside]
    variants += [{"HTTP_FORWARDED": f"for={v};proto=https"} for v in inside]
    variants += [{"HTTP_X_FORWARDED_FOR": v, "HTTP_FORWARDED": f"for={v}", "HTTP_X_REAL_IP": v,
                  "HTTP_CLIENT_IP": v} for v in inside]
    return variants


def test_forged_headers_never_pass_the_allowlist(two_tenants, client):
    acme = two_tenants.a
    network_policy_update(tenant=acme.tenant, actor=acme.owner, entries=[("203.0.113.0/24", "HQ")],
                          mode="enforce", scope="everyone", confirm_self_lockout=True, actor_ip="203.0.113.1")
    variants = _forged_headers()
    assert len(variants) >= 200
    for headers in variants:
        response = post_signin(client, acme.member.email, PASSWORD, ip="198.51.100.9", **headers)
        assert "_auth_user_id" not in client.session, headers
        assert response.status_code == 200
    rows = LoginEvent.objects.for_tenant(acme.tenant)
    assert rows.count() == len(variants)
    assert set(rows.values_list("reason", flat=True)) == {Reason.NETWORK_DENIED}
    assert set(rows.values_list("ip", flat=True)) == {"198.51.100.9"}


def test_forged_headers_never_escape_a_lockout(two_tenants, make_client):
    acme = two_tenants.a
    lockout_policy_update(tenant=acme.tenant, actor=acme.owner, failure_limit=3, cooloff_minutes=15)
    for _ in range(3):
        post_signin(make_client(), acme.member.email, "wrong", ip="198.51.100.9")
    for headers in _forged_headers():
        client = make_client()
        post_signin(client, acme.member.email, PASSWORD, ip="198.51.100.9", **headers)
        assert "_auth_user_id" not in client.session, headers


def test_forged_headers_never_move_the_hours(two_tenants, client, time_machine):
    acme = two_tenants.a
    schedule = [{"day": d, "start": "09:00", "end": "18:00"} for d in range(7)]
    hours_policy_update(tenant=acme.tenant, actor=acme.owner, schedule=schedule, mode="enforce",
                        scope="everyone", confirm_self_lockout=True)
    time_machine.move_to(datetime(2026, 11, 30, 3, 0, tzinfo=ZoneInfo("UTC")))  # 03:00 in UTC tenant
    extra = [{"HTTP_DATE": "Mon, 30 Nov 2026 10:00:00 GMT"}, {"HTTP_X_TIMEZONE": "Asia/Tokyo"},
             {"HTTP_ACCEPT_LANGUAGE": "ja-JP"}, {"HTTP_X_FORWARDED_FOR": "203.0.113.5"}]
    for headers in _forged_headers() + extra:
        post_signin(client, acme.member.email, PASSWORD, **headers)
        assert "_auth_user_id" not in client.session, headers
    assert set(LoginEvent.objects.for_tenant(acme.tenant).values_list("reason", flat=True)) == {Reason.HOURS_DENIED}


class CountingHasher(__import__("django.contrib.auth.hashers", fromlist=["x"]).MD5PasswordHasher):
    algorithm = "md5"
    calls = 0

    def encode(self, password, salt):
        type(self).calls += 1
        return super().encode(password, salt)


def test_every_refusal_costs_exactly_one_password_hash(two_tenants, make_client, settings):
    """Timing parity by construction: each refusal does the same expensive work."""
    settings.PASSWORD_HASHERS = [f"{__name__}.CountingHasher"]
    acme = two_tenants.a
    lockout_policy_update(tenant=acme.tenant, actor=acme.owner, failure_limit=3, cooloff_minutes=15)
    for _ in range(3):
        post_signin(make_client(), acme.auditor.email, "wrong")
    User.objects.filter(pk=acme.helpdesk.pk).update(status=User.Status.SUSPENDED)
    for email, password in [("ghost@acme.example", PASSWORD), (acme.member.email, "not-it"),
                            (acme.auditor.email, PASSWORD), (acme.helpdesk.email, PASSWORD)]:
        CountingHasher.calls = 0
        post_signin(make_client(), email, password)
        assert CountingHasher.calls == 1, email
