"""SMTP submission through Dovecot's submission service, with a client-specific password.

smtplib AUTHs against Dovecot (the same SQL passdb and policy server as IMAP), which relays the
message to the test's aiosmtpd server; the attempt is one LoginEvent with protocol
``submission``. (Postfix's SMTP AUTH through Dovecot SASL goes through the same auth process and
policy server; Dovecot names that protocol ``smtp``, recorded as ``submission`` as well.)
"""

from __future__ import annotations

import pytest

from accounts.mailclients.services import mail_client_password_create
from tests.mailauth.clients import smtp_submit
from tests.mailauth.test_dovecot import WRONG, _events

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_client_password_submits_mail_and_the_attempt_is_one_submission_event(two_tenants, dovecot):
    member = two_tenants.a.member
    _row, plaintext = mail_client_password_create(user=member, name="Outlook")
    before = len(dovecot.relay.messages)
    assert smtp_submit(dovecot.submission_port, member.email, plaintext, to="partner@elsewhere.example")
    relayed = dovecot.relay.messages[before:]
    assert [(sender, rcpts) for sender, rcpts, _body in relayed] == [
        (member.email, ["partner@elsewhere.example"])], dovecot.log()[-2000:]
    assert b"Quarterly figures" in relayed[0][2]
    events = _events(member, expected=1)
    assert [(e.protocol, e.outcome, e.reason, e.ip) for e in events] == [
        ("submission", "success", "", "127.0.0.1")]


def test_a_wrong_password_over_submission_fails_is_recorded_and_relays_nothing(two_tenants, dovecot):
    member = two_tenants.a.member
    mail_client_password_create(user=member, name="Outlook")
    before = len(dovecot.relay.messages)
    assert not smtp_submit(dovecot.submission_port, member.email, WRONG, to="partner@elsewhere.example",
                           source="127.0.0.5")
    assert dovecot.relay.messages[before:] == []
    assert [(e.protocol, e.outcome, e.reason, e.ip) for e in _events(member, expected=1)] == [
        ("submission", "failure", "bad_credentials", "127.0.0.5")]
