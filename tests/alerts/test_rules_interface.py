"""Every rule module exposes the interface the detector and the settings page rely on."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json

import pytest
from django.utils import translation

from alerts.rules import RULES
from alerts.rules.base import Finding, Severity
from alerts.rules.common import params_data
from tests.alerts import fakes
from tests.alerts.fakes import TENANT, FakeHistory

ORDER = ["new_device", "new_country", "impossible_travel", "unusual_hour", "brute_force",
         "password_spray", "success_after_failures", "blocked_by_policy", "dormant_account",
         "mass_export"]
HISTORY_METHODS = {"successes", "first_success", "success_count", "account_failures",
                   "network_failures", "exports", "is_trusted"}


def test_the_registry_holds_the_ten_rules_in_their_order():
    assert list(RULES) == ORDER


@pytest.mark.parametrize("code", ORDER)
def test_a_rule_module_exposes_the_whole_interface(code):
    module = RULES[code]
    assert module.CODE == code == module.__name__.rsplit(".", 1)[1]
    assert isinstance(module.DEFAULT_SEVERITY, Severity)
    assert str(module.TITLE)
    assert ("export" if code == "mass_export" else "signin") == module.EVENT_KIND
    assert module.NEEDS <= HISTORY_METHODS
    defaults = module.params_from({})
    assert defaults == module.Params()
    assert defaults.severity == module.DEFAULT_SEVERITY
    assert dataclasses.is_dataclass(defaults)
    with pytest.raises(dataclasses.FrozenInstanceError):
        defaults.severity = Severity.LOW  # type: ignore[misc]
    fields = {f.name for f in dataclasses.fields(module.Params)}
    assert set(module.PARAM_FIELDS) <= fields - {"severity"}
    for name, (label, kind, help_text) in module.PARAM_FIELDS.items():
        assert kind in {"int", "time", "bool", "str"}
        assert str(label) and str(help_text), name
    assert isinstance(module.lookback(defaults), dt.timedelta)


@pytest.mark.parametrize("code", ORDER)
def test_saved_params_load_back_the_same(code):
    module = RULES[code]
    defaults = module.params_from({})
    saved = params_data(defaults)
    json.dumps(saved)
    assert module.params_from(json.loads(json.dumps(saved))) == defaults


# One event (and the history around it) that makes each rule fire with its defaults.
def _new_device():
    events = fakes.habit("2026-10-01", days=60)
    event = fakes.signin("2026-12-01 10:00", browser="Firefox")
    return event, FakeHistory([*events, event])


def _new_country():
    events = fakes.habit("2026-10-01", days=60)
    event = fakes.signin("2026-12-01 10:00", country="JP")
    return event, FakeHistory([*events, event])


def _impossible_travel():
    from alerts.rules.base import Place
    before = fakes.signin("2026-12-01 09:00", place=Place("FR", 48.8566, 2.3522, 0, "Paris"))
    event = fakes.signin("2026-12-01 09:20", place=Place("DE", 52.52, 13.405, 0, "Berlin"))
    return event, FakeHistory([before, event])


def _unusual_hour():
    event = fakes.signin("2026-12-01 02:00")
    return event, FakeHistory([event])


def _brute_force():
    events = [fakes.failure(fakes.at("2026-12-01 10:00") + dt.timedelta(minutes=n))
              for n in range(10)]
    return events[-1], FakeHistory(events)


def _password_spray():
    events = [fakes.failure(fakes.at("2026-12-01 10:00") + dt.timedelta(minutes=n),
                            login=f"u{n}@acme.example", ip="203.0.113.4") for n in range(5)]
    return events[-1], FakeHistory(events)


def _success_after_failures():
    events = [fakes.failure(fakes.at("2026-12-01 10:00") + dt.timedelta(minutes=n))
              for n in range(5)]
    return fakes.signin("2026-12-01 10:06"), FakeHistory(events)


def _blocked_by_policy():
    return fakes.signin("2026-12-01 10:00", outcome="denied", reason="network_denied"), FakeHistory()


def _dormant_account():
    event = fakes.signin("2026-12-01 10:00")
    return event, FakeHistory([fakes.signin("2026-08-01 10:00"), event])


def _mass_export():
    sample = fakes.export("2026-12-01 10:00", 50_000)
    return sample, FakeHistory(exports=[sample])


FIRING = {code: globals()[f"_{code}"] for code in ORDER}


@pytest.mark.parametrize("code", ORDER)
def test_a_real_finding_is_json_and_describe_explains_it_in_every_language(code):
    module = RULES[code]
    item, history = FIRING[code]()
    params = module.params_from({})
    evaluate = module.evaluate_export if code == "mass_export" else module.evaluate
    findings = evaluate(item, history, params, TENANT)
    assert len(findings) == 1
    finding = findings[0]
    assert isinstance(finding, Finding)
    assert finding.rule == code
    assert finding.severity == module.DEFAULT_SEVERITY
    assert item.id in finding.event_ids
    assert 0 < len(finding.dedup_key) <= 200 and finding.dedup_key.startswith(f"{code}:")
    assert json.loads(json.dumps(finding.evidence)) == finding.evidence
    # The rule used only what it declares, so the detector may fetch only that.
    assert history.calls <= module.NEEDS
    sentences = {}
    for language, stop in (("en", "."), ("zh-hans", "。")):
        with translation.override(language):
            sentence = module.describe(json.loads(json.dumps(finding.evidence)))
        assert isinstance(sentence, str) and sentence.endswith(stop) and "%(" not in sentence
        sentences[language] = sentence
    # The Chinese explanation is a translation, not the English sentence again.
    assert sentences["zh-hans"] != sentences["en"]
    # Evaluating the same event twice gives the same finding (the detector's idempotence).
    assert evaluate(item, history, params, TENANT) == findings


@pytest.mark.parametrize("code", ORDER)
def test_describe_survives_empty_or_foreign_evidence(code):
    module = RULES[code]
    with translation.override("en"):
        assert isinstance(module.describe({}), str)
        assert isinstance(module.describe({"days": "x", "country": 5, "usual_hours": "?"}), str)


@pytest.mark.parametrize("code", ORDER)
def test_params_from_refuses_what_is_not_a_mapping_of_values(code):
    from django.core.exceptions import ValidationError
    with pytest.raises(ValidationError):
        RULES[code].params_from(["days", 3])  # type: ignore[arg-type]
