"""Where an employee lands (My profile): their account at a glance — the sign-in before this
one, failures since, where they are signed in, two-step status — and what they should act on."""

from __future__ import annotations

import re
import zoneinfo
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from accounts.mfa.models import BackupCode
from activity.models import LoginEvent
from security.policies.mfa.models import MfaPolicy
from security.policies.password.models import PasswordPolicy, PasswordState
from tests.accounts.test_mfa_support import enroll
from tests.factories import PASSWORD
from tests.security.signin_support import SAFARI_IPHONE, post_signin

pytestmark = pytest.mark.django_db

PHONE_IP = "81.2.69.160"  # United Kingdom


def _glance(client: Client) -> str:
    response = client.get("/me/")
    assert response.status_code == 200
    match = re.search(r'<section[^>]*data-testid="glance".*?</section>', response.content.decode(), re.S)
    assert match, "no glance section"
    return match.group(0)


def _signed_in(person, **kwargs) -> Client:
    client = Client()
    assert post_signin(client, person.email, PASSWORD, **kwargs).status_code == 302
    return client


def test_the_first_sign_in_has_nothing_before_it_and_nothing_to_do(two_tenants):
    glance = _glance(_signed_in(two_tenants.a.member))
    assert "This is your first sign-in." in glance
    assert 'data-testid="glance-nothing"' in glance and "Nothing needs your attention." in glance
    assert re.search(r'data-testid="glance-sessions">1 browser or device', glance)
    assert re.search(r'data-testid="glance-mfa">Off', glance)


def test_the_sign_in_before_this_one_and_the_failures_since(two_tenants):
    member = two_tenants.a.member
    _signed_in(member, ip=PHONE_IP, ua=SAFARI_IPHONE)  # yesterday's phone sign-in, say
    for _ in range(2):
        post_signin(Client(), member.email, "not-the-password")
    laptop = _signed_in(member)
    glance = _glance(laptop)
    last = re.search(r'data-testid="glance-last">(.*?)</dd>', glance, re.S).group(1)
    assert "Safari" in last and "iOS" in last and PHONE_IP in last
    assert "2 failed sign-in attempts on your account since your last sign-in." in glance
    assert 'href="/me/security/#signins"' in glance
    assert re.search(r'data-testid="glance-sessions">2 browsers or devices', glance)
    # Another company's person sees none of it.
    other = _glance(_signed_in(two_tenants.b.member))
    assert PHONE_IP not in other and "failed sign-in" not in other


def test_what_to_act_on_two_step_password_and_backup_codes(two_tenants):
    member = two_tenants.a.member
    MfaPolicy.objects.create(tenant=member.tenant, requirement="required_all", grace_days=7,
                             grace_started_at=timezone.now() - timedelta(hours=1))
    PasswordPolicy.objects.create(tenant=member.tenant, expiry_days=90)
    client = _signed_in(member)
    PasswordState.objects.update_or_create(
        user=member, defaults={"tenant": member.tenant, "changed_at": timezone.now() - timedelta(days=85)})
    glance = _glance(client)
    assert "Your company requires two-step sign-in: set it up within 7 days." in glance
    expires = (timezone.now() + timedelta(days=5)).astimezone(
        zoneinfo.ZoneInfo(member.effective_timezone)).date().isoformat()
    assert f"Your password expires on {expires}." in glance
    assert re.search(r'data-testid="glance-mfa">Required, not set up yet', glance)

    # Enrolled, two backup codes left, a password changed today: only the codes remain to do.
    enroll(member)
    codes = BackupCode.objects.filter(device__user=member)
    BackupCode.objects.filter(pk__in=list(codes.values_list("pk", flat=True)[2:])).delete()
    PasswordState.objects.filter(user=member).update(changed_at=timezone.now())
    glance = _glance(client)
    assert 'data-testid="todo-mfa"' not in glance and 'data-testid="todo-password"' not in glance
    assert "Only 2 unused backup codes left." in glance
    assert re.search(r'data-testid="glance-mfa">On', glance)


def test_the_glance_in_chinese(two_tenants):
    member = two_tenants.a.member
    type(member).objects.filter(pk=member.pk).update(language="zh-hans")
    glance = _glance(_signed_in(member))
    assert "您的账户概况" in glance and "没有需要您处理的事项。" in glance
    assert "Nothing needs your attention." not in glance
    assert LoginEvent.objects.for_tenant(member.tenant).filter(user=member).count() == 1
