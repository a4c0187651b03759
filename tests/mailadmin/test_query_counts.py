"""List pages cost a fixed number of queries, whatever the number of rows they show.

Each page is measured twice, once with 3 rows of everything it lists (people, invitations,
devices, sessions, sign-ins, locked accounts, allowlist entries, password states) and once with 30.
The two counts must be equal, so an N+1 (a query per row) fails here; the 30-row request must also
stay within a bound measured when this test was written, plus a small margin, so a page that
quietly gains queries fails too. The log pages have their own test (tests/activity).
"""

from __future__ import annotations

import secrets
from datetime import timedelta
from itertools import count

import pytest
from axes.models import AccessAttempt
from django.apps import apps
from django.db import connection
from django.db.models import F
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.mfa.models import BackupCode, BackupCodeDevice, EncryptedTOTPDevice
from accounts.mfa.services import MAX_TOTP_DEVICES
from accounts.models import User
from activity.models import LoginEvent, Outcome, Reason
from tenants.models import Invitation, Tenant
from tenants.roles import Role
from tests.factories import PASSWORD, UserFactory
from tests.security.signin_support import post_signin

pytestmark = pytest.mark.django_db

SMALL, LARGE = 3, 30
MARGIN = 2

# Queries of the 30-row request, measured on PostgreSQL when this test was written. Lower a bound
# when a page gets cheaper; raising one needs a reason in the commit.
BOUNDS = {
    "/people/": 15,  # people.directory: the page and its count, then for the page's people only
    # their two-step methods (devices, backup codes, passkeys), last sign-in, lockout (axes and the
    # account ceiling), open alerts and password expiry
    "/dashboard/": 22,  # the security overview: pending invitations (a count), sign-ins per hour, failure reasons, countries and protocols
    # (one grouped count each), open alerts by severity, locked accounts (four), people and roles,
    # two-step coverage and the first ten without it (and their count), password compliance and
    # expiry (policy, states), recent audit entries and the people they name (one query)
    "/me/mfa/": 6,
    "/me/sessions/": 5,
    "/policies/password/": 7,
    "/policies/mfa/": 5,
    "/policies/network/": 6,
    "/policies/hours/": 5,
    "/policies/lockout/": 5,
    "/policies/sessions/": 5,
    "/policies/password/compliance/": 8,
    "/people/locked/": 8,
    "PERSON": 12,  # +1: the person's open sessions with their country (offboarding's page)  # /people/<pk>/ of a person with devices, sessions, sign-ins and a lockout
}

# What each page lists, as text that appears once per row: its count must grow with the rows,
# or the page is not showing what it is measured for. None: the page shows settings, not rows.
SHOWS = {
    "/people/": "grown",
    "/dashboard/": None,  # counts, and at most ten names of people without two-step sign-in
    "/me/mfa/": "Phone",
    "/me/sessions/": "Firefox 128",
    "/policies/password/": None,
    "/policies/mfa/": None,
    "/policies/network/": "/24",
    "/policies/hours/": None,
    "/policies/lockout/": None,
    "/policies/sessions/": None,
    "/policies/password/compliance/": "grown",
    "/people/locked/": "grown",
    "PERSON": None,
}

_serial = count()


def _model(label: str):
    return apps.get_model(label)


