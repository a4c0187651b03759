"""The embedded default end to end: SQLite, eager Celery, demo data, a real HTTP sign-in."""

from __future__ import annotations

import http.cookiejar
import os
import re
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.smoke

# Variables the harness set for the PostgreSQL suite; the embedded default must run without them.
_HARNESS_VARS = {"DATABASE_URL", "REDIS_URL", "SECRET_KEY", "ALLOWED_HOSTS", "DEBUG",
                 "SECURE_SSL_REDIRECT", "SECURE_COOKIES", "STATIC_MANIFEST", "STATIC_ROOT",
                 "CELERY_TASK_ALWAYS_EAGER", "FIELD_ENCRYPTION_KEYS", "PUBLIC_BASE_URL",
                 "DJANGO_SETTINGS_MODULE"}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_embedded_default_migrates_seeds_and_signs_in(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in _HARNESS_VARS}
    env["MAILADMIN_SQLITE_PATH"] = str(tmp_path / "smoke.sqlite3")
    manage = [sys.executable, str(ROOT / "manage.py")]
    subprocess.run([*manage, "migrate", "--noinput", "-v0"], env=env, check=True, cwd=ROOT, timeout=180)
    seeded = subprocess.run([*manage, "seed_demo"], env=env, check=True, cwd=ROOT, timeout=120,
                            capture_output=True, text=True)
    # The demo password as seed_demo prints it (MAILADMIN_DEMO_PASSWORD's default).
    password = re.search(r"owner@acme\.example\s+owner\s+password: (\S+)", seeded.stdout).group(1)
    port = _free_port()
    server = subprocess.Popen([*manage, "runserver", f"127.0.0.1:{port}", "--noreload"], env=env,
                              cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        jar = http.cookiejar.CookieJar()
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                page = opener.open(base + "/signin/", timeout=5).read().decode()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
        data = urllib.parse.urlencode({"csrfmiddlewaretoken": token, "email": "owner@acme.example",
                                       "password": password}).encode()
        request = urllib.request.Request(base + "/signin/", data=data, headers={"Referer": base + "/signin/"})
        dashboard = opener.open(request, timeout=30)
        body = dashboard.read().decode()
        assert dashboard.url.endswith("/dashboard/")
        assert "Dashboard" in body and "Acme" in body
        assert 'data-testid="people-total">10<' in body
        assert opener.open(base + "/static/css/console.css", timeout=5).status == 200
    finally:
        server.terminate()
        server.wait(timeout=10)
