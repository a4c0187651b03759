"""Test harness: a real PostgreSQL 15 and a real Redis for the whole pytest session.

Loaded with ``-p tests.harness`` (pyproject addopts) so it runs before pytest-django reads the
settings. PostgreSQL runs from the machine's binaries in a temporary directory, fsync off, as
the ``postgres`` user when we are root (pg_ctl refuses root). xdist workers inherit the
controller's environment and start nothing. ``MAILADMIN_TEST_DATABASE_URL`` and
``MAILADMIN_TEST_REDIS_URL`` point the suite at servers you already run instead.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Generator
from pathlib import Path

import pytest

PG_BINDIR = Path(os.environ.get("PG_BINDIR", "/usr/lib/postgresql/15/bin"))
_cleanups: list[object] = []


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _as_postgres(cmd: list[str]) -> list[str]:
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *cmd]
    return cmd


def _start_postgres(workdir: Path) -> str:
    if not (PG_BINDIR / "postgres").exists():
        raise pytest.UsageError(
            f"PostgreSQL server binaries not found in {PG_BINDIR}. `make test` installs them "
            "(apt-get install postgresql-15) when run as root."
        )
    data = workdir / "pgdata"
    if os.geteuid() == 0:
        pg = pwd.getpwnam("postgres")
        os.chown(workdir, pg.pw_uid, pg.pw_gid)
    workdir.chmod(0o755)
    subprocess.run(
        _as_postgres([str(PG_BINDIR / "initdb"), "-D", str(data), "-U", "postgres", "-A", "trust",
                      "-E", "UTF8", "--locale=C", "--no-sync"]),
        check=True, capture_output=True,
    )
    port = _free_port()
    options = (f"-p {port} -k {workdir} -c listen_addresses=127.0.0.1 -c fsync=off "
               "-c synchronous_commit=off -c full_page_writes=off -c max_connections=200")
    subprocess.run(
        _as_postgres([str(PG_BINDIR / "pg_ctl"), "-D", str(data), "-l", str(workdir / "pg.log"),
                      "-o", options, "-w", "-t", "60", "start"]),
        check=True, capture_output=True,
    )
    _cleanups.append(lambda: subprocess.run(
        _as_postgres([str(PG_BINDIR / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"]),
        capture_output=True, check=False,
    ))
    return f"postgres://postgres@127.0.0.1:{port}/mailadmin"


def _start_redis(workdir: Path) -> str:
    binary = shutil.which("redis-server")
    if binary is None:
        raise pytest.UsageError(
            "redis-server not found. `make test` installs it (apt-get install redis-server) when run as root."
        )
    port = _free_port()
    proc = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
         "--dir", str(workdir)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    _cleanups.append(proc.terminate)
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2) as sock:
            sock.sendall(b"PING\r\n")
            if sock.recv(16).startswith(b"+PONG"):
                return f"redis://127.0.0.1:{port}/0"
        time.sleep(0.05)
    raise pytest.UsageError("redis-server did not start")


def _test_environment(database_url: str, redis_url: str) -> dict[str, str]:
    return {
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "SECRET_KEY": "test-secret-key-" + "k" * 40,
        "ALLOWED_HOSTS": "localhost,127.0.0.1,testserver",
        "DEBUG": "0",
        "SECURE_SSL_REDIRECT": "0",
        "SECURE_COOKIES": "0",
        "STATIC_MANIFEST": "0",
        "CELERY_TASK_ALWAYS_EAGER": "1",
        "FIELD_ENCRYPTION_KEYS": "Xo8gGk8g0mbJ6ae1mJ7k2tqKk2v2y3zJq2zvGJ3e6Ww=",
        "PUBLIC_BASE_URL": "http://testserver",
    }


@pytest.hookimpl(wrapper=True)
def pytest_load_initial_conftests(early_config: pytest.Config) -> Generator[None]:
    if not os.environ.get("PYTEST_XDIST_WORKER") and not os.environ.get("MAILADMIN_HARNESS_UP"):
        workdir = Path(tempfile.mkdtemp(prefix="mailadmin-test-"))
        _cleanups.append(lambda: shutil.rmtree(workdir, ignore_errors=True))
        database_url = os.environ.get("MAILADMIN_TEST_DATABASE_URL") or _start_postgres(workdir)
        redis_url = os.environ.get("MAILADMIN_TEST_REDIS_URL") or _start_redis(workdir)
        os.environ.update(_test_environment(database_url, redis_url))
        (workdir / "static").mkdir()
        os.environ["STATIC_ROOT"] = str(workdir / "static")
        os.environ["MAILADMIN_HARNESS_UP"] = "1"
    return (yield)


def pytest_unconfigure(config: pytest.Config) -> None:
    while _cleanups:
        cleanup = _cleanups.pop()
        with contextlib.suppress(Exception):
            cleanup()  # type: ignore[operator]
