"""Invitations about to expire: the invited person is e-mailed once, the day before the link stops
working, in their language, for their company only; accepted, revoked and offboarded ones get none."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from accounts.models import User
from notifications.models import OutboxMessage
from people.offboarding.services import invitation_revoke
from people.reminders import invitation_expiry_reminders_send, invitation_expiry_reminders_task
from people.services import person_invite
from tenants.models import Invitation

pytestmark = pytest.mark.django_db

SENT = datetime(2026, 6, 1, 10, 0, tzinfo=UTC)  # 72-hour links: they expire on 4 June, 10:00


def _invite(tenant_set, email, **fields):
    with time_machine.travel(SENT, tick=False):
        issued = person_invite(tenant=tenant_set.tenant, actor=tenant_set.owner, email=email,
                               display_name=email.split("@")[0], role="member")
    if fields:
        User.objects.filter(pk=issued.invitation.user_id).update(**fields)
    return issued.invitation


def _reminders(tenant):
    return sorted(OutboxMessage.objects.filter(tenant=tenant, kind="invitation_expiry")
                  .values_list("to", flat=True))


def test_the_day_before_expiry_each_pending_invitation_is_reminded_once(two_tenants):
    a, b = two_tenants.a, two_tenants.b
    invitation = _invite(a, "nina@acme.example")
    _invite(b, "gus@globex.example")
    with time_machine.travel(SENT + timedelta(days=1), tick=False):
        assert invitation_expiry_reminders_send() == 0  # expires in 3 days: not yet
    with time_machine.travel(SENT + timedelta(days=2, hours=1), tick=False):
        assert invitation_expiry_reminders_task.run() == 2
        assert invitation_expiry_reminders_task.run() == 0  # run twice: still one e-mail each
    assert _reminders(a.tenant) == ["nina@acme.example"]
    assert _reminders(b.tenant) == ["gus@globex.example"]
    message = OutboxMessage.objects.get(tenant=a.tenant, kind="invitation_expiry")
    assert message.user_id == invitation.user_id
    assert "expires soon" in message.subject
    assert "Open the link in your invitation e-mail" in message.body


def test_accepted_revoked_and_offboarded_invitations_get_none(two_tenants):
    a = two_tenants.a
    revoked = _invite(a, "rex@acme.example")
    invitation_revoke(tenant=a.tenant, actor=a.owner, person=revoked.user)
    accepted = _invite(a, "ann@acme.example")
    Invitation.objects.filter(pk=accepted.pk).update(accepted_at=SENT + timedelta(hours=1))
    _invite(a, "olga@acme.example", status=User.Status.OFFBOARDED)
    _invite(a, "sue@acme.example", status=User.Status.SUSPENDED)
    _invite(a, "pat@acme.example")
    with time_machine.travel(SENT + timedelta(days=2, hours=1), tick=False):
        invitation_expiry_reminders_send()
    assert _reminders(a.tenant) == ["pat@acme.example"]


def test_the_reminder_is_in_the_persons_language(two_tenants):
    a = two_tenants.a
    _invite(a, "li@acme.example", language="zh-hans")
    _invite(a, "pat@acme.example")
    with time_machine.travel(SENT + timedelta(days=2, hours=1), tick=False):
        invitation_expiry_reminders_send()
    chinese = OutboxMessage.objects.get(kind="invitation_expiry", to="li@acme.example")
    english = OutboxMessage.objects.get(kind="invitation_expiry", to="pat@acme.example")
    assert "expires soon" in english.subject and "expires soon" not in chinese.subject
    assert "邀请" in chinese.subject and chinese.language == "zh-hans"
