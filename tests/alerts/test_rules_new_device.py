"""New device: a success with a browser/OS/device triple unused for 90 days, after learning."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation

from alerts.rules import new_device
from alerts.rules.base import Severity
from tests.alerts.fakes import TENANT, FakeHistory, at, failure, habit, signin

DEFAULTS = new_device.params_from({})


def run(event, history):
    return new_device.evaluate(event, history, DEFAULTS, TENANT)


def routine():
    """Chrome on Windows every day from 1 October: 61 successes by 1 December."""
    return habit("2026-10-01", days=61)


def test_a_browser_never_used_before_is_a_finding_with_its_figures():
    event = signin("2026-12-01 10:00", browser="Firefox", os="Linux", device="desktop",
                   country="FR", ip="203.0.113.9")
    findings = run(event, FakeHistory([*routine(), event]))
    assert len(findings) == 1
    finding = findings[0]
    assert finding.rule == "new_device"
    assert finding.severity == Severity.LOW
    assert finding.user_id == 7
    assert finding.event_ids == (event.id,)
    assert finding.dedup_key == "new_device:7:Firefox|Linux|desktop"
    assert finding.evidence["known_devices"] == [["Chrome", "Windows", "desktop"]]
    assert finding.evidence["days"] == 90
    with translation.override("en"):
        sentence = new_device.describe(finding.evidence)
    assert sentence == ("Signed in with Firefox on Linux (Desktop) from France, a device this "
                        "person had not used in the previous 90 days.")


def test_the_usual_device_is_no_finding():
    event = signin("2026-12-01 10:00")
    assert run(event, FakeHistory([*routine(), event])) == []


def test_a_device_used_within_the_window_is_known_and_one_older_is_new_again():
    old_firefox = signin("2026-09-01 08:00", browser="Firefox", os="Linux")
    events = [*habit("2026-08-01", days=120), old_firefox]
    within = signin("2026-11-29 08:00", browser="Firefox", os="Linux")  # 89 days later
    beyond = signin("2026-12-01 08:00", browser="Firefox", os="Linux")  # 91 days later
    assert run(within, FakeHistory([*events, within])) == []
    assert len(run(beyond, FakeHistory([*events, beyond]))) == 1


def test_another_device_type_or_os_is_a_new_device():
    history = FakeHistory(routine())
    assert len(run(signin("2026-12-01 10:00", device="mobile"), history)) == 1
    assert len(run(signin("2026-12-01 10:00", os="Mac OS X"), history)) == 1


@pytest.mark.parametrize(("day", "expected"), [(13, 0), (14, 1), (15, 1)])
def test_no_finding_in_the_first_14_days(day, expected):
    # Plenty of sign-ins (five a day), so only the days decide.
    events = habit("2026-11-01", days=day, per_day=5)
    event = signin(at("2026-11-01 09:00") + dt.timedelta(days=day, hours=1), browser="Edge")
    assert len(run(event, FakeHistory([*events, event]))) == expected


@pytest.mark.parametrize(("earlier", "expected"), [(8, 0), (9, 0), (10, 1)])
def test_no_finding_in_the_first_10_successes(earlier, expected):
    # The 9th and 10th successes are still learning; the 11th (10 earlier) is judged.
    events = [signin(at("2026-09-01 09:00") + dt.timedelta(days=3 * n)) for n in range(earlier)]
    event = signin("2026-12-01 09:00", browser="Edge")
    assert len(run(event, FakeHistory([*events, event]))) == expected


def test_the_first_success_ever_is_learning():
    event = signin("2026-12-01 09:00")
    assert run(event, FakeHistory([event])) == []


def test_a_trusted_device_is_not_new():
    event = signin("2026-12-01 10:00", browser="Firefox", os="Linux")
    trusted = FakeHistory([*routine(), event], trusts=[(7, "device", "firefox|linux|DESKTOP")])
    other_person = FakeHistory([*routine(), event], trusts=[(8, "device", "Firefox|Linux|desktop")])
    assert run(event, trusted) == []
    assert len(run(event, other_person)) == 1


def test_repeats_of_a_new_device_within_a_day_grow_one_alert_then_it_is_known():
    first = signin("2026-12-01 10:00", browser="Firefox", os="Linux")
    again = signin("2026-12-01 18:00", browser="Firefox", os="Linux")
    next_day = signin("2026-12-02 10:30", browser="Firefox", os="Linux")
    events = [*routine(), first, again, next_day]
    [a] = run(first, FakeHistory(events))
    [b] = run(again, FakeHistory(events))
    assert a.dedup_key == b.dedup_key
    assert run(next_day, FakeHistory(events)) == []


def test_failures_unknown_people_and_blank_agents_are_not_judged():
    history = FakeHistory(routine())
    assert run(failure("2026-12-01 10:00", browser="Firefox"), history) == []
    assert run(signin("2026-12-01 10:00", browser="Firefox", user_id=None), history) == []
    assert run(signin("2026-12-01 10:00", browser="", os="", device=""), history) == []


def test_other_people_devices_do_not_count():
    theirs = habit("2026-10-01", days=61, user_id=8, browser="Firefox", os="Linux")
    event = signin("2026-12-01 10:00", browser="Firefox", os="Linux")
    assert len(run(event, FakeHistory([*routine(), *theirs, event]))) == 1


@pytest.mark.parametrize("value", [0, -1, 10**9, "ten", 1.5, True, [3]])
def test_bad_days_are_refused_under_the_field(value):
    with pytest.raises(ValidationError) as caught:
        new_device.params_from({"days": value})
    assert list(caught.value.message_dict) == ["days"]


def test_params_from_reads_strings_and_severity():
    params = new_device.params_from({"days": "30", "learning_days": 7, "severity": "high",
                                     "stale_key": 1})
    assert (params.days, params.learning_days, params.severity) == (30, 7, Severity.HIGH)
    with pytest.raises(ValidationError) as caught:
        new_device.params_from({"severity": "urgent", "learning_successes": 0})
    assert set(caught.value.message_dict) == {"severity", "learning_successes"}
