"""Receivers of the lower layers' signals that send e-mails through the outbox."""

from __future__ import annotations

import uuid
from typing import Any

from django.conf import settings
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext_lazy

from accounts.models import User
from notifications.services import email_enqueue

# Subject and sentence of the e-mail each MFA change sends to the person.
_MFA_TEXT = {
    "totp_added": (gettext_lazy("An authenticator app was added to your account"),
                   gettext_lazy("An authenticator app (%(detail)s) was added to your account.")),
    "totp_removed": (gettext_lazy("An authenticator app was removed from your account"),
                     gettext_lazy("An authenticator app (%(detail)s) was removed from your account.")),
    "passkey_added": (gettext_lazy("A passkey was added to your account"),
                      gettext_lazy("A passkey (%(detail)s) was added to your account.")),
    "passkey_removed": (gettext_lazy("A passkey was removed from your account"),
                        gettext_lazy("A passkey (%(detail)s) was removed from your account.")),
    "backup_codes_regenerated": (gettext_lazy("New backup codes were created for your account"),
                                 gettext_lazy("New backup codes were created; the previous ones no longer work.")),
    "mfa_reset": (gettext_lazy("Two-step sign-in was reset on your account"),
                  gettext_lazy("An administrator reset two-step sign-in on your account. "
                               "You will set up an authenticator app at your next sign-in.")),
}


def _mfa_email(*, user: User, change: str, detail: str) -> None:
    tenant = user.tenant
    if tenant is None:  # operators have no tenant and no console MFA e-mails
        return
    subject_text, body_text = _MFA_TEXT[change]
    with translation.override(user.language or tenant.language or "en"):
        subject = str(subject_text)
        body = render_to_string("accounts/mfa/email/change.txt", {
            "user": user, "tenant": tenant, "message": str(body_text) % {"detail": detail},
            "manage_url": settings.PUBLIC_BASE_URL + reverse("mfa_manage"),
        })
        # Each change is its own event: nothing replays a change, so the key only has to be new.
        email_enqueue(tenant=tenant, to=user.email, subject=subject, body=body, user=user,
                      kind=f"mfa.{change}", idempotency_key=f"mfa:{change}:{uuid.uuid4().hex}")


def mfa_change_email(sender: object, *, user: User, change: str, detail: str = "",
                     **kwargs: Any) -> None:
    """``accounts.mfa.signals.mfa_changed``: tell the person, in the change's transaction."""
    _mfa_email(user=user, change=change, detail=detail)


def mfa_reset_email(sender: object, *, user: User, **kwargs: Any) -> None:
    """``accounts.mfa.signals.mfa_reset``: an administrator reset the person's two-step sign-in."""
    if user.status == User.Status.OFFBOARDED:
        return  # offboarding removes the devices: "set it up again at your next sign-in" is untrue
    _mfa_email(user=user, change="mfa_reset", detail="")
