"""New country: a success from a country unused for 90 days; unknown countries never fire."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation

from alerts.rules import new_country
from alerts.rules.base import Place, Severity
from tests.alerts.fakes import TENANT, FakeHistory, at, habit, signin

DEFAULTS = new_country.params_from({})


def run(event, history):
    return new_country.evaluate(event, history, DEFAULTS, TENANT)


def routine():
    return habit("2026-10-01", days=61, country="DE")


def test_a_new_country_is_a_finding_that_names_it_and_the_known_ones():
    event = signin("2026-12-01 03:12", country="BR", ip="200.160.2.3",
                   place=Place(country="BR", latitude=-23.5, longitude=-46.6, city="São Paulo"))
    [finding] = run(event, FakeHistory([*routine(), event]))
    assert finding.severity == Severity.MEDIUM
    assert finding.dedup_key == "new_country:7:BR"
    assert finding.evidence["known_countries"] == ["DE"]
    with translation.override("en"):
        assert new_country.describe(finding.evidence) == (
            "Signed in from São Paulo, Brazil, a country this person had not signed in from in "
            "the previous 90 days (they had signed in from Germany).")


def test_the_usual_country_is_no_finding():
    event = signin("2026-12-01 10:00", country="DE")
    assert run(event, FakeHistory([*routine(), event])) == []


def test_an_unknown_country_never_fires_and_does_not_count_as_a_place():
    assert run(signin("2026-12-01 10:00", country=""), FakeHistory(routine())) == []
    # Earlier sign-ins from nowhere known do not make a real country familiar.
    blanks = habit("2026-10-01", days=61, country="")
    [finding] = run(signin("2026-12-01 10:00", country="FR"), FakeHistory(blanks))
    assert finding.evidence["known_countries"] == []
    with translation.override("en"):
        assert new_country.describe(finding.evidence) == (
            "Signed in from France, a country this person had not signed in from in the "
            "previous 90 days.")


def test_a_country_last_used_more_than_90_days_ago_is_new_again():
    events = [*habit("2026-08-01", days=120), signin("2026-08-20 09:00", country="AT")]
    assert len(run(signin("2026-11-19 10:00", country="AT"), FakeHistory(events))) == 1
    assert run(signin("2026-11-17 10:00", country="AT"), FakeHistory(events)) == []


@pytest.mark.parametrize(("day", "expected"), [(13, 0), (15, 1)])
def test_the_learning_period_in_days(day, expected):
    events = habit("2026-11-01", days=day, per_day=3)
    event = signin(at("2026-11-01 10:00") + dt.timedelta(days=day), country="US")
    assert len(run(event, FakeHistory([*events, event]))) == expected


@pytest.mark.parametrize(("earlier", "expected"), [(8, 0), (10, 1)])
def test_the_learning_period_in_sign_ins(earlier, expected):
    events = [signin(at("2026-08-01 09:00") + dt.timedelta(days=7 * n)) for n in range(earlier)]
    event = signin("2026-12-01 09:00", country="US")
    assert len(run(event, FakeHistory([*events, event]))) == expected


def test_a_trusted_country_is_not_new():
    event = signin("2026-12-01 10:00", country="US")
    assert run(event, FakeHistory(routine(), trusts=[(7, "country", "us")])) == []
    assert len(run(event, FakeHistory(routine(), trusts=[(7, "country", "CA")]))) == 1


def test_a_second_sign_in_from_the_new_country_the_same_day_is_the_same_alert():
    first = signin("2026-12-01 10:00", country="US")
    again = signin("2026-12-01 12:00", country="US")
    events = [*routine(), first, again]
    [a] = run(first, FakeHistory(events))
    [b] = run(again, FakeHistory(events))
    assert a.dedup_key == b.dedup_key


@pytest.mark.parametrize("value", [0, -5, 10**9, "soon", [14]])
def test_bad_values_are_refused_under_their_field(value):
    with pytest.raises(ValidationError) as caught:
        new_country.params_from({"learning_days": value})
    assert list(caught.value.message_dict) == ["learning_days"]
