"""The detail page's "The rule's figures": every rule's real evidence shows translated names,
never a raw snake_case key, and no key is dropped (each rule module labels what it writes)."""

from __future__ import annotations

import datetime as dt
import html
import json
import re

import pytest
from django.utils import timezone
from django.utils.text import capfirst

from alerts.models import Alert
from alerts.report.services import _evidence as report_evidence
from alerts.rules import RULES
from alerts.selectors import REPORT_RULE, evidence_labels
from tests.alerts.fakes import FakeHistory, at, export, signin
from tests.alerts.test_rules_scenario import OFFICE, PEOPLE, TENANT, bad_morning, judge, routine
from tests.alerts.triage_support import quiet_detector  # noqa: F401
from tests.alerts.triage_support import signin as record_signin

pytestmark = pytest.mark.django_db


def real_evidence() -> dict[str, dict]:
    """One finding's evidence per rule, from the rules themselves over the scenario's morning."""
    month, morning = routine(), bad_morning()
    night = signin("2026-12-01 01:10", user_id=8, login=PEOPLE[8], **OFFICE)  # 02:10 in Berlin
    history = FakeHistory([*month, *morning, night])
    found = {f.rule: f.evidence for f in judge([*morning, night], history)}
    usual = [export(at("2026-11-02 10:00") + dt.timedelta(days=d), 300) for d in range(28)]
    big = export("2026-12-01 07:50", 40_000)
    module = RULES["mass_export"]
    [finding] = module.evaluate_export(big, FakeHistory(month, exports=[*usual, big]),
                                       module.params_from({}), TENANT)
    found["mass_export"] = finding.evidence
    return {rule: json.loads(json.dumps(evidence)) for rule, evidence in found.items()}


def test_every_rule_labels_every_key_it_writes():
    evidence = real_evidence()
    assert set(evidence) == set(RULES)
    for rule, figures in evidence.items():
        assert set(figures) <= set(evidence_labels(rule)), rule


def _names(page: str) -> list[str]:
    return [html.unescape(n) for n in re.findall(r'<dt data-testid="figure-name">([^<]*)</dt>',
                                                 page)]


def test_no_raw_key_reaches_the_page_for_any_rule(two_tenants, signed_in):
    a = two_tenants.a
    evidence = real_evidence()
    event = record_signin(a.member)
    evidence[REPORT_RULE] = json.loads(json.dumps(report_evidence(event, "email", timezone.now())))
    client = signed_in(a.auditor)
    for rule, figures in evidence.items():
        now = timezone.now()
        alert = Alert.objects.create(tenant=a.tenant, rule=rule, severity="high", user=a.member,
                                     dedup_key=f"labels:{rule}", evidence=figures,
                                     first_seen=now, last_seen=now, count=1)
        page = client.get(f"/alerts/{alert.pk}/").content.decode()
        names = _names(page)
        labels = evidence_labels(rule)
        assert sorted(names) == sorted(capfirst(str(labels[key])) for key in figures), rule
        for name in names:
            assert "_" not in name, (rule, name)
        # Nor the old rendering of a snake_case key ("Ip count" for ip_count).
        assert not set(names) & {key.replace("_", " ").capitalize() for key in figures
                                 if "_" in key}, rule
        assert "True" not in re.findall(r'<dd class="mono">([^<]*)</dd>', page)
    assert "the “Was this you?” e-mail" in page  # how the person reported, in words


def test_a_key_of_an_older_evidence_version_is_left_out(two_tenants, signed_in):
    a = two_tenants.a
    now = timezone.now()
    alert = Alert.objects.create(tenant=a.tenant, rule="brute_force", severity="high",
                                 user=a.member, dedup_key="labels:old",
                                 evidence={"failures": 12, "some_old_key": 3},
                                 first_seen=now, last_seen=now, count=1)
    page = signed_in(a.admin).get(f"/alerts/{alert.pk}/").content.decode()
    assert _names(page) == ["Failures"]
    assert "some_old_key" not in page and "some old key" not in page.lower()
