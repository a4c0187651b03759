"""ip_country: iptocc by default, any resolver by setting, never a country for private space."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.test import override_settings

from activity.capture import CountryResolver, IptoccCountryResolver, country_resolver, ip_country
from activity.clientip import UNKNOWN_IP


@pytest.mark.parametrize(
    ("ip", "country"),
    [
        ("8.8.8.8", "US"),  # Google Public DNS, ARIN
        ("2001:4860:4860::8888", "US"),
        ("193.0.6.139", "NL"),  # RIPE NCC itself
        ("::ffff:8.8.8.8", "US"),  # IPv4-mapped: same answer as the IPv4 address
    ],
)
def test_public_addresses_have_their_registry_country(ip: str, country: str) -> None:
    assert ip_country(ip) == country


@pytest.mark.parametrize(
    "ip",
    ["10.1.2.3", "172.16.0.1", "192.168.1.1", "127.0.0.1", "::1", "fe80::1", "fc00::1",
     "100.64.0.1", UNKNOWN_IP, "169.254.1.1", "", "garbage", "999.1.1.1", "[::1]"],
)
def test_private_loopback_and_invalid_addresses_have_no_country(ip: str) -> None:
    assert ip_country(ip) == ""


def test_default_resolver_is_iptocc_and_satisfies_the_protocol() -> None:
    resolver = country_resolver()
    assert isinstance(resolver, IptoccCountryResolver)
    assert isinstance(resolver, CountryResolver)
    assert resolver is country_resolver()


class RecordingResolver:
    """A stand-in for a GeoIP2 database: answers whatever ``answer`` says, remembers questions."""

    asked: list[str] = []
    answer: str | Exception = "de"

    def country(self, ip: str) -> str:
        RecordingResolver.asked.append(ip)
        if isinstance(RecordingResolver.answer, Exception):
            raise RecordingResolver.answer
        return RecordingResolver.answer


@pytest.fixture
def recording() -> Iterator[type[RecordingResolver]]:
    RecordingResolver.asked = []
    RecordingResolver.answer = "de"
    with override_settings(MAILADMIN_COUNTRY_RESOLVER="tests.activity.test_country.RecordingResolver"):
        yield RecordingResolver
    assert isinstance(country_resolver(), IptoccCountryResolver)  # the override was undone


def test_setting_plugs_another_resolver(recording: type[RecordingResolver]) -> None:
    assert ip_country("8.8.8.8") == "DE"
    assert recording.asked == ["8.8.8.8"]


def test_private_addresses_never_reach_the_resolver(recording: type[RecordingResolver]) -> None:
    assert ip_country("10.0.0.1") == ""
    assert ip_country("::ffff:192.168.0.1") == ""
    assert recording.asked == []


@pytest.mark.parametrize("answer", ["Germany", "", "D", "1A", "ZZ", RuntimeError("db gone")])
def test_bad_answers_and_failures_become_no_country(recording: type[RecordingResolver],
                                                    answer: str | Exception) -> None:
    recording.answer = answer
    assert ip_country("8.8.8.8") == ""
