from __future__ import annotations

from django.apps import AppConfig


class SecurityConfig(AppConfig):
    name = "security"

    def ready(self) -> None:
        """Audit-trail registration and the policy-version receivers; idempotent."""
        # Models (and auditlog's registry, which reads them) are importable only once apps are ready.
        from auditlog.registry import auditlog

        from security.models import POLICY_MODELS, NetworkAllowEntry
        from security.policies.cache import connect_policy_models

        # Every change to a policy is an admin's decision and an audit entry; updated_at moves on
        # every save and the entry's own timestamp says when. Allowlist entries are audited through
        # their policy, one entry per save (security.policies.network.services). Password hashes
        # and per-person state are deliberately not registered: the trail records admins'
        # decisions, not people's credentials.
        for model in POLICY_MODELS:
            if not auditlog.contains(model):
                auditlog.register(model, exclude_fields=["updated_at"])
        connect_policy_models([*POLICY_MODELS, NetworkAllowEntry])
