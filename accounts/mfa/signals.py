"""What the MFA services tell the layers above them (the audit trail), without importing them.

``mfa_changed`` is sent inside the change's transaction, so whatever a receiver writes commits or
rolls back with it. Keyword arguments: ``user`` (the person whose devices changed, who made the
change themselves), ``change`` (``totp_added``, ``totp_removed``, ``passkey_added``,
``passkey_removed``, ``backup_codes_regenerated``)
and ``detail`` (the authenticator's name, or ""). An administrator's reset is not sent: its
service (``people.services.person_mfa_reset``) records it with the administrator as the actor.
"""

from __future__ import annotations

from django.dispatch import Signal

mfa_changed = Signal()

# An administrator reset a person's two-step sign-in (``mfa_devices_reset``), sent inside its
# transaction. Keyword argument: ``user`` (the person). The audit entry is the administrator's
# service's; the e-mail to the person is a receiver's (``notifications.receivers``).
mfa_reset = Signal()
