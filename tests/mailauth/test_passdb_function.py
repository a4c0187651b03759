"""The passdb's lookup function answers exactly what the view answers to Dovecot's query, and
only to those it is granted to (security/migrations/0014_mail_passdb_lookup_function.py)."""

from __future__ import annotations

import hashlib

import pytest
from django.db import connection

from accounts.mailclients.services import mail_client_password_create, mail_client_password_revoke

pytestmark = [pytest.mark.django_db,
              pytest.mark.skipif(connection.vendor != "postgresql", reason="the passdb is PostgreSQL's")]

VIEW_QUERY = ("SELECT login, password, mail_client_id FROM mailadmin_mail_passdb "
              "WHERE login = %s AND (digest = %s OR digest IS NULL) ORDER BY digest IS NULL LIMIT 1")
FUNCTION_QUERY = "SELECT login, password, mail_client_id FROM mailadmin_mail_passdb_lookup(%s, %s)"


def _both(login: str, digest: str) -> tuple[list[tuple[object, ...]], list[tuple[object, ...]]]:
    with connection.cursor() as cursor:
        cursor.execute(VIEW_QUERY, [login, digest])
        view = cursor.fetchall()
        cursor.execute(FUNCTION_QUERY, [login, digest])
        function = cursor.fetchall()
    return view, function


def test_the_function_returns_the_views_row_for_every_kind_of_attempt(two_tenants):
    member, admin = two_tenants.a.member, two_tenants.a.admin
    row, plaintext = mail_client_password_create(user=member, name="Phone")
    old, old_plaintext = mail_client_password_create(user=member, name="Old phone")
    mail_client_password_revoke(user=member, password_id=old.pk)
    digest = hashlib.sha256(plaintext.encode()).hexdigest()
    cases = {
        "the client password": (member.email, digest),
        "a revoked one": (member.email, hashlib.sha256(old_plaintext.encode()).hexdigest()),
        "a wrong one": (member.email, "0" * 64),
        "another person's address": (admin.email, digest),
        "an unknown address": ("nobody@a.example", digest),
    }
    for _ in range(7):  # past PL/pgSQL's first custom plans: the kept plan answers the same
        for name, (login, sent) in cases.items():
            view, function = _both(login, sent)
            assert function == view, name
    assert _both(member.email, digest)[1] == [(member.email, "{SHA256.HEX}" + digest, row.pk)]
    # A revoked password gets no row of its own: the account password's row, or nothing.
    assert all(pk is None for _, _, pk in _both(*cases["a revoked one"])[1])


def test_nobody_but_its_owner_may_call_the_function_until_granted():
    with connection.cursor() as cursor:
        cursor.execute("SELECT has_function_privilege('public', "
                       "'mailadmin_mail_passdb_lookup(text, text)', 'EXECUTE'), "
                       "has_function_privilege(current_user, 'mailadmin_mail_passdb_lookup(text, text)', 'EXECUTE')")
        assert cursor.fetchone() == (False, True)
