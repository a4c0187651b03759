"""Audit-trail registration for the access policies (network allowlist, sign-in hours).

Called from ``SecurityConfig.ready`` (registration belongs in app loading, not at import of a
model module). Idempotent, so tests may call it too.
"""

from __future__ import annotations

from auditlog.registry import auditlog


def register_access_policies() -> None:
    from security.policies.hours import SignInHoursPolicy
    from security.policies.network import NetworkAllowEntry, NetworkPolicy

    # updated_at changes on every save; the diff worth reading is in the other fields.
    for model, exclude in ((NetworkPolicy, ["updated_at"]), (NetworkAllowEntry, []),
                           (SignInHoursPolicy, ["updated_at"])):
        if not auditlog.contains(model):
            auditlog.register(model, exclude_fields=exclude)
