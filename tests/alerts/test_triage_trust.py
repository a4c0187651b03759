"""Trust given while triaging stops the detector firing for it, and revoking it starts again."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from activity.models import Outcome, Reason
from activity.services import login_event_record
from alerts.detect import tenant_detect
from alerts.models import Alert
from alerts.services import TrustRequest, alert_mark_false_positive, trust_revoke
from tests.alerts.triage_support import GERMANY, quiet_detector  # noqa: F401

pytestmark = pytest.mark.django_db
RULE = "blocked_by_policy"


def _blocked(user, at):
    # The right password from outside the network allowlist: someone else knows it.
    return login_event_record(tenant=user.tenant, user=user, attempted_login=user.email,
                              client=GERMANY, outcome=Outcome.DENIED,
                              reason=Reason.NETWORK_DENIED, occurred_at=at)


def _alerts(user):
    return Alert.objects.for_tenant(user.tenant).filter(rule=RULE, user=user)


def test_a_trusted_network_raises_no_alert_until_revoked(two_tenants):
    a = two_tenants.a
    now = timezone.now()
    _blocked(a.member, now - dt.timedelta(minutes=30))
    tenant_detect(tenant=a.tenant)
    first = _alerts(a.member).get()
    alert_mark_false_positive(alert=first, actor=a.admin, note="Their home line",
                              trusts=[TrustRequest(kind="network", value="203.0.113.0/24")])
    _blocked(a.member, now - dt.timedelta(minutes=20))
    _blocked(a.admin, now - dt.timedelta(minutes=20))  # not trusted for them: still an alert
    tenant_detect(tenant=a.tenant)
    assert list(_alerts(a.member).values_list("pk", flat=True)) == [first.pk]
    assert _alerts(a.admin).count() == 1
    trust_revoke(trust=a.member.alert_trusts.get(), actor=a.owner)
    _blocked(a.member, now - dt.timedelta(minutes=10))
    tenant_detect(tenant=a.tenant)
    assert _alerts(a.member).count() == 2
    assert _alerts(a.member).exclude(pk=first.pk).get().status == "open"
