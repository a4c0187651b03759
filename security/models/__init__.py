"""security's models, one module per concept."""

from __future__ import annotations

from security.models.sessions import UserSession

__all__ = ["UserSession"]
from security.policies.hours import SignInHoursPolicy
from security.policies.network import NetworkAllowEntry, NetworkPolicy

__all__ += ["NetworkAllowEntry", "NetworkPolicy", "SignInHoursPolicy"]
