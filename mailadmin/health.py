"""Liveness and readiness checks (no domain logic: the process, the database, Redis, beat)."""

from __future__ import annotations

import time

from django.conf import settings
from django.db import connection

BEAT_KEY = "mailadmin:beat:heartbeat"


def _redis_client():  # pragma: no cover - trivial
    import redis

    return redis.Redis.from_url(settings.REDIS_URL, socket_timeout=0.5, socket_connect_timeout=0.5)


def beat_heartbeat_write() -> None:
    """Runs in a worker every minute on beat's schedule: proves beat and a worker are alive."""
    if settings.REDIS_URL:
        _redis_client().set(BEAT_KEY, str(time.time()), ex=24 * 3600)


def readiness() -> dict[str, dict[str, object]]:
    checks: dict[str, dict[str, object]] = {}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
        checks["database"] = {"ok": True}
    except Exception as exc:
        checks["database"] = {"ok": False, "error": exc.__class__.__name__}
    if settings.REDIS_URL:
        try:
            client = _redis_client()
            client.ping()
            checks["redis"] = {"ok": True}
            raw = client.get(BEAT_KEY)
            age = time.time() - float(raw) if raw else None
            checks["beat"] = {
                "ok": age is not None and age <= settings.BEAT_HEARTBEAT_MAX_AGE,
                "age_seconds": None if age is None else round(age, 1),
            }
        except Exception as exc:
            checks["redis"] = {"ok": False, "error": exc.__class__.__name__}
    return checks
