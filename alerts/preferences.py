"""Per-person alert state that is not an alert: the digest opt-out and "Was this you?" links.

Imported by ``alerts/models.py`` so Django registers these models with the app.

``ReportLink`` is the stored half of the signed, single-use link in a "Was this you?" e-mail: the
link carries (tenant, link id, nonce) signed with a salt; the row holds the nonce, the sign-in it
is about, when it expires and when it was used. A tampered link fails the signature, a reused one
finds ``used_at`` set, an old one is past ``expires_at``: each is refused and nothing changes.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tenants.models import TenantOwned


class DigestOptOut(TenantOwned):
    """This security admin does not want the daily alerts digest (high severity still comes)."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                                related_name="alert_digest_opt_out", verbose_name=_("person"))
    created_at = models.DateTimeField(_("since"), default=timezone.now)

    class Meta:
        verbose_name = _("alerts digest opt-out")
        verbose_name_plural = _("alerts digest opt-outs")
        constraints = [
            models.UniqueConstraint(fields=["tenant", "user"], name="alert_digest_opt_out_once"),
        ]

    def __str__(self) -> str:
        return str(self.user_id)


class ReportLink(TenantOwned):
    """One "This wasn't me" link sent in a "Was this you?" e-mail (see the module docstring)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="+", verbose_name=_("person"))
    alert = models.ForeignKey("alerts.Alert", on_delete=models.SET_NULL, null=True, blank=True,
                              related_name="+", verbose_name=_("alert"))
    event_id = models.BigIntegerField(_("sign-in"))  # a LoginEvent id: the record is partitioned
    nonce = models.CharField(_("nonce"), max_length=64)
    created_at = models.DateTimeField(_("sent"), default=timezone.now)
    expires_at = models.DateTimeField(_("expires"))
    used_at = models.DateTimeField(_("used"), null=True, blank=True)

    class Meta:
        verbose_name = _("report link")
        verbose_name_plural = _("report links")
        indexes = [models.Index(fields=["tenant", "user", "-created_at"], name="alert_report_link_user")]

    def __str__(self) -> str:
        return f"{self.user_id} {self.event_id}"
