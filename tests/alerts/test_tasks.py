"""Detection off the request path: eager when embedded, the beat task with a worker, and sign-ins
that never depend on Redis."""

from __future__ import annotations

import contextlib
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.core.cache import cache
from django.test import Client

from activity.models import LoginEvent
from alerts.models import Alert, DetectionCursor
from alerts.tasks import alerts_detect_task
from mailadmin.celery import app
from tests.factories import PASSWORD


def _attempt(email: str, password: str, ip: str) -> int:
    return Client(REMOTE_ADDR=ip).post("/signin/", {"email": email, "password": password}).status_code


@pytest.mark.django_db(transaction=True)
def test_embedded_detection_runs_right_after_the_sign_in_commits(two_tenants, settings):
    settings.ALERTS_DETECT_EAGER = True
    owner = two_tenants.a.owner
    for i in range(10):
        assert _attempt(owner.email, "wrong-password", f"127.0.0.{i + 1}") == 200
    alert = Alert.objects.for_tenant(two_tenants.a.tenant).get(rule="brute_force")
    assert alert.count == 10
    assert not Alert.objects.for_tenant(two_tenants.b.tenant).exists()


@pytest.mark.django_db(transaction=True)
def test_with_a_worker_the_request_never_detects_and_beat_does(two_tenants, settings):
    settings.ALERTS_DETECT_EAGER = False
    owner = two_tenants.a.owner
    for i in range(10):
        _attempt(owner.email, "wrong-password", f"127.0.0.{i + 1}")
    assert not Alert.objects.exists()
    assert app.conf.beat_schedule["alerts-detect"]["task"] == "alerts.detect"
    assert app.conf.beat_schedule["alerts-detect"]["schedule"] <= 2.0

    assert alerts_detect_task() == 10
    assert Alert.objects.for_tenant(two_tenants.a.tenant).get(rule="brute_force").count == 10
    assert alerts_detect_task() == 0  # nothing new: nothing read twice


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class OwnRedis:
    """A redis-server of this test's own, so stopping it disturbs no other test."""

    def __init__(self, workdir: Path) -> None:
        self.port = _free_port()
        self.workdir = workdir
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        binary = shutil.which("redis-server")
        assert binary, "redis-server is required (make test installs it)"
        self.process = subprocess.Popen(
            [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", str(self.workdir)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", self.port), 0.2) as s:
                s.sendall(b"PING\r\n")
                if s.recv(16).startswith(b"+PONG"):
                    return
            time.sleep(0.05)
        raise AssertionError("redis-server did not start")

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)
            self.process = None

    def is_up(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), 0.2):
                return True
        except OSError:
            return False


@pytest.fixture
def own_redis(tmp_path: Path, settings) -> Iterator[OwnRedis]:
    redis = OwnRedis(tmp_path)
    redis.start()
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache",
                                   "LOCATION": redis.url,
                                   "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5}}}
    settings.CELERY_BROKER_URL = redis.url
    yield redis
    redis.stop()


@pytest.mark.django_db(transaction=True)
def test_with_redis_stopped_1000_sign_ins_succeed_and_every_alert_is_detected_after_restart(
        two_tenants, settings, own_redis):
    settings.ALERTS_DETECT_EAGER = False  # the compose deployment: a worker and beat
    cache.set("probe", "up")
    assert cache.get("probe") == "up"
    own_redis.stop()
    assert not own_redis.is_up()

    acme = two_tenants.a
    people = [acme.admin, acme.auditor, acme.helpdesk, acme.member, two_tenants.b.member]
    statuses = []
    for i in range(980):
        statuses.append(_attempt(people[i % len(people)].email, PASSWORD, f"127.0.{i % 200}.{i % 250 + 1}"))
    # Someone guessing the owner's password from twenty addresses.
    refusals = [_attempt(acme.owner.email, f"guess-{i}", f"127.1.0.{i + 1}") for i in range(20)]

    assert statuses == [302] * 980
    assert refusals == [200] * 20
    assert LoginEvent.objects.filter(outcome="success").count() == 980
    assert LoginEvent.objects.filter(attempted_login=acme.owner.email, outcome="failure").count() == 20
    assert not Alert.objects.exists()

    own_redis.start()
    alerts_detect_task()

    alert = Alert.objects.for_tenant(acme.tenant).get(rule="brute_force", user=acme.owner)
    assert alert.count >= 10
    newest = LoginEvent.objects.order_by("-id").values_list("id", flat=True)[0]
    for tenant in (acme.tenant, two_tenants.b.tenant):
        cursor = DetectionCursor.objects.for_tenant(tenant).get(kind="signin")
        assert cursor.last_id == LoginEvent.objects.for_tenant(tenant).order_by("-id")[0].pk <= newest
