"""Where a sign-in came from, as a ``Place`` for the impossible-travel rule.

Design: by default a country's centroid, from ``alerts/data/country_centroids.csv`` (latitude and
longitude of each ISO 3166-1 country as published by the mledoze/countries data set, ODbL 1.0,
see ``alerts/data/README.md``), with an accuracy radius of the country's equivalent circle
(``sqrt(area / pi)``): a centroid says "somewhere in Germany", and two sign-ins inside one country
are never travel. The country is the one the record already holds (``MAILADMIN_COUNTRY_RESOLVER``
resolved it at sign-in). When the operator sets ``MAILADMIN_GEOIP2_CITY_DB`` to a GeoIP2 /
GeoLite2 City database (.mmdb), the address is looked up there with ``maxminddb`` (no network
calls): city, coordinates and MaxMind's own accuracy radius. A failing lookup falls back to the
centroid; an unknown country is a ``Place`` without coordinates, which no rule measures.
"""

from __future__ import annotations

import csv
import functools
import ipaddress
import logging
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Protocol

import maxminddb
from django.conf import settings

from alerts.rules.base import Place

logger = logging.getLogger(__name__)

CENTROIDS_CSV = Path(__file__).resolve().parent / "data" / "country_centroids.csv"
# Places are looked up once per address and country per process (a batch repeats addresses).
PLACE_CACHE_SIZE = 65536


@functools.cache
def country_centroids() -> Mapping[str, Place]:
    """ISO alpha-2 code → its centroid, with the equivalent radius of its area as accuracy."""
    places: dict[str, Place] = {}
    with CENTROIDS_CSV.open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            area = max(float(row["area_km2"] or 0), 0.0)
            places[row["code"]] = Place(
                country=row["code"], latitude=float(row["latitude"]),
                longitude=float(row["longitude"]), accuracy_km=round(math.sqrt(area / math.pi), 1),
            )
    return places


def centroid_place(country: str) -> Place:
    """The centroid of ``country``, or a Place without coordinates when the code is unknown."""
    code = (country or "").strip().upper()
    return country_centroids().get(code) or Place(country=code if len(code) == 2 else "")


class CityReader(Protocol):
    """What ``maxminddb.Reader`` offers that we use (a test can pass another)."""

    def get(self, ip_address: str) -> Any: ...


@functools.cache
def city_reader() -> CityReader | None:
    """The configured GeoIP2 City database, opened once per process; None when not configured."""
    path = getattr(settings, "MAILADMIN_GEOIP2_CITY_DB", "")
    if not path:
        return None
    try:
        return maxminddb.open_database(str(path))
    except (OSError, ValueError, maxminddb.InvalidDatabaseError):
        logger.exception("GeoIP2 City database %s cannot be opened; using country centroids", path)
        return None


def city_place(record: Mapping[str, Any], country: str) -> Place | None:
    """A Place from a GeoIP2 City record, or None when it has no coordinates."""
    location = record.get("location") or {}
    latitude, longitude = location.get("latitude"), location.get("longitude")
    if latitude is None or longitude is None:
        return None
    code = str((record.get("country") or {}).get("iso_code") or country or "").upper()
    names = (record.get("city") or {}).get("names") or {}
    return Place(country=code, latitude=float(latitude), longitude=float(longitude),
                 accuracy_km=float(location.get("accuracy_radius") or 0.0),
                 city=str(names.get("en") or ""))


@functools.lru_cache(maxsize=PLACE_CACHE_SIZE)
def place_of(ip: str, country: str) -> Place:
    """Where ``ip`` (recorded as being in ``country``) is, as precisely as configured."""
    reader = city_reader()
    if reader is not None and ip:
        try:
            address = ipaddress.ip_address(ip)
            record = reader.get(str(address)) if address.is_global else None
        except (ValueError, maxminddb.InvalidDatabaseError):
            record = None
        except Exception:  # a damaged database costs precision, never a batch
            logger.exception("GeoIP2 City lookup failed")
            record = None
        if isinstance(record, Mapping):
            place = city_place(record, country)
            if place is not None:
                return place
    return centroid_place(country)


def geo_reset() -> None:
    """Forget the opened database and cached places (after a settings change, in tests)."""
    city_reader.cache_clear()
    place_of.cache_clear()


def distance_km(a: Place, b: Place) -> float | None:
    """Great-circle distance (haversine on a 6,371 km sphere), None without coordinates."""
    if a.latitude is None or a.longitude is None or b.latitude is None or b.longitude is None:
        return None
    lat1, lon1, lat2, lon2 = map(math.radians, (a.latitude, a.longitude, b.latitude, b.longitude))
    h = (math.sin((lat2 - lat1) / 2) ** 2
         + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2)
    return 2 * 6371.0 * math.asin(min(1.0, math.sqrt(h)))
