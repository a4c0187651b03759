"""The demo agrees with itself: its password passes every demo person's policy, everyone signs in
with it, a second factor appears in the history only for people who have a device, and "Last
sign-in" is the latest successful sign-in of the history."""

from __future__ import annotations

import zoneinfo

import pytest
from django.contrib.auth.password_validation import validate_password
from django.core.management import CommandError, call_command
from django.db.models import Max

from accounts.models import User
from activity.models import LoginEvent, Outcome, Reason
from people.demo import DEMO_PEOPLE, DEMO_TENANTS
from security.policies.password.validators import password_validators_for
from tests.accounts.test_mfa_support import enroll

pytestmark = pytest.mark.django_db

DEMO_ADDRESSES = [f"{local}@{t.domain}" for t in DEMO_TENANTS for local, _, _ in DEMO_PEOPLE]


@pytest.fixture
def demo(settings):
    settings.DEBUG = True
    call_command("seed_demo")
    return settings.DEMO_PASSWORD


def _demo_people() -> list[User]:
    people = list(User.objects.filter(email__in=DEMO_ADDRESSES).select_related("tenant"))
    assert len(people) == len(DEMO_ADDRESSES)
    return people


def test_the_demo_password_passes_every_demo_persons_policy(demo):
    for person in _demo_people():
        validate_password(demo, person, password_validators=password_validators_for(person))


def test_every_demo_person_signs_in_to_their_landing_page(demo, make_client):
    for person in _demo_people():
        client = make_client()
        response = client.post("/signin/", {"email": person.email, "password": demo}, follow=True)
        landing = response.redirect_chain[-1][0] if response.redirect_chain else ""
        expected = "/me/" if person.role == "member" else "/dashboard/"
        assert (response.status_code, landing) == (200, expected), (person.email, response.redirect_chain)
        event = LoginEvent.objects.filter(user=person).order_by("-occurred_at", "-id").first()
        assert (event.outcome, event.reason) == (Outcome.SUCCESS, Reason.PASSWORD_OK), person.email


def test_seed_demo_refuses_a_password_that_a_demo_person_could_not_keep(settings):
    settings.DEBUG = True
    settings.DEMO_PASSWORD = "Demo-mailadmin-2026!"  # "admin" is a word of admin@acme.example
    with pytest.raises(CommandError, match="admin"):
        call_command("seed_demo", "--no-history")
    assert not User.objects.filter(email__in=DEMO_ADDRESSES).exists()


def test_the_history_shows_a_second_factor_only_for_people_with_a_device(demo):
    assert LoginEvent.objects.filter(user__email__in=DEMO_ADDRESSES, outcome=Outcome.SUCCESS).count() > 500
    # Nobody in the demo has an authenticator app, so no row may claim one.
    with_mfa = LoginEvent.objects.filter(user__email__in=DEMO_ADDRESSES).exclude(mfa_method="")
    assert not with_mfa.exists()
    assert not LoginEvent.objects.filter(
        user__email__in=DEMO_ADDRESSES,
        reason__in=[Reason.MFA_VERIFIED, Reason.MFA_CHALLENGE, Reason.MFA_FAILED]).exists()


def test_a_person_with_a_device_gets_second_factor_rows(settings):
    settings.DEBUG = True
    call_command("seed_demo", "--no-history")
    erin = User.objects.get(email="erin@acme.example")
    enroll(erin, name="Erin's phone")
    call_command("seed_demo")
    successes = LoginEvent.objects.filter(user=erin, outcome=Outcome.SUCCESS)
    assert successes.exists()
    assert set(successes.values_list("reason", "mfa_method")) == {(Reason.MFA_VERIFIED, "totp")}
    frank = User.objects.get(email="frank@acme.example")
    assert set(LoginEvent.objects.filter(user=frank, outcome=Outcome.SUCCESS)
               .values_list("reason", "mfa_method")) == {(Reason.PASSWORD_OK, "")}


def test_last_sign_in_is_the_latest_successful_sign_in_of_the_history(demo, make_client):
    latest = dict(LoginEvent.objects.filter(outcome=Outcome.SUCCESS, user__email__in=DEMO_ADDRESSES)
                  .values("user").annotate(at=Max("occurred_at")).values_list("user", "at"))
    people = _demo_people()
    assert len(latest) == len(people)
    for person in people:
        assert person.last_login == latest[person.pk], person.email
    # The person's page says when, instead of "Last sign-in —".
    alice = next(p for p in people if p.email == "alice@acme.example")
    client = make_client()
    client.post("/signin/", {"email": "owner@acme.example", "password": demo})
    body = client.get(f"/people/{alice.pk}/").content.decode()
    shown = alice.last_login.astimezone(zoneinfo.ZoneInfo(alice.tenant.timezone))
    assert f"Last sign-in</dt><dd>{shown:%Y-%m-%d %H:%M}</dd>" in body


def test_seeding_again_adds_no_history_and_keeps_last_sign_in(demo):
    before = LoginEvent.objects.count()
    owner = User.objects.get(email="owner@acme.example")
    call_command("seed_demo")
    assert LoginEvent.objects.count() == before
    owner_again = User.objects.get(pk=owner.pk)
    assert owner_again.last_login == owner.last_login
