"""The password policy with the database: validators per person, services, selectors, reminders."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.contrib.auth.hashers import make_password
from django.contrib.auth.password_validation import (
    password_validators_help_texts,
    validate_password,
)
from django.core import mail
from django.core.exceptions import ValidationError

from activity.models import Reason
from security.models import PasswordExpiryReminder, PasswordHistory, PasswordPolicy, PasswordState
from security.policies.password import reminders, selectors, services
from security.policies.password.rules import (
    NonCompliance,
    PasswordProfile,
)
from security.policies.password.validators import password_validators_for
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


def test_validators_for_a_person_use_their_tenants_policy(two_tenants):
    a, b = two_tenants.a, two_tenants.b
    services.password_policy_update(tenant=a.tenant, actor=a.admin, profile=PasswordProfile.CLASSIC,
                                   on_noncompliant=NonCompliance.CHANGE_NOW)
    # Classic's 8 characters are really accepted (the platform's 12 does not overrule them)...
    validate_password("Qz7#kLm2", a.member, password_validators=password_validators_for(a.member))
    with pytest.raises(ValidationError):
        validate_password("qz7#klm2", a.member, password_validators=password_validators_for(a.member))
    # ...and the other tenant still has the Recommended profile.
    with pytest.raises(ValidationError) as exc:
        validate_password("Qz7#kLm2", b.member, password_validators=password_validators_for(b.member))
    assert "at least 12" in " ".join(exc.value.messages)
    texts = password_validators_help_texts(password_validators_for(a.member))
    assert any("upper-case" in t for t in texts)


def test_tenant_name_and_domains_are_context_words(two_tenants):
    member = two_tenants.a.member
    with pytest.raises(ValidationError) as exc:
        validate_password("welcome to acme 2026!", member, password_validators=password_validators_for(member))
    assert "acme" in " ".join(exc.value.messages)
    # Globex's words are not Acme's problem.
    validate_password("welcome to globex 2026!", member, password_validators=password_validators_for(member))


def test_history_refuses_the_last_n_passwords(two_tenants, settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher",
                                 "django.contrib.auth.hashers.Argon2PasswordHasher"]
    a = two_tenants.a
    services.password_policy_update(tenant=a.tenant, actor=a.admin, profile=PasswordProfile.CUSTOM,
                                   on_noncompliant=NonCompliance.CHANGE_NOW, min_length=12,
                                   max_length=128, history_count=3, expiry_days=0)
    user = UserFactory(tenant=a.tenant, email="hist@acme.example")
    passwords = [f"tangerine kayak {n}" for n in range(5)]
    for password in passwords:
        user.set_password(password)
        user.save()
        services.password_record_change(user=user, new_hash=user.password)
    assert PasswordHistory.objects.filter(user=user).count() == 3
    assert "password_hash" not in {f.name for f in PasswordState._meta.get_fields()}
    validators = password_validators_for(user)
    for recent in passwords[-3:]:
        with pytest.raises(ValidationError) as exc:
            validate_password(recent, user, password_validators=validators)
        assert "used this password recently" in " ".join(exc.value.messages)
    validate_password(passwords[0], user, password_validators=validators)  # older than 3 changes
    stored = list(PasswordHistory.objects.values_list("password_hash", flat=True))
    assert all(p not in h for p in passwords for h in stored)  # hashes only


def test_signin_compliance_decides_and_records(two_tenants):
    a = two_tenants.a
    member = a.member

    def signin_compliance(**kwargs):
        return services.password_signin_compliance(
            user=member, password="Correct-horse-battery-9",
            rules=selectors.password_rules_for(tenant=a.tenant), **kwargs)

    assert signin_compliance(now=NOW).allowed
    services.password_policy_update(tenant=a.tenant, actor=a.admin, profile=PasswordProfile.CUSTOM,
                                    on_noncompliant=NonCompliance.CHANGE_NOW, min_length=30,
                                    max_length=128)
    decision = signin_compliance(now=NOW)
    assert decision.reason == Reason.PASSWORD_CHANGE_REQUIRED and not decision.allowed
    assert list(selectors.password_noncompliant_list(tenant=a.tenant)) == [PasswordState.objects.get(user=member)]
    assert list(selectors.password_noncompliant_list(tenant=two_tenants.b.tenant)) == []


def test_expiry_through_the_recorded_change(two_tenants):
    a = two_tenants.a
    services.password_policy_update(tenant=a.tenant, actor=a.admin, profile=PasswordProfile.CLASSIC,
                                   on_noncompliant=NonCompliance.CHANGE_NOW)
    with time_machine.travel(NOW, tick=False):
        services.password_record_change(user=a.member, new_hash=make_password("Qz7#kLm2x"))
    later = NOW + timedelta(days=90, minutes=1)
    decision = services.password_signin_compliance(user=a.member, password="Qz7#kLm2x", now=later,
                                                   rules=selectors.password_rules_for(tenant=a.tenant))
    assert decision.reason == Reason.PASSWORD_EXPIRED
    expiring = selectors.password_expiring_list(tenant=a.tenant, now=NOW + timedelta(days=80))
    assert [s.user for s, _ in expiring] == [a.member]
    assert selectors.password_expiring_list(tenant=a.tenant, now=NOW + timedelta(days=70)) == []


def test_expiry_reminders_are_sent_once_per_threshold(two_tenants):
    a = two_tenants.a
    services.password_policy_update(tenant=a.tenant, actor=a.admin, profile=PasswordProfile.CLASSIC,
                                   on_noncompliant=NonCompliance.CHANGE_NOW)
    people = {}
    for days_left in (14, 7, 1, 3):
        person = UserFactory(tenant=a.tenant, email=f"left{days_left}@acme.example")
        services.password_record_change(user=person, new_hash="x",
                                       now=NOW - timedelta(days=90 - days_left))
        people[days_left] = person
    # The other tenant has no expiry: its people are never reminded.
    services.password_record_change(user=two_tenants.b.member, new_hash="x", now=NOW - timedelta(days=83))

    from django.test import TestCase

    with TestCase.captureOnCommitCallbacks(execute=True):
        assert reminders.password_expiry_reminders_send(now=NOW) == 3
    with TestCase.captureOnCommitCallbacks(execute=True):
        assert reminders.password_expiry_reminders_send(now=NOW + timedelta(hours=1)) == 0
    assert sorted(m.to[0] for m in mail.outbox) == sorted(
        people[d].email for d in (14, 7, 1))
    assert "7 days" in next(m.subject for m in mail.outbox if m.to == [people[7].email])
    assert PasswordExpiryReminder.objects.count() == 3
    # A week later the 14-day person gets their 7-day reminder.
    with TestCase.captureOnCommitCallbacks(execute=True):
        assert reminders.password_expiry_reminders_send(now=NOW + timedelta(days=7)) == 1


def test_reminder_task_is_registered():
    from security.tasks import password_expiry_reminders_task

    assert password_expiry_reminders_task.name == "security.password_expiry_reminders"
    assert password_expiry_reminders_task.delay().get() == 0


def test_policy_update_rejects_bad_values_and_changes_nothing(two_tenants):
    a = two_tenants.a
    before = selectors.password_policy_get(tenant=a.tenant)
    bad = [
        {"profile": "emperor"},
        {"profile": "custom", "min_length": 4, "max_length": 128},
        {"profile": "custom", "min_length": 12, "max_length": 32},
        {"profile": "custom", "min_length": 100, "max_length": 64},
        {"profile": "custom", "min_length": "9" * 5000, "max_length": 128},
        {"profile": "custom", "min_length": 12, "max_length": 128, "history_count": -1},
    ]
    for values in bad:
        with pytest.raises(ValidationError):
            services.password_policy_update(tenant=a.tenant, actor=a.admin,
                                           on_noncompliant=NonCompliance.CHANGE_NOW, **values)
    with pytest.raises(ValidationError):
        services.password_policy_update(tenant=a.tenant, actor=two_tenants.b.admin, profile="classic",
                                       on_noncompliant=NonCompliance.CHANGE_NOW)
    after = selectors.password_policy_get(tenant=a.tenant)
    assert (after.profile, after.min_length, after.updated_by_id) == (before.profile, before.min_length, None)
    assert not PasswordPolicy.objects.exists()
