"""Receivers of the lower layers' signals that put their changes in the audit trail."""

from __future__ import annotations

from typing import Any

from accounts.models import User
from activity.services import audit_entry_record

# How the audit trail's "changes" column names each change of a person's own MFA devices.
_MFA_CHANGES = {
    "totp_added": "authenticator added: {detail}",
    "totp_removed": "authenticator removed: {detail}",
    "backup_codes_regenerated": "backup codes regenerated",
    "passkey_added": "passkey added: {detail}",
    "passkey_removed": "passkey removed: {detail}",
}


def mfa_change_record(sender: object, *, user: User, change: str, detail: str = "",
                      **kwargs: Any) -> None:
    """``accounts.mfa.signals.mfa_changed``: the person changed their own MFA devices."""
    audit_entry_record(obj=user, actor=user,
                       changes={"mfa": ["", _MFA_CHANGES[change].format(detail=detail)]})
