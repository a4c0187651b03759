"""Invitation links open the console that sent them: embedded, PUBLIC_BASE_URL follows
``make run PORT=…``; an explicit PUBLIC_BASE_URL (production) always wins."""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# The harness's PostgreSQL environment: without it, settings are the embedded default.
_HARNESS_VARS = {"DATABASE_URL", "REDIS_URL", "SECRET_KEY", "ALLOWED_HOSTS", "DEBUG",
                 "SECURE_SSL_REDIRECT", "SECURE_COOKIES", "STATIC_MANIFEST", "STATIC_ROOT",
                 "CELERY_TASK_ALWAYS_EAGER", "FIELD_ENCRYPTION_KEYS", "PUBLIC_BASE_URL",
                 "DJANGO_SETTINGS_MODULE", "MAILADMIN_PORT", "PORT"}


def _embedded_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in _HARNESS_VARS}
    env["MAILADMIN_SQLITE_PATH"] = str(tmp_path / "links.sqlite3")
    env.update(extra)
    return env


def _server_start(port: int) -> tuple[list[str], str]:
    """How ``make run PORT=…`` starts the console (printed by ``make -n``, run by nobody): the
    ``VAR=value`` words before ``python manage.py runserver``, and the address it serves."""
    printed = subprocess.run(["make", "-n", "run", f"PORT={port}"], cwd=ROOT, check=True,
                             capture_output=True, text=True, timeout=60).stdout
    lines = [line for line in printed.splitlines() if "manage.py runserver" in line]
    assert len(lines) == 1, printed
    words = shlex.split(lines[0])
    return [w for w in words[:words.index("manage.py")] if "=" in w], words[-1]


def _invitation_url(env: dict[str, str], assignments: list[str]) -> str:
    """The link an invitation e-mail carries, under the settings this environment gives."""
    for assignment in assignments:
        name, _, value = assignment.partition("=")
        env[name] = value
    code = ("import django; django.setup(); "
            "from people.services import IssuedInvitation; "
            "print(IssuedInvitation(invitation=None, token='TOKEN').url)")
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, check=True,
                          capture_output=True, text=True, timeout=120).stdout.strip()


@pytest.mark.parametrize("port", [8000, 8301])
def test_make_run_invitation_links_point_at_the_port_it_serves(tmp_path, port):
    assignments, address = _server_start(port)
    assert address == f"127.0.0.1:{port}"
    env = _embedded_env(tmp_path, DJANGO_SETTINGS_MODULE="mailadmin.settings")
    assert _invitation_url(env, assignments) == f"http://127.0.0.1:{port}/invitation/TOKEN/"


def test_an_explicit_public_base_url_wins_over_the_port(tmp_path):
    assignments, _ = _server_start(8301)
    env = _embedded_env(tmp_path, DJANGO_SETTINGS_MODULE="mailadmin.settings",
                        PUBLIC_BASE_URL="https://console.example.com/")
    assert _invitation_url(env, assignments) == "https://console.example.com/invitation/TOKEN/"
