"""Tenant policies: one module per policy (model + pure ``evaluate``)."""
