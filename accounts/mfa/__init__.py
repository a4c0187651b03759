"""Multi-factor authentication: TOTP devices with encrypted keys and one-time backup codes.

Public entry points live in ``accounts.mfa.services`` (writes) and ``accounts.mfa.selectors``
(reads); the sign-in pipeline uses those and the reusable ``MfaCodeForm``.
"""
