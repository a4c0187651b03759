"""Places for impossible travel: country centroids by default, a GeoIP2 City database when set."""

from __future__ import annotations

import csv
from pathlib import Path

import maxminddb
import pytest

from alerts import geo
from alerts.rules.base import Place
from tests.alerts import mmdb


@pytest.fixture(autouse=True)
def _fresh_geo():
    geo.geo_reset()
    yield
    geo.geo_reset()


def test_every_country_of_the_table_has_a_plausible_centroid_and_radius():
    places = geo.country_centroids()
    assert len(places) >= 240
    for code, place in places.items():
        assert len(code) == 2 and code.isupper()
        assert -90 <= place.latitude <= 90 and -180 <= place.longitude <= 180
        assert place.accuracy_km >= 0
    germany = places["DE"]
    assert (germany.latitude, germany.longitude) == (51.0, 9.0)
    # Germany's 357,114 km² as a circle: a radius of about 337 km.
    assert 330 < germany.accuracy_km < 345


def test_the_table_names_its_source_and_licence():
    data = Path(geo.CENTROIDS_CSV).parent
    readme = (data / "README.md").read_text()
    assert "mledoze/countries" in readme and "ODbL" in readme
    assert "Open Database License" in (data / "country_centroids.LICENSE").read_text()
    with geo.CENTROIDS_CSV.open() as handle:
        assert next(csv.reader(handle)) == ["code", "latitude", "longitude", "area_km2", "name"]


def test_without_a_city_database_a_place_is_the_recorded_countrys_centroid(settings):
    settings.MAILADMIN_GEOIP2_CITY_DB = ""
    assert geo.place_of("203.0.113.5", "fr") == geo.country_centroids()["FR"]
    # Unknown or missing country: a place without coordinates, which no rule measures.
    assert geo.place_of("203.0.113.5", "") == Place(country="")
    assert geo.place_of("203.0.113.5", "QQ").latitude is None


def test_distance_between_centroids():
    berlin_ish, new_york_ish = Place("DE", 52.52, 13.405), Place("US", 40.7128, -74.006)
    assert 6350 < geo.distance_km(berlin_ish, new_york_ish) < 6420
    assert geo.distance_km(berlin_ish, Place("")) is None


@pytest.fixture
def city_db(tmp_path, settings):
    path = mmdb.write(tmp_path / "city.mmdb", {
        "81.2.69.0/24": {
            "city": {"names": {"en": "London"}}, "country": {"iso_code": "GB"},
            "location": {"latitude": 51.5142, "longitude": -0.0931, "accuracy_radius": 10},
        },
        "89.160.20.0/24": {
            "country": {"iso_code": "SE"},  # a record without coordinates
        },
    })
    settings.MAILADMIN_GEOIP2_CITY_DB = str(path)
    geo.geo_reset()
    return path


def test_the_written_database_is_a_real_maxmind_db(city_db):
    with maxminddb.open_database(str(city_db)) as reader:
        assert reader.metadata().database_type == "GeoIP2-City"
        assert reader.get("81.2.69.160")["city"]["names"]["en"] == "London"
        assert reader.get("1.1.1.1") is None


def test_a_city_database_gives_city_coordinates_and_its_accuracy_radius(city_db):
    place = geo.place_of("81.2.69.160", "GB")
    assert place == Place(country="GB", latitude=51.5142, longitude=-0.0931, accuracy_km=10.0,
                          city="London")


def test_addresses_the_city_database_cannot_place_fall_back_to_the_centroid(city_db):
    assert geo.place_of("89.160.20.112", "SE") == geo.country_centroids()["SE"]  # no location
    assert geo.place_of("1.1.1.1", "AU") == geo.country_centroids()["AU"]        # not in it
    assert geo.place_of("10.0.0.1", "") == Place(country="")                     # private
    assert geo.place_of("2001:db8::1", "DE") == geo.country_centroids()["DE"]    # IPv6 in a v4 db


def test_a_broken_city_database_costs_precision_not_detection(tmp_path, settings, caplog):
    broken = tmp_path / "broken.mmdb"
    broken.write_bytes(b"not a database at all")
    settings.MAILADMIN_GEOIP2_CITY_DB = str(broken)
    geo.geo_reset()
    assert geo.place_of("81.2.69.160", "GB") == geo.country_centroids()["GB"]
    assert "cannot be opened" in caplog.text
