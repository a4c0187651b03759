"""A real sweep process killed with SIGKILL midway: the next sweep ends exactly where an
uninterrupted one would, with every purged row counted once in the daily aggregates."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
from django.db import connection
from django.utils import timezone

from activity.models import LoginEvent
from retention.models import Metric, RolledUpDay, SweepRun
from retention.selectors import activity_totals
from retention.sweep import retention_sweep
from tests.factories import TenantFactory, UserFactory
from tests.retention.support import exports, sign_ins

pytestmark = pytest.mark.django_db(transaction=True)

ROOT = Path(__file__).resolve().parents[2]


def _test_database_url() -> str:
    parts = urlsplit(os.environ["DATABASE_URL"])
    return urlunsplit(parts._replace(path="/" + connection.settings_dict["NAME"]))


def test_a_sweep_killed_with_sigkill_midway_is_finished_by_the_next_one():
    now = timezone.now()
    tenants = []
    for slug in ("kill-a", "kill-b"):
        tenant = TenantFactory(name=slug, slug=slug, domain=f"{slug}.example")
        person = UserFactory(tenant=tenant, role="member", email=f"p@{slug}.example")
        sign_ins(tenant, person, [now - dt.timedelta(days=185 + n, hours=n % 5) for n in range(30)])
        sign_ins(tenant, person, [now - dt.timedelta(days=n) for n in range(1, 6)])
        exports(tenant, person, [now - dt.timedelta(days=190 + n) for n in range(4)])
        tenants.append(tenant)
    cutoff = dt.datetime.combine((now - dt.timedelta(days=180)).astimezone(dt.UTC).date(), dt.time(),
                                 tzinfo=dt.UTC)
    young = set(LoginEvent.objects.filter(occurred_at__gte=cutoff).values_list("id", flat=True))
    total = LoginEvent.objects.count()
    since, until = dt.date(2020, 1, 1), now.date()
    before = [activity_totals(tenant=t, since=since, until=until) for t in tenants]

    env = {**os.environ, "DATABASE_URL": _test_database_url(), "DJANGO_SETTINGS_MODULE": "mailadmin.settings",
           "RETENTION_SWEEP_BATCH_SIZE": "2", "RETENTION_SWEEP_PAUSE_MS": "200"}
    sweeper = subprocess.Popen([sys.executable, "manage.py", "sweep_retention", "--no-progress"],
                               cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and sweeper.poll() is None:
            deleted = total - LoginEvent.objects.count()
            if RolledUpDay.objects.exists() and 0 < deleted < total - len(young) - 4:
                break
            time.sleep(0.05)
        assert sweeper.poll() is None, "the sweep ended before it could be killed midway"
        sweeper.send_signal(signal.SIGKILL)
        sweeper.wait(timeout=10)
    finally:
        if sweeper.poll() is None:
            sweeper.kill()
    killed = SweepRun.objects.get()
    assert killed.status == SweepRun.Status.RUNNING and killed.finished_at is None
    assert LoginEvent.objects.filter(occurred_at__lt=cutoff).exists()  # it stopped midway

    run = retention_sweep(pause_seconds=0)
    assert run.status == SweepRun.Status.COMPLETED
    killed.refresh_from_db()
    assert killed.status == SweepRun.Status.INTERRUPTED
    assert set(LoginEvent.objects.values_list("id", flat=True)) == young
    after = [activity_totals(tenant=t, since=since, until=until) for t in tenants]
    for old, new in zip(before, after, strict=True):
        for metric in Metric.values:
            assert new.total(metric) == old.total(metric), metric
        assert new.total(Metric.SIGNINS_BY_OUTCOME) == {"success": 35}
