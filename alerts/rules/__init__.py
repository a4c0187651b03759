"""The anomaly rules: one module each, every one a pure function of an event and its history.

``RULES`` maps each detector rule's code to its module, in the order the settings page lists
them. Every module exposes ``CODE``, ``TITLE``, ``DEFAULT_SEVERITY``, ``EVENT_KIND`` ("signin",
or "export" for mass export), ``Params`` (frozen, the issue's defaults), ``params_from(data)``
(raises ``ValidationError({field: [message]})``), ``PARAM_FIELDS`` (field -> (label, kind,
help)), ``NEEDS`` (the History methods it calls), ``lookback(params)`` (how far before an event it
reads), ``evaluate(event, history, params, tenant)`` (mass export: ``evaluate_export`` over export
samples) and ``describe(evidence)``. "This wasn't me" alerts are raised by the person's report
(``alerts.report``), not by a rule here.
"""

from __future__ import annotations

from types import ModuleType

from alerts.rules import (
    blocked_by_policy,
    brute_force,
    dormant_account,
    impossible_travel,
    mass_export,
    new_country,
    new_device,
    password_spray,
    success_after_failures,
    unusual_hour,
)

RULES: dict[str, ModuleType] = {
    module.CODE: module
    for module in (
        new_device, new_country, impossible_travel, unusual_hour, brute_force, password_spray,
        success_after_failures, blocked_by_policy, dormant_account, mass_export,
    )
}
