from __future__ import annotations

import time

import pytest
from django.core.cache import cache

from mailadmin import health

pytestmark = pytest.mark.django_db


def test_healthz_answers_json(client):
    response = client.get("/healthz")
    assert response.status_code == 200 and response.json() == {"status": "ok"}


def test_readyz_reports_database_redis_and_stale_beat(client):
    import redis
    from django.conf import settings

    redis.Redis.from_url(settings.REDIS_URL).delete(health.BEAT_KEY)
    response = client.get("/readyz")
    body = response.json()
    assert body["checks"]["database"]["ok"] is True
    assert body["checks"]["redis"]["ok"] is True
    assert body["checks"]["beat"]["ok"] is False  # no heartbeat yet
    assert response.status_code == 503


def test_readyz_ready_after_beat_heartbeat(client):
    from mailadmin.tasks import beat_heartbeat_task

    beat_heartbeat_task.delay()
    response = client.get("/readyz")
    assert response.status_code == 200, response.json()
    assert response.json()["checks"]["beat"]["age_seconds"] < 5


def test_readyz_when_redis_is_down(client, settings):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"
    started = time.monotonic()
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"]["redis"]["ok"] is False
    assert time.monotonic() - started < 5  # bounded timeouts, not a hang
    cache.clear()