def grow(tenant: Tenant, viewer: User, n: int) -> User:
    """``n`` more of every kind of row the console lists, in ``tenant``; returns one of the new
    people, who has a device, sessions, sign-ins, a pending invitation and a lockout."""
    now = timezone.now()
    domain = viewer.email.split("@")[1]
    people = [UserFactory(tenant=tenant, email=f"grown{next(_serial)}@{domain}",
                          role=[Role.MEMBER, Role.HELPDESK, Role.AUDITOR][i % 3],
                          status=[User.Status.ACTIVE, User.Status.INVITED,
                                  User.Status.SUSPENDED][i % 3])
              for i in range(n)]
    for person in people:
        Invitation.objects.create(tenant=tenant, user=person, token_hash=secrets.token_hex(32),
                                  expires_at=now + timedelta(days=2))
        EncryptedTOTPDevice.objects.create(tenant=tenant, user=person, name="Phone",
                                           confirmed=True, key=secrets.token_hex(20))
        LoginEvent.objects.create(tenant=tenant, user=person, attempted_login=person.email,
                                  ip="198.51.100.7", outcome=Outcome.SUCCESS,
                                  reason=Reason.PASSWORD_OK, occurred_at=now - timedelta(hours=1))
        # Locked now: more failures than any lockout limit, just now.
        AccessAttempt.objects.create(username=person.email, ip_address="203.0.113.9",
                                     user_agent="test", http_accept="*/*", path_info="/signin/",
                                     get_data="", post_data="", failures_since_start=60,
                                     attempt_time=now)
        # Neither compliant nor far from expiry: on both lists of the compliance page.
        _model("security.PasswordState").objects.create(
            tenant=tenant, user=person, changed_at=now - timedelta(days=85), compliant=False)
    for person in (viewer, people[0]):
        for _ in range(n):
            _model("security.UserSession").objects.create(
                tenant=tenant, user=person, session_key=secrets.token_hex(16), ip="198.51.100.8",
                browser="Firefox 128", os="Linux", device_type="desktop")
    policy, _ = _model("security.NetworkPolicy").objects.get_or_create(tenant=tenant)
    for _ in range(n):
        _model("security.NetworkAllowEntry").objects.create(
            tenant=tenant, policy=policy, cidr=f"10.{next(_serial) % 250}.{n}.0/24", label="office")
    # The viewer's own devices and backup codes, up to what one person may have.
    have = EncryptedTOTPDevice.objects.filter(user=viewer).count()
    for _ in range(min(n, MAX_TOTP_DEVICES) - have):
        EncryptedTOTPDevice.objects.create(tenant=tenant, user=viewer, name="Phone",
                                           confirmed=True, key=secrets.token_hex(20))
    codes, _ = BackupCodeDevice.objects.get_or_create(tenant=tenant, user=viewer,
                                                      defaults={"name": "Backup codes"})
    BackupCode.objects.bulk_create(BackupCode(tenant=tenant, device=codes,
                                              code_hash=secrets.token_hex(16))
                                   for _ in range(min(n, 10)))
    # Expiry on, so the compliance page lists the expiring passwords too.
    _model("security.PasswordPolicy").objects.update_or_create(tenant=tenant,
                                                               defaults={"expiry_days": 90})
    # A direct write is not a policy save: tell the rules cache, as every save does.
    Tenant.objects.filter(pk=tenant.pk).update(policy_version=F("policy_version") + 1)
    return people[0]


def _warm(client, url: str) -> None:
    """One request first, so neither measure pays for a cold cache (content types, rules)."""
    assert client.get(url).status_code == 200


def _queries(client, url: str) -> tuple[int, str]:
    _warm(client, url)
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(captured.captured_queries), response.content.decode()


@pytest.mark.parametrize("url", list(BOUNDS))
def test_list_page_queries_do_not_grow_with_its_rows(url, two_tenants, make_client,
                                                     django_assert_max_num_queries):
    a, b = two_tenants.a, two_tenants.b
    client = make_client()
    assert post_signin(client, a.owner.email, PASSWORD).status_code == 302
    grow(b.tenant, b.owner, LARGE)  # the other tenant is busy too, and stays invisible
    person = grow(a.tenant, a.owner, SMALL)
    target = f"/people/{person.pk}/" if url == "PERSON" else url
    small, small_body = _queries(client, target)
    grow(a.tenant, a.owner, LARGE - SMALL)
    _warm(client, target)
    with django_assert_max_num_queries(BOUNDS[url] + MARGIN) as captured:
        response = client.get(target)
    assert response.status_code == 200
    large = len(captured.captured_queries)
    assert large == small, (f"{url}: {small} queries with {SMALL} rows, {large} with {LARGE}:\n"
                            + "\n".join(q["sql"][:200] for q in captured.captured_queries))
    body = response.content.decode()
    assert "globex" not in body.lower()
    if SHOWS[url] is not None:
        assert body.count(SHOWS[url]) > small_body.count(SHOWS[url]) >= SMALL, url
