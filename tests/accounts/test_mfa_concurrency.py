"""One code works once under concurrent requests; a database dump holds no MFA secret.

These tests commit for real (``transaction=True``): each thread has its own connection, and
pg_dump reads from outside the test's transaction.
"""

from __future__ import annotations

import subprocess
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import time_machine
from django.db import connection, connections

from accounts.mfa import services
from accounts.models import User
from tests.accounts.test_mfa_support import code_for, enroll, hex_of, new_session, secret_of
from tests.factories import TenantFactory, UserFactory

PG_DUMP = Path("/usr/lib/postgresql/15/bin/pg_dump")
THREADS = 20


def _race(user_pk: int, code: str) -> list[str | None]:
    barrier = threading.Barrier(THREADS)

    def attempt(_: int) -> str | None:
        try:
            user = User.objects.select_related("tenant").get(pk=user_pk)
            barrier.wait(timeout=30)
            return services.mfa_verify(user=user, code=code)
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=THREADS) as pool:
        return list(pool.map(attempt, range(THREADS)))


@pytest.mark.django_db(transaction=True)
def test_twenty_concurrent_submissions_of_one_totp_code_succeed_once():
    user = UserFactory(tenant=TenantFactory())
    # Frozen clock (shared by the threads): the code cannot roll over mid-race.
    with time_machine.travel(time.time(), tick=False) as traveller:
        _device, secret = enroll(user)
        traveller.shift(30)
        results = _race(user.pk, code_for(secret))
    assert results.count("totp") == 1, results
    assert results.count(None) == THREADS - 1


@pytest.mark.django_db(transaction=True)
def test_twenty_concurrent_submissions_of_one_backup_code_succeed_once():
    user = UserFactory(tenant=TenantFactory())
    enroll(user)
    codes = services.backup_codes_regenerate(user=user)
    results = _race(user.pk, codes[0])
    assert results.count("backup_code") == 1, results


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(not PG_DUMP.exists(), reason="pg_dump not installed")
def test_database_dump_contains_no_plaintext_key_or_backup_code():
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL")
    user = UserFactory(tenant=TenantFactory())
    _device, secret = enroll(user)
    codes = services.backup_codes_regenerate(user=user)
    # A pending enrolment in a stored session must not leak its key either.
    session = new_session()
    pending = services.totp_enrollment_begin(session=session, user=user)
    session.save()
    pending_secret = secret_of(pending)

    settings = connection.settings_dict
    dump = subprocess.run(
        [str(PG_DUMP), "--no-owner", "-h", settings["HOST"] or "127.0.0.1",
         "-p", str(settings["PORT"] or 5432), "-U", "postgres", settings["NAME"]],
        capture_output=True, check=True, timeout=120,
    ).stdout.decode("utf-8", "replace")
    haystack = dump.lower()
    assert "accounts_encryptedtotpdevice" in haystack and "accounts_backupcode" in haystack
    needles = [secret, hex_of(secret), pending_secret, hex_of(pending_secret)]
    needles += codes + [code.replace("-", "") for code in codes]
    leaked = [n for n in needles if n.lower() in haystack]
    assert leaked == []
