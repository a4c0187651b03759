"""The mail-client switches of a tenant: one ``MailPolicy`` row (the per-person switch is on the User)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy

from security.policies.models import TenantPolicy, one_per_tenant


class MailPolicy(TenantPolicy):
    """Which password mail clients may use, and for which roles mail protocols are off.

    Booleans rather than a list of roles: each is one column the passdb view reads, and the audit
    trail tells a change as "Mail protocols off for members: no → yes" in the reader's language.
    """

    client_passwords_required = models.BooleanField(
        gettext_lazy("client-specific passwords required for everyone"), default=False)
    off_for_owners = models.BooleanField(gettext_lazy("mail protocols off for owners"), default=False)
    off_for_admins = models.BooleanField(gettext_lazy("mail protocols off for administrators"),
                                         default=False)
    off_for_auditors = models.BooleanField(gettext_lazy("mail protocols off for auditors"), default=False)
    off_for_helpdesk = models.BooleanField(gettext_lazy("mail protocols off for helpdesk"), default=False)
    off_for_members = models.BooleanField(gettext_lazy("mail protocols off for members"), default=False)

    class Meta:
        verbose_name = gettext_lazy("mail client policy")
        verbose_name_plural = gettext_lazy("mail client policies")
        constraints = [one_per_tenant("mail_policy_one_per_tenant")]

    def __str__(self) -> str:
        return f"mail client policy of tenant {self.tenant_id}"
