"""Impossible travel: haversine distance over fractional hours, within the places' accuracy."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation

from alerts.rules import impossible_travel
from alerts.rules.base import Place, Severity
from alerts.rules.common import haversine_km
from tests.alerts.fakes import TENANT, FakeHistory, failure, signin

DEFAULTS = impossible_travel.params_from({})
PARIS = Place(country="FR", latitude=48.8566, longitude=2.3522, city="Paris")
BERLIN = Place(country="DE", latitude=52.52, longitude=13.405, city="Berlin")
NEW_YORK = Place(country="US", latitude=40.7128, longitude=-74.006, city="New York")
SAN_FRANCISCO = Place(country="US", latitude=37.7749, longitude=-122.4194, city="San Francisco")
POTSDAM = Place(country="DE", latitude=52.3906, longitude=13.0645, city="Potsdam")


def run(event, history, params=DEFAULTS):
    return impossible_travel.evaluate(event, history, params, TENANT)


def test_haversine_matches_known_distances():
    assert haversine_km(48.8566, 2.3522, 52.52, 13.405) == pytest.approx(878, abs=3)
    assert haversine_km(40.7128, -74.006, 51.5074, -0.1278) == pytest.approx(5570, abs=10)
    assert haversine_km(0, 0, 0, 180) == pytest.approx(20015, abs=5)
    assert haversine_km(10, 10, 10, 10) == 0


def test_paris_then_berlin_twenty_minutes_later_is_impossible():
    before = signin("2026-12-01 09:00", place=PARIS, country="FR", ip="192.0.2.10")
    event = signin("2026-12-01 09:20", place=BERLIN, country="DE", ip="198.51.100.20")
    [finding] = run(event, FakeHistory([before, event]))
    assert finding.severity == Severity.HIGH
    assert finding.event_ids == (before.id, event.id)
    assert finding.dedup_key == "impossible_travel:7:DE:FR"
    evidence = finding.evidence
    assert evidence["distance_km"] == pytest.approx(878, abs=3)
    assert evidence["elapsed_minutes"] == 20
    # Fractional hours: 878 km in 1/3 h, not in a day.
    assert evidence["speed_kmh"] == pytest.approx(2634, abs=10)
    with translation.override("en"):
        sentence = impossible_travel.describe(evidence)
    assert sentence.startswith("Signed in from Berlin, Germany 87")
    assert "from the previous sign-in in Paris, France 20 minutes earlier: 2,6" in sentence
    assert sentence.endswith(" km/h.")


def test_the_same_journey_by_plane_is_possible():
    before = signin("2026-12-01 09:00", place=PARIS)
    event = signin("2026-12-01 11:00", place=BERLIN)  # 2 h: 439 km/h
    assert run(event, FakeHistory([before, event])) == []


def test_fractional_hours_decide_close_to_the_limit():
    before = signin("2026-12-01 09:00:00", place=PARIS)
    # 878 km at 900 km/h takes 58.5 minutes.
    assert len(run(signin("2026-12-01 09:57:00", place=BERLIN), FakeHistory([before]))) == 1
    assert run(signin("2026-12-01 10:00:00", place=BERLIN), FakeHistory([before])) == []


def test_the_same_instant_at_two_places_is_an_infinite_speed():
    before = signin("2026-12-01 09:00", place=NEW_YORK)
    event = signin("2026-12-01 09:00", place=PARIS)
    [finding] = run(event, FakeHistory([before, event]))
    assert finding.evidence["speed_kmh"] is None
    with translation.override("en"):
        assert "at the same moment" in impossible_travel.describe(finding.evidence)


def test_a_short_jump_is_not_travel():
    before = signin("2026-12-01 09:00", place=BERLIN)
    event = signin("2026-12-01 09:01", place=POTSDAM)  # ~27 km in a minute
    assert run(event, FakeHistory([before, event])) == []


def test_distances_within_the_accuracy_radii_are_not_travel():
    # Country centroids with a 500 km radius each: 878 km is within 1,000 km of uncertainty.
    paris = Place(country="FR", latitude=48.8566, longitude=2.3522, accuracy_km=500)
    berlin = Place(country="DE", latitude=52.52, longitude=13.405, accuracy_km=500)
    before = signin("2026-12-01 09:00", place=paris)
    assert run(signin("2026-12-01 09:05", place=berlin), FakeHistory([before])) == []
    # New York to Paris with the same radii still needs at least 4,800 km.
    ny = Place(country="US", latitude=40.7128, longitude=-74.006, accuracy_km=500)
    before = signin("2026-12-01 09:00", place=ny)
    [finding] = run(signin("2026-12-01 10:00", place=paris), FakeHistory([before]))
    assert finding.evidence["shortest_km"] == pytest.approx(finding.evidence["distance_km"] - 1000)
    with translation.override("en"):
        assert "at least" in impossible_travel.describe(finding.evidence)


def test_unknown_places_give_no_finding_and_do_not_hide_the_journey():
    unknown = Place(country="")
    event = signin("2026-12-01 09:30", place=BERLIN)
    assert run(signin("2026-12-01 09:30", place=None), FakeHistory([signin("2026-12-01 09:00", place=PARIS)])) == []
    assert run(signin("2026-12-01 09:30", place=unknown), FakeHistory([signin("2026-12-01 09:00", place=PARIS)])) == []
    assert run(event, FakeHistory([signin("2026-12-01 09:00", place=unknown)])) == []
    # Paris, then somewhere unknown, then Berlin ten minutes after Paris: still impossible.
    history = FakeHistory([signin("2026-12-01 09:20", place=PARIS),
                           signin("2026-12-01 09:25", place=None), event])
    assert len(run(event, history)) == 1


def test_out_of_order_events_are_compared_by_when_they_happened():
    paris = signin("2026-12-01 09:00", place=PARIS)
    # Berlin arrives late, after a New York sign-in that happened 10 hours after it.
    berlin = signin("2026-12-01 09:10", place=BERLIN, event_id=5)
    later_ny = signin("2026-12-01 19:10", place=NEW_YORK, event_id=4)
    [finding] = run(berlin, FakeHistory([paris, later_ny, berlin]))
    assert finding.event_ids == (paris.id, berlin.id)


def test_a_previous_sign_in_too_long_ago_is_not_compared():
    before = signin("2026-11-28 09:00", place=NEW_YORK)
    assert run(signin("2026-12-01 09:00", place=PARIS), FakeHistory([before])) == []


def test_failures_and_other_people_are_not_compared():
    history = FakeHistory([failure("2026-12-01 09:00", place=PARIS),
                           signin("2026-12-01 09:00", place=PARIS, user_id=8)])
    assert run(signin("2026-12-01 09:10", place=BERLIN), history) == []


def test_a_trusted_network_does_not_fire():
    before = signin("2026-12-01 09:00", place=PARIS)
    event = signin("2026-12-01 09:10", place=BERLIN, ip="203.0.113.50")
    assert run(event, FakeHistory([before], trusts=[(7, "network", "203.0.113.0/24")])) == []
    assert len(run(event, FakeHistory([before], trusts=[(7, "network", "100.64.0.0/10")]))) == 1
    assert run(event, FakeHistory([before], trusts=[(7, "network", "198.51.100.0/24")])) == []
    # Back from the trusted VPN exit to the office: the trusted end explains that jump too.
    back = signin("2026-12-01 09:20", place=PARIS, ip="192.0.2.80")
    assert run(back, FakeHistory([before, event], trusts=[(7, "network", "203.0.113.0/24")])) == []


def test_cities_of_one_country_key_by_city_and_both_directions_share_the_key():
    ny = signin("2026-12-01 09:00", place=NEW_YORK)
    sf = signin("2026-12-01 10:00", place=SAN_FRANCISCO)
    back = signin("2026-12-01 11:00", place=NEW_YORK)
    [there] = run(sf, FakeHistory([ny]))
    [again] = run(back, FakeHistory([ny, sf]))
    assert there.dedup_key == again.dedup_key == "impossible_travel:7:US/New York:US/San Francisco"


def test_a_slower_limit_catches_a_car_journey():
    params = impossible_travel.params_from({"speed_kmh": "150"})
    before = signin("2026-12-01 09:00", place=PARIS)
    assert len(run(signin("2026-12-01 13:00", place=BERLIN), FakeHistory([before]), params)) == 1
    assert impossible_travel.lookback(params) > dt.timedelta(days=5)


@pytest.mark.parametrize(("field", "value"), [("speed_kmh", 0), ("speed_kmh", -900),
                                              ("speed_kmh", 10**9), ("speed_kmh", "fast"),
                                              ("min_distance_km", 0)])
def test_bad_values_are_refused_under_their_field(field, value):
    with pytest.raises(ValidationError) as caught:
        impossible_travel.params_from({field: value})
    assert list(caught.value.message_dict) == [field]



def test_a_long_gap_reads_in_hours():
    before = signin("2026-12-01 09:00", place=NEW_YORK)
    [finding] = run(signin("2026-12-01 12:30", place=PARIS), FakeHistory([before]))
    with translation.override("en"):
        sentence = impossible_travel.describe(finding.evidence)
    assert "from the previous sign-in in New York, United States 3.5 hours earlier: 1,66" in sentence
