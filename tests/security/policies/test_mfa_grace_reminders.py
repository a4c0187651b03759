"""MFA enrolment grace ending: once per person and milestone (3 and 1 days before), in the
person's language, for their company only, never for suspended or offboarded people, nor for
people who already have a second factor."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from accounts.mfa.models import EncryptedTOTPDevice
from accounts.models import User
from notifications.models import OutboxMessage
from security.models import MfaPolicy
from security.policies.mfa.reminders import mfa_grace_reminders_send, mfa_grace_reminders_task

pytestmark = pytest.mark.django_db

STARTED = datetime(2026, 5, 1, 9, 0, tzinfo=UTC)  # a 7-day grace ends on 8 May, 09:00


def _grace(tenant, requirement="required_all"):
    MfaPolicy.objects.create(tenant=tenant, requirement=requirement, grace_days=7,
                             grace_started_at=STARTED)


def _reminded(tenant):
    return sorted(OutboxMessage.objects.filter(tenant=tenant, kind="mfa_grace_ending")
                  .values_list("to", flat=True))


def test_three_days_before_each_person_without_a_device_is_reminded_once(two_tenants):
    a = two_tenants.a
    _grace(a.tenant)
    EncryptedTOTPDevice.objects.create(tenant=a.tenant, user=a.admin, name="Phone", key=b"0" * 20,
                                       confirmed=True)
    everyone_else = sorted(p.email for p in (a.owner, a.auditor, a.helpdesk, a.member))
    with time_machine.travel(datetime(2026, 5, 5, 12, 0, tzinfo=UTC), tick=False):
        assert mfa_grace_reminders_send() == 4
        assert mfa_grace_task_twice() == 0  # the same milestone: no second e-mail
    assert _reminded(a.tenant) == everyone_else
    message = OutboxMessage.objects.get(tenant=a.tenant, to=a.member.email)
    assert "3 days left" in message.subject and "/me/mfa/" in message.body
    # The other company has no grace period: nobody there hears anything.
    assert _reminded(two_tenants.b.tenant) == []
    # A day without a milestone sends nothing; the last one (1 day) sends again, once.
    with time_machine.travel(datetime(2026, 5, 6, 12, 0, tzinfo=UTC), tick=False):
        assert mfa_grace_reminders_send() == 0
    with time_machine.travel(datetime(2026, 5, 7, 12, 0, tzinfo=UTC), tick=False):
        assert mfa_grace_reminders_send() == 4
        assert mfa_grace_reminders_send() == 0
    assert "1 day left" in OutboxMessage.objects.filter(tenant=a.tenant, to=a.member.email) \
        .latest("pk").subject


def mfa_grace_task_twice() -> int:
    return mfa_grace_reminders_task.run() + mfa_grace_reminders_task.run()


def test_suspended_offboarded_and_not_concerned_people_get_none(two_tenants):
    a = two_tenants.a
    _grace(a.tenant, requirement="required_admins")  # members are not concerned
    User.objects.filter(pk=a.auditor.pk).update(status=User.Status.SUSPENDED)
    User.objects.filter(pk=a.helpdesk.pk).update(status=User.Status.OFFBOARDED)
    with time_machine.travel(datetime(2026, 5, 5, 12, 0, tzinfo=UTC), tick=False):
        mfa_grace_reminders_send()
    reminded = _reminded(a.tenant)
    assert a.member.email not in reminded
    assert a.auditor.email not in reminded and a.helpdesk.email not in reminded
    assert {a.owner.email, a.admin.email} <= set(reminded)


def test_the_reminder_is_in_the_persons_language(two_tenants):
    a = two_tenants.a
    _grace(a.tenant)
    User.objects.filter(pk=a.member.pk).update(language="zh-hans")
    with time_machine.travel(datetime(2026, 5, 5, 12, 0, tzinfo=UTC), tick=False):
        mfa_grace_reminders_send()
    chinese = OutboxMessage.objects.get(tenant=a.tenant, to=a.member.email)
    english = OutboxMessage.objects.get(tenant=a.tenant, to=a.owner.email)
    assert chinese.subject != english.subject and "days left" not in chinese.subject
    assert "两步" in chinese.subject  # the glossary's "two-step sign-in"
    assert chinese.language == "zh-hans"


def test_after_the_grace_ended_nothing_is_sent(two_tenants):
    _grace(two_tenants.a.tenant)
    with time_machine.travel(STARTED + timedelta(days=8), tick=False):
        assert mfa_grace_reminders_send() == 0
