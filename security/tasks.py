from __future__ import annotations

from celery import shared_task

from security.policies.mfa.reminders import mfa_grace_reminders_task
from security.policies.password.reminders import password_expiry_reminders_send
from security.signin.device_cookies import device_cookies_purge_expired

__all__ = ["device_cookies_purge_task", "mfa_grace_reminders_task", "password_expiry_reminders_task"]


@shared_task(name="security.password_expiry_reminders", time_limit=600, soft_time_limit=540)
def password_expiry_reminders_task() -> int:
    """Idempotent (one row per person, threshold and expiry date): safe to run hourly or twice."""
    return password_expiry_reminders_send()


@shared_task(name="security.device_cookies_purge", time_limit=600, soft_time_limit=540)
def device_cookies_purge_task() -> int:
    """Idempotent (deletes only expired rows): safe to run twice or after a killed run."""
    return device_cookies_purge_expired()
