"""The curated time-zone list: one zone per place, grouped by region, the company's zone first."""

from __future__ import annotations

import re
import zoneinfo
from datetime import UTC, datetime

import pytest

from accounts.models import User
from me.forms import ProfileForm
from me.timezones import city_label, curated_names, offset_label, timezone_choices, zone_label

WINTER = datetime(2026, 1, 15, 12, tzinfo=UTC)
SUMMER = datetime(2026, 7, 15, 12, tzinfo=UTC)
ALIASES = ["PRC", "Asia/Chongqing", "Asia/Harbin", "US/Pacific", "US/Eastern", "Etc/GMT+8",
           "Etc/UTC", "GMT", "Zulu", "Japan", "Europe/Belfast", "America/Buenos_Aires"]


def _flat(choices) -> list[tuple[str, str]]:
    out = []
    for value, label in choices:
        out.extend(label if isinstance(label, list) else [(value, label)])
    return out


def test_the_list_has_no_aliases_or_legacy_names_and_every_zone_loads() -> None:
    names = curated_names()
    assert 300 < len(names) < len(zoneinfo.available_timezones())
    for alias in ALIASES:
        assert alias not in names, alias
    assert not [n for n in names if n.startswith(("Etc/", "US/", "SystemV/", "posix/", "right/"))]
    for name in names:
        zoneinfo.ZoneInfo(name)
    assert {"Asia/Shanghai", "Asia/Hong_Kong", "Asia/Taipei", "Europe/Berlin", "America/New_York",
            "America/Argentina/Buenos_Aires", "UTC"} <= names


def test_choices_are_grouped_by_region_and_labelled_with_city_and_offset() -> None:
    choices = timezone_choices(now=WINTER)
    groups = {label: options for label, options in choices if isinstance(options, list)}
    assert list(groups) == ["Africa", "Americas", "Antarctica", "Arctic", "Asia", "Atlantic Ocean",
                            "Australia", "Europe", "Indian Ocean", "Pacific Ocean"]
    asia = dict(groups["Asia"])
    assert asia["Asia/Shanghai"] == "Shanghai (UTC+08:00)"
    assert asia["Asia/Kolkata"] == "Kolkata (UTC+05:30)"
    assert dict(groups["Americas"])["America/Argentina/Buenos_Aires"] == \
        "Buenos Aires, Argentina (UTC\u221203:00)"
    # Sorted by label within a region, so typing a city's first letters finds it.
    labels = [label for _value, label in groups["Europe"]]
    assert labels == sorted(labels, key=str.casefold)
    # Every zone appears once.
    values = [value for value, _label in _flat(choices)]
    assert len(values) == len(set(values)) == len(curated_names())
    assert all(re.search(r"\(UTC([+\u2212]\d\d:\d\d)?\)$", label)
               for _v, label in _flat(choices) if _v != "UTC")


def test_offsets_follow_daylight_saving_time() -> None:
    assert zone_label("Europe/Berlin", now=WINTER) == "Berlin (UTC+01:00)"
    assert zone_label("Europe/Berlin", now=SUMMER) == "Berlin (UTC+02:00)"
    assert zone_label("America/New_York", now=SUMMER) == "New York (UTC\u221204:00)"
    assert offset_label(None) == "UTC"
    assert city_label("America/Indiana/Indianapolis") == "Indianapolis, Indiana"


def test_the_first_zones_lead_and_are_not_repeated() -> None:
    choices = timezone_choices(first=["Asia/Shanghai"], now=WINTER)
    assert choices[0] == ("Asia/Shanghai", "Shanghai (UTC+08:00)")
    assert [value for value, _label in _flat(choices)].count("Asia/Shanghai") == 1


@pytest.mark.django_db
def test_the_profile_form_puts_the_companys_zone_first_and_keeps_a_saved_alias(two_tenants) -> None:
    member = two_tenants.a.member
    member.tenant.timezone = "Asia/Shanghai"
    member.timezone = "PRC"  # saved before the list existed
    choices = ProfileForm(instance=member).fields["timezone"].choices
    assert choices[0][0] == "" and "Shanghai" in str(choices[0][1])  # the company default
    assert [c[0] for c in choices[1:3]] == ["Asia/Shanghai", "PRC"]
    assert ProfileForm({"display_name": "M", "language": "", "timezone": "PRC"}, instance=member).is_valid()
    other = User(tenant=member.tenant, role=member.role)
    form = ProfileForm({"display_name": "M", "language": "", "timezone": "PRC"}, instance=other)
    assert not form.is_valid()
    assert form.errors["timezone"] == ["Choose a time zone from the list."]


@pytest.mark.django_db
def test_the_profile_page_offers_the_curated_list(two_tenants, signed_in) -> None:
    member = two_tenants.a.member
    client = signed_in(member)
    page = client.get("/me/").content.decode()
    assert '<optgroup label="Asia">' in page
    assert re.search(r'<option value="Asia/Shanghai">Shanghai \(UTC\+08:00\)</option>', page)
    assert 'value="PRC"' not in page and 'value="US/Pacific"' not in page
    refused = client.post("/me/", {"display_name": "M", "language": "", "timezone": "US/Pacific"})
    assert "Choose a time zone from the list." in refused.content.decode()
    member.refresh_from_db()
    assert member.timezone == ""
    client.post("/me/", {"display_name": "M", "language": "", "timezone": "Asia/Shanghai"})
    member.refresh_from_db()
    assert member.timezone == "Asia/Shanghai"
