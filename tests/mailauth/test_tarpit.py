"""Tarpitting: past the soft lockout threshold a mail client waits (Dovecot's ``status > 0``)
instead of being refused, and every attempt is still recorded once."""

from __future__ import annotations

import re

import pytest

from accounts.mailclients.services import mail_client_password_create
from security.mailauth.tarpit import tarpit_seconds
from tests.mailauth.clients import imap_login
from tests.mailauth.test_dovecot import WRONG, _events


def _tarpits(log: str) -> list[int]:
    return [int(n) for n in re.findall(r"Policy check action is tarpit (\d+) second", log)]


def test_the_delay_starts_at_half_the_limit_and_doubles_until_the_lockout():
    # The default address limit 5: nothing for 0-1 failures, then 1, 2, 4 s; refused at 5.
    got = [tarpit_seconds(address_failures=f, address_limit=5, account_failures=0, account_ceiling=30,
                          cap=15) for f in range(7)]
    assert got == [0, 0, 1, 2, 4, 0, 0]
    # The account across addresses: from half the ceiling, capped.
    got = [tarpit_seconds(address_failures=0, address_limit=5, account_failures=f, account_ceiling=30,
                          cap=15) for f in (14, 15, 16, 18, 19, 29, 30)]
    assert got == [0, 1, 2, 8, 15, 15, 0]
    assert tarpit_seconds(address_failures=3, address_limit=5, account_failures=15, account_ceiling=30,
                          cap=15) == 2  # the larger of the two
    assert tarpit_seconds(address_failures=4, address_limit=5, account_failures=0, account_ceiling=30,
                          cap=0) == 0  # off


@pytest.mark.django_db(transaction=True)
def test_a_client_past_the_soft_threshold_is_delayed_and_still_signs_in_and_is_recorded_once(
        two_tenants, dovecot, settings):
    settings.MAILADMIN_MAIL_TARPIT_MAX_SECONDS = 15
    member = two_tenants.a.member
    _row, plaintext = mail_client_password_create(user=member, name="Phone")
    source = "127.0.0.7"
    already = len(_tarpits(dovecot.log()))
    for _ in range(2):  # under the soft threshold (2 of the default 5): no delay yet
        assert not imap_login(dovecot.imap_port, member.email, WRONG, source=source)
    _events(member, expected=2)
    assert _tarpits(dovecot.log())[already:] == []
    # Past it, the right password waits a second, then works: tarpitted, not refused.
    assert imap_login(dovecot.imap_port, member.email, plaintext, source=source)
    events = _events(member, expected=3)
    assert _tarpits(dovecot.log())[already:] == [1], dovecot.log()[-2000:]
    # A success adds no failure: the next guess waits as long, and each failure after doubles it.
    for expected in (4, 5):
        assert not imap_login(dovecot.imap_port, member.email, WRONG, source=source)
        events = _events(member, expected=expected)
    assert _tarpits(dovecot.log())[already:] == [1, 1, 2]
    # One row per attempt, the tarpitted ones included.
    failure = ("imap", "failure", "bad_credentials", source)
    assert [(e.protocol, e.outcome, e.reason, e.ip) for e in events] == [
        failure, failure, ("imap", "success", "", source), failure, failure]
    # Another address of the same person is not slowed down.
    assert imap_login(dovecot.imap_port, member.email, plaintext, source="127.0.0.8")
    _events(member, expected=6)
    assert _tarpits(dovecot.log())[already:] == [1, 1, 2]
