"""Tarpitting mail sign-ins past the soft lockout threshold (pure, no database).

Dovecot's policy protocol lets ``allow`` answer ``status > 0``: Dovecot waits that many seconds,
then checks the password as usual (and reports it, so the attempt is still recorded once). A
client that keeps guessing slows down long before it is locked out, while a person who mistyped
once or twice is not delayed at all. Two counters, the ones the lockout itself uses:

- the address-and-IP bucket (django-axes, limit ``L`` = the tenant's failure limit, 5 by
  default): from ``L // 2`` failures (at least 1) the delay is 1 s, doubling with each further
  failure until the bucket is locked at ``L`` (refused, no delay). With the default 5: the 3rd
  attempt after 2 failures waits 1 s, then 2 s, then 4 s, then the 6th is refused;
- the account across all addresses (the ceiling ``C``, 30 by default): from ``C // 2`` failures
  1 s, doubling per failure, until the ceiling refuses.

The larger of the two applies, capped at ``MAILADMIN_MAIL_TARPIT_MAX_SECONDS`` (15 by default:
well under Dovecot's own cap of 5 minutes, short enough that a mail client waiting on it does
not give up; 0 turns tarpitting off).
"""

from __future__ import annotations


def _delay(failures: int, limit: int) -> int:
    soft = max(1, limit // 2)
    if failures < soft or failures >= limit:
        return 0  # under the soft threshold, or locked (refused instead)
    return int(2 ** min(failures - soft, 16))


def tarpit_seconds(*, address_failures: int, address_limit: int, account_failures: int,
                   account_ceiling: int, cap: int) -> int:
    """Seconds Dovecot should wait before checking this attempt's password (0: none)."""
    worst = max(_delay(address_failures, address_limit), _delay(account_failures, account_ceiling))
    return max(0, min(cap, worst))
