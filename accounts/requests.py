"""The request a console view receives, for the type checker.

``tenants.access.requires(Cap.X)`` lets a view run only for a signed-in person of an active
tenant, and ``TenantMiddleware`` has set ``request.tenant`` to that person's tenant. Annotating
such a view's ``request`` as ``ConsoleRequest`` says so to mypy; nothing changes at run time.
"""

from __future__ import annotations

from django.http import HttpRequest

from accounts.models import User
from tenants.models import Tenant


class ConsoleRequest(HttpRequest):
    user: User  # narrowed from User | AnonymousUser by @requires
    tenant: Tenant
