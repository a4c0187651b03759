"""The abstract base of the one-row-per-tenant policy models."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy

from tenants.models import TenantOwned


class TenantPolicy(TenantOwned):
    """A tenant's settings of one policy, and who changed them last.

    A tenant without a row has the model's defaults: selectors return an unsaved instance, and
    the update service creates the row on the first save (``security.policies.support``). The
    one-per-tenant constraint is declared on each model with ``one_per_tenant``: its name is part
    of the schema, so it cannot be derived here without a migration.
    """

    updated_at = models.DateTimeField(gettext_lazy("updated"), auto_now=True)
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True,
                                   blank=True, related_name="+", verbose_name=gettext_lazy("updated by"))

    class Meta:
        abstract = True


def one_per_tenant(name: str) -> models.UniqueConstraint:
    return models.UniqueConstraint(fields=["tenant"], name=name)
