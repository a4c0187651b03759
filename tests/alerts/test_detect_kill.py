"""The worker killed with SIGKILL in the middle of a batch: no duplicate and no missing alert."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from django.db import connection

from activity.models import LoginEvent
from alerts.models import Alert, DetectionCursor
from tests.alerts.detect_support import START, event, habit, record, snapshot

ROOT = Path(__file__).resolve().parents[2]
BATCH = 20

# The detector in its own process against the test database; with HANG_AT set it stops for good
# inside that batch's transaction, after every write and before the commit.
SCRIPT = textwrap.dedent("""
    import os, sys, time
    import django
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mailadmin.settings")
    django.setup()
    from alerts import detect
    from django.core.management import call_command

    hang_at = int(os.environ.get("HANG_AT", "0"))
    seen = []

    def before_commit(n):
        seen.append(n)
        if len(seen) == hang_at:
            with open(os.environ["MARKER"], "w") as marker:
                marker.write(f"HANGING {len(seen)}")
            time.sleep(600)

    detect.BEFORE_COMMIT = before_commit
    call_command("detect_alerts", "--batch-size", sys.argv[1])
    print("DONE", flush=True)
""")


def _database_url() -> str:
    s = connection.settings_dict
    return f"postgres://{s['USER']}@{s['HOST'] or '127.0.0.1'}:{s['PORT']}/{s['NAME']}"


def _detector(tmp_path: Path, hang_at: int = 0) -> subprocess.Popen[str]:
    # Output goes to files: the console e-mail backend alone could fill a pipe and block it.
    env = {**os.environ, "DATABASE_URL": _database_url(), "HANG_AT": str(hang_at),
           "MARKER": str(tmp_path / "marker")}
    return subprocess.Popen([sys.executable, "-c", SCRIPT, str(BATCH)], cwd=ROOT, env=env,
                            stdout=(tmp_path / "out.log").open("w"),
                            stderr=(tmp_path / "err.log").open("w"), text=True)


def _finished(process: subprocess.Popen[str], tmp_path: Path) -> None:
    process.wait(timeout=120)
    out, err = (tmp_path / "out.log").read_text(), (tmp_path / "err.log").read_text()
    assert process.returncode == 0 and "DONE" in out, err[-3000:]


def _wait_for_killed_transaction_to_end() -> None:
    # PostgreSQL rolls the dead client's transaction back when it notices the closed socket.
    deadline = time.monotonic() + 20
    with connection.cursor() as cursor:
        while time.monotonic() < deadline:
            cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                           " AND pid <> pg_backend_pid() AND state LIKE 'idle in transaction%%'")
            if cursor.fetchone()[0] == 0:
                return
            time.sleep(0.1)
    raise AssertionError("the killed detector's transaction is still open")


@pytest.mark.django_db(transaction=True)
def test_sigkill_mid_batch_then_restart_gives_no_duplicate_and_no_missing_alert(two_tenants, tmp_path):
    acme = two_tenants.a
    habit(acme.tenant, acme.member, days=20)
    rows = []
    # Brute force on five accounts, interleaved so that every batch touches every alert.
    for i in range(60):
        person = [acme.owner, acme.admin, acme.auditor, acme.helpdesk, acme.member][i % 5]
        rows.append(event(tenant=acme.tenant, user=person, outcome="failure",
                          at=START + 30 * dt.timedelta(days=1) + dt.timedelta(seconds=i),
                          ip=f"192.0.2.{i % 5}"))
    rows.append(event(tenant=acme.tenant, user=acme.member, at=START + 31 * dt.timedelta(days=1),
                      browser="Firefox", os="Linux", country="US", ip="203.0.113.7"))
    record(acme.tenant, rows)

    worker = _detector(tmp_path, hang_at=3)
    marker = tmp_path / "marker"
    try:
        deadline = time.monotonic() + 120
        while not marker.exists() and worker.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert marker.exists(), (tmp_path / "err.log").read_text()[-3000:]
        os.kill(worker.pid, signal.SIGKILL)
    finally:
        if worker.poll() is None:
            worker.kill()
        worker.wait(timeout=30)
    assert worker.returncode == -signal.SIGKILL
    _wait_for_killed_transaction_to_end()
    # Two batches committed before the kill; the third left nothing behind.
    ids = sorted(LoginEvent.objects.for_tenant(acme.tenant).values_list("pk", flat=True))
    assert DetectionCursor.objects.for_tenant(acme.tenant).get(kind="signin").last_id == ids[2 * BATCH - 1]
    partial = snapshot(acme.tenant)

    _finished(_detector(tmp_path), tmp_path)
    after_kill = snapshot(acme.tenant)

    # The same record detected from scratch by one uninterrupted run.
    Alert.objects.for_tenant(acme.tenant).delete()
    DetectionCursor.objects.for_tenant(acme.tenant).delete()
    _finished(_detector(tmp_path), tmp_path)
    assert snapshot(acme.tenant) == after_kill
    rules = sorted((a[0], a[6]) for a in after_kill)
    # Five accounts guessed at from one /24: brute force on each, and a spray from the network.
    assert rules == [("brute_force", 12)] * 5 + [("new_country", 1), ("new_device", 1),
                                                 ("password_spray", 60)]
    assert len(partial) < len(after_kill)
