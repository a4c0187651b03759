"""security's models, one module per concept."""

from __future__ import annotations

from security.models.sessions import UserSession

__all__ = ["UserSession"]
