"""Mail sign-in: IMAP LOGIN through Dovecot with our policy server and passdb vs a plain Dovecot.

Two Dovecot 2.3 instances (Debian's packages, the binary the tests use) run side by side on
loopback, configured by the test harness's renderer (tests/mailauth/dovecot_config.py, the
templates of docker/dovecot/):

- **baseline** — Dovecot with a static ``passwd-file`` holding the same person and the same
  ``{SHA256.HEX}`` client password, and no policy server: the fastest a Dovecot answers LOGIN.
- **ours** — Dovecot with mailadmin's part (``mailadmin.conf``): the SQL passdb over the view
  ``mailadmin_mail_passdb`` on a throwaway PostgreSQL 15, and the authentication policy server
  ``/mailauth/policy`` (``allow`` before the password, ``report`` after) served by gunicorn with
  the flags of docker/Dockerfile's ``CMD`` (gthread workers, ``--workers`` = ``WEB_CONCURRENCY``,
  default 3), not Django's test server. The tenant has every mail-relevant policy on: a network
  allowlist of 50 CIDRs in enforce mode (the client's last), sign-in hours in enforce mode
  covering the whole week, a lockout policy with an account ceiling.

Each round opens an IMAP connection on each side (untimed), times ``LOGIN`` alone — from sending
the command to its tagged ``OK`` — and logs out (untimed); rounds alternate baseline, ours after
``--warmup`` untimed rounds. *Added* is ours - baseline (medians, p95s, and the median of paired
differences). Same answer first: both must accept the password and refuse a wrong one; ours must
record exactly one LoginEvent per login (checked after the timed rounds, once the reports are in),
and the number of policy requests per login is read from gunicorn's access log.

Then the endpoint alone: an open-loop load generator (asyncio, HTTP/1.1, a fresh connection
whenever the server closes one) sends ``allow``/``report`` pairs for successful logins at a fixed
arrival rate (``--rate``, default 500 requests/s) for ``--seconds`` (default 20); each latency is
measured from the request's *scheduled* send time, so a server that falls behind shows it in the
tail instead of slowing the generator (no coordinated omission). Reported: p50, p99, max,
achieved rate, errors. SQL statements per ``allow`` and per ``report`` are counted in-process
(``CaptureQueriesContext``) on extra requests.

Default sizes: ``--repeat`` 400 timed rounds, ``--warmup`` 20, ``--seconds`` 20 at 500/s
(~1 minute plus PostgreSQL's start); ``--quick``: 40 rounds, 3 s of load (~20 s).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import imaplib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

PROJECT_ROOT = Path(__file__).resolve().parents[2]
DOVECOT = shutil.which("dovecot") or "/usr/sbin/dovecot"
SECRET = "bench-policy-secret-" + "s" * 24
LOGIN = "mia.member@northwind.example"
TARGET_MEDIAN_MS = 5.0
TARGET_P95_MS = 15.0
CIDR_COUNT = 50


# --- the world -------------------------------------------------------------------------------------
@dataclass
class World:
    tenant: Any
    member: Any
    password: str
    digest: str


def _build_world() -> World:
    from accounts.mailclients.services import mail_client_password_create
    from accounts.models import User
    from security.policies.hours.services import hours_policy_update
    from security.policies.lockout.services import lockout_policy_update
    from security.policies.network.services import network_policy_update
    from tenants.models import MailDomain, Tenant
    from tenants.roles import Role

    tenant = Tenant.objects.create(name="Northwind Traders", slug="northwind", timezone="Asia/Shanghai")
    MailDomain.objects.create(tenant=tenant, domain="northwind.example")
    owner = User.objects.create_user("owner@northwind.example", "Owner-password-9!", tenant=tenant,
                                     role=Role.OWNER, display_name="Olivia Owner")
    member = User.objects.create_user(LOGIN, "Member-password-9!", tenant=tenant, role=Role.MEMBER,
                                      display_name="Mia Member")
    User.objects.bulk_create([
        User(email=f"person{i}@northwind.example", tenant=tenant, role=Role.MEMBER,
             display_name=f"Person {i}", password="!") for i in range(200)])
    entries = [(f"{11 + 3 * i}.{(7 * i) % 256}.0.0/16", f"Office {i + 1}") for i in range(CIDR_COUNT - 1)]
    entries.append(("127.0.0.0/8", "Mail relay"))
    network_policy_update(tenant=tenant, actor=owner, entries=entries, mode="enforce", scope="everyone",
                          confirm_self_lockout=False, actor_ip="127.0.0.1")
    schedule = [{"day": d, "start": s, "end": e} for d in range(7)
                for s, e in (("00:00", "08:00"), ("08:00", "18:00"), ("18:00", "24:00"))]
    hours_policy_update(tenant=tenant, actor=owner, schedule=schedule, mode="enforce", scope="everyone",
                        confirm_self_lockout=False)
    lockout_policy_update(tenant=tenant, actor=owner, failure_limit=5, cooloff_minutes=15)
    for i in range(3):  # a person with several mail clients: the passdb still matches one row
        mail_client_password_create(user=member, name=f"Old phone {i}")
    _row, password = mail_client_password_create(user=member, name="Thunderbird")
    return World(tenant=tenant, member=member, password=password,
                 digest=hashlib.sha256(password.encode()).hexdigest())


# --- servers ---------------------------------------------------------------------------------------
def _free_port() -> int:
    from tests.harness import _free_port as free

    return free()


def _gunicorn_command(port: int, workers: int, access_log: Path, extra: list[str]) -> list[str]:
    """docker/Dockerfile's CMD, bound to loopback, its access log written to a file."""
    text = (PROJECT_ROOT / "docker" / "Dockerfile").read_text()
    match = re.search(r'^CMD (\[.*?\])\s*$', text.replace("\\\n", ""), re.MULTILINE | re.DOTALL)
    if match is None:
        raise RuntimeError("docker/Dockerfile has no CMD [...] line")
    argv: list[str] = json.loads(match.group(1))
    if argv[0] != "gunicorn":
        raise RuntimeError(f"docker/Dockerfile's CMD runs {argv[0]}, not gunicorn")
    out: list[str] = [str(Path(sys.executable).with_name("gunicorn"))]
    skip = False
    for i, arg in enumerate(argv[1:], start=1):
        if skip:
            skip = False
            continue
        if arg in ("--bind", "--access-logfile", "--worker-tmp-dir"):
            skip = True
            if arg == "--worker-tmp-dir" and os.path.isdir(argv[i + 1]):
                out += [arg, argv[i + 1]]
            continue
        out.append(arg)
    return [*out, "--bind", f"127.0.0.1:{port}", "--workers", str(workers), "--access-logfile", str(access_log), *extra]


def _dockerfile_worker_class() -> str:
    """The worker class and threads docker/Dockerfile's CMD names (gunicorn's default: sync)."""
    argv = _gunicorn_command(0, 1, Path("-"), [])
    found = {flag: argv[argv.index(flag) + 1] for flag in ("--worker-class", "--threads") if flag in argv}
    return found.get("--worker-class", "sync") + (f" x {found['--threads']} threads" if "--threads" in found else "")


def _wait_listening(port: int, proc: subprocess.Popen[bytes], what: str, log: Path) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited: {log.read_text(errors='replace')[-3000:] if log.exists() else ''}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
            return
        time.sleep(0.05)
    raise RuntimeError(f"{what} did not listen on {port} in time")


def _wait_workers(port: int, workers: int) -> None:
    """gunicorn listens before its workers have loaded the app: wait until every one answers."""
    import http.client

    deadline = time.monotonic() + 60
    answered: set[str] = set()
    while len(answered) < workers and time.monotonic() < deadline:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        try:
            conn.request("GET", "/healthz", headers={"Host": "127.0.0.1"})
            response = conn.getresponse()
            response.read()
            if response.status == 200:
                answered.add(response.getheader("X-Request-ID") or str(len(answered)))
        except OSError:
            time.sleep(0.1)
        finally:
            conn.close()
    # Each worker's first requests are slow (lazy imports, the database connection): a few
    # hundred more before anything is timed.
    for _ in range(20 * workers):
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        conn.request("GET", "/healthz", headers={"Host": "127.0.0.1"})
        conn.getresponse().read()
        conn.close()


@contextlib.contextmanager
def _process(argv: list[str], *, log: Path, env: dict[str, str] | None = None) -> Iterator[subprocess.Popen[bytes]]:
    with log.open("ab") as out:
        proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, env=env, cwd=PROJECT_ROOT,
                                start_new_session=True)
    try:
        yield proc
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


@dataclass
class Servers:
    ours_imap: int
    baseline_imap: int
    passdb_imap: int  # our SQL passdb alone, no policy server: where the added time goes
    policy_port: int
    access_log: Path
    workdir: Path


@contextlib.contextmanager
def _servers(world: World, *, workers: int, gunicorn_args: list[str]) -> Iterator[Servers]:
    from django.db import connection

    from tests.mailauth.dovecot_config import Ports, harness_config, mailadmin_files, passdb_connect

    workdir = Path(tempfile.mkdtemp(prefix="mailadmin-bench-mailauth-"))
    os.chmod(workdir, 0o755)  # noqa: S103  # Dovecot's unprivileged processes read it
    try:
        policy_port = _free_port()
        access_log = workdir / "gunicorn-access.log"
        env = dict(os.environ, MAILADMIN_MAIL_POLICY_SECRET=SECRET,
                   MAILADMIN_MAIL_POLICY_NETWORKS="127.0.0.1/32,::1/128", WEB_CONCURRENCY=str(workers),
                   ALERTS_DETECT_EAGER="0", LOG_LEVEL="WARNING")
        with contextlib.ExitStack() as stack:
            gunicorn = stack.enter_context(_process(_gunicorn_command(policy_port, workers, access_log, gunicorn_args),
                                                    log=workdir / "gunicorn.log", env=env))
            _wait_listening(policy_port, gunicorn, "gunicorn", workdir / "gunicorn.log")
            _wait_workers(policy_port, workers)
            sides: dict[str, int] = {}
            for side in ("ours", "baseline", "passdb"):
                home = workdir / side
                home.mkdir()
                os.chmod(home, 0o755)  # noqa: S103
                ports = Ports(imap=_free_port(), pop3=_free_port())
                if side in ("ours", "passdb"):
                    include = mailadmin_files(home, policy_url=f"http://127.0.0.1:{policy_port}/mailauth/policy",
                                              secret=SECRET, passdb=passdb_connect(connection.settings_dict))
                    conf = harness_config(home, ports=ports, include=include, instance=f"bench-{side}",
                                          extra="auth_policy_server_url =\n" if side == "passdb" else "")
                else:
                    passwd = home / "passwd"
                    passwd.write_text(f"{LOGIN}:{{SHA256.HEX}}{world.digest}::::::\n")
                    conf = harness_config(home, ports=ports, include=None, passwd_file=passwd,
                                          instance="bench-baseline")
                (home / "dovecot.conf").write_text(conf)
                proc = stack.enter_context(_process([DOVECOT, "-F", "-c", str(home / "dovecot.conf")],
                                                    log=home / "stdout.log"))
                _wait_listening(ports.imap, proc, f"dovecot ({side})", home / "dovecot.log")
                sides[side] = ports.imap
            try:
                yield Servers(ours_imap=sides["ours"], baseline_imap=sides["baseline"], passdb_imap=sides["passdb"],
                              policy_port=policy_port,
                              access_log=access_log, workdir=workdir)
            except Failure:
                for log in (workdir / "ours" / "dovecot.log", workdir / "gunicorn.log"):
                    if log.exists():
                        print(f"--- {log.name}:\n" + log.read_text(errors="replace")[-3000:], file=sys.stderr)
                raise
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


# --- IMAP ------------------------------------------------------------------------------------------
def _login_ns(port: int, password: str) -> tuple[bool, int]:
    """Open a connection (untimed), time LOGIN alone, log out (untimed)."""
    imap = imaplib.IMAP4("127.0.0.1", port, timeout=10)
    try:
        start = time.perf_counter_ns()
        try:
            imap.login(LOGIN, password)
            ok = True
        except imaplib.IMAP4.error:
            ok = False
        elapsed = time.perf_counter_ns() - start
    finally:
        with contextlib.suppress(imaplib.IMAP4.abort, imaplib.IMAP4.error, OSError):
            imap.logout()
    return ok, elapsed


def _events_count(world: World) -> int:
    from activity.models import LoginEvent

    return LoginEvent.objects.for_tenant(world.tenant).filter(user=world.member).count()


def _wait_events(world: World, expected: int, timeout: float = 20) -> int:
    deadline = time.monotonic() + timeout
    while _events_count(world) < expected and time.monotonic() < deadline:
        time.sleep(0.1)
    time.sleep(0.3)  # a late extra row would show now
    return _events_count(world)


def _policy_requests(access_log: Path) -> int:
    return sum(1 for line in access_log.read_text(errors="replace").splitlines() if "/mailauth/policy" in line)


class Failure(AssertionError):
    pass


def _verify(world: World, servers: Servers) -> None:
    """Same answer first: both sides accept the password and refuse a wrong one."""
    for side, port in (("baseline", servers.baseline_imap), ("ours", servers.ours_imap),
                       ("passdb", servers.passdb_imap)):
        if not _login_ns(port, world.password)[0]:
            raise Failure(f"{side}: the client password was refused")
        if _login_ns(port, "abcd-efgh-jkmn-pqrs-tuvw-xyz2")[0]:
            raise Failure(f"{side}: a wrong password was accepted")


@dataclass
class Logins:
    base: list[int]
    ours: list[int]
    passdb: list[int]
    requests_per_login: float
    events_per_login: float


def _measure_logins(world: World, servers: Servers, *, rounds: int, warmup: int) -> Logins:
    for _ in range(warmup):
        for port in (servers.baseline_imap, servers.ours_imap, servers.passdb_imap):
            _login_ns(port, world.password)
    before_events = _wait_events(world, 0, timeout=0)
    before_requests = _policy_requests(servers.access_log)
    base: list[int] = []
    ours: list[int] = []
    passdb: list[int] = []
    for _ in range(rounds):
        for side, port, samples in (("baseline", servers.baseline_imap, base), ("ours", servers.ours_imap, ours),
                                    ("passdb", servers.passdb_imap, passdb)):
            ok, ns = _login_ns(port, world.password)
            if not ok:
                raise Failure(f"{side}: LOGIN refused during the timed rounds")
            samples.append(ns)
    events = _wait_events(world, before_events + rounds) - before_events
    if events != rounds:
        raise Failure(f"ours: {events} LoginEvents for {rounds} logins, expected one each")
    time.sleep(1)  # gunicorn's access log is written after each response
    requests = _policy_requests(servers.access_log) - before_requests
    return Logins(base, ours, passdb, requests / rounds, events / rounds)


# --- the endpoint alone: open-loop load -----------------------------------------------------------
def _bodies(world: World, count: int) -> list[tuple[str, bytes]]:
    """``count`` requests: allow, report, allow, report… each pair one successful login."""
    out: list[tuple[str, bytes]] = []
    mail_client = str(world.member.mail_client_passwords.order_by("-id").first().pk)
    for i in range((count + 1) // 2):
        base = {"login": LOGIN, "remote": "127.0.0.1", "protocol": "imap", "session_id": uuid.uuid4().hex[:22],
                "device_id": '"name" "Thunderbird" "version" "115.3"', "mail_client": mail_client}
        out.append(("allow", json.dumps(base).encode()))
        out.append(("report", json.dumps(base | {"success": True, "policy_reject": False}).encode()))
        del i
    return out[:count]


def _request_bytes(port: int, command: str, body: bytes) -> bytes:
    return (f"POST /mailauth/policy?command={command} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
            f"X-API-Key: {SECRET}\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\n"
            f"Connection: keep-alive\r\n\r\n").encode() + body


async def _one(port: int, payload: bytes, pool: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]]
               ) -> tuple[int, bytes]:
    """Send one request on an idle pooled connection (or a new one); (HTTP status, body).

    A pooled connection the server closed while it sat idle (gunicorn's ``--keep-alive``) fails
    before any byte of an answer: the request is sent again on a new connection, as HTTP
    clients (Dovecot's among them) do; its latency still counts from the first send."""
    reused = bool(pool)
    reader, writer = pool.pop() if pool else await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(payload)
        await writer.drain()
        try:
            head = await reader.readuntil(b"\r\n\r\n")
        except (asyncio.IncompleteReadError, ConnectionError) as exc:
            if not reused or (isinstance(exc, asyncio.IncompleteReadError) and exc.partial):
                raise
            writer.close()
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(payload)
            await writer.drain()
            head = await reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ", 2)[1])
        headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:] if line)}
        body = await reader.readexactly(int(headers.get("content-length", "0")))
    except BaseException:
        writer.close()
        raise
    if headers.get("connection", "").lower() == "close":
        writer.close()
    else:
        pool.append((reader, writer))
    return status, body


@dataclass
class Load:
    latencies_ns: list[int]
    errors: int
    seconds: float
    sent: int


async def _open_loop(port: int, requests: list[tuple[str, bytes]], rate: float) -> Load:
    pool: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []
    latencies: list[int] = []
    errors = 0
    loop_start = time.perf_counter_ns()
    interval = int(1e9 / rate)

    async def fire(scheduled: int, command: str, body: bytes) -> None:
        nonlocal errors
        try:
            status, answer = await asyncio.wait_for(_one(port, _request_bytes(port, command, body), pool), 10)
            if status != 200 or json.loads(answer).get("status") != 0:
                errors += 1
                if errors == 1:
                    print(f"first error: {status} {answer[:200]!r}", file=sys.stderr)
        except (TimeoutError, OSError, asyncio.IncompleteReadError, ValueError) as exc:
            errors += 1
            if errors == 1:
                print(f"first error: {exc!r}", file=sys.stderr)
        latencies.append(time.perf_counter_ns() - scheduled)

    tasks = []
    for i, (command, body) in enumerate(requests):
        scheduled = loop_start + i * interval
        delay = (scheduled - time.perf_counter_ns()) / 1e9
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(fire(scheduled, command, body)))
    await asyncio.gather(*tasks)
    for _reader, writer in pool:
        writer.close()
    return Load(latencies, errors, (time.perf_counter_ns() - loop_start) / 1e9, len(requests))


def _quantile(values: list[int], q: float) -> float:
    ordered = sorted(values)
    return float(ordered[max(0, min(len(ordered) - 1, int(-(-q * len(ordered) // 1)) - 1))])


# --- SQL per request -------------------------------------------------------------------------------
def _count_queries(world: World) -> tuple[dict[str, int], dict[str, list[str]]]:
    from django.db import connection
    from django.test import Client, override_settings
    from django.test.utils import CaptureQueriesContext

    client = Client(REMOTE_ADDR="127.0.0.1")
    counts: dict[str, int] = {}
    sql: dict[str, list[str]] = {}
    with override_settings(MAILADMIN_MAIL_POLICY_SECRET=SECRET, ALERTS_DETECT_EAGER=False):
        for _ in range(2):  # the second pass is the warm one (per-process caches filled)
            for command, body in _bodies(world, 2):
                with CaptureQueriesContext(connection) as captured:
                    response = client.post(f"/mailauth/policy?command={command}", body,
                                           content_type="application/json", HTTP_X_API_KEY=SECRET)
                if response.status_code != 200 or response.json()["status"] != 0:
                    raise Failure(f"{command}: {response.status_code} {response.content[:200]!r}")
                counts[command] = len(captured.captured_queries)
                sql[command] = [q["sql"] for q in captured.captured_queries]
    return counts, sql


def _passdb_plan(world: World) -> str:
    """EXPLAIN ANALYZE of the passdb's own query (docker/dovecot's template), as Dovecot sends it
    on a connection it keeps."""
    from django.db import connection

    from tests.mailauth.dovecot_config import TEMPLATES

    text = (TEMPLATES / "dovecot-sql-mailadmin.conf.ext.in").read_text()
    query = next(line.split("=", 1)[1].strip() for line in text.splitlines()
                 if line.startswith("password_query"))
    query = query.replace("'%Lu'", "%s").replace("'%{sha256:password}'", "%s")
    with connection.cursor() as cursor:
        # The third run on one connection, as Dovecot's kept connections run it (a function's
        # first call on a connection also plans its body).
        for _ in range(3):
            cursor.execute("EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY ON) " + query, [LOGIN, world.digest])
            plan = "\n".join(row[0] for row in cursor.fetchall())
        return plan


# --- report ----------------------------------------------------------------------------------------
def _ms(ns: float) -> str:
    return f"{ns / 1e6:.2f} ms"


def _report(logins: Logins, load: Load, rate: float, queries: dict[str, int], extra: dict[str, str]) -> bool:
    from bench import common

    base, ours = common.Stats(tuple(logins.base)), common.Stats(tuple(logins.ours))
    added_median = ours.median_ns - base.median_ns
    added_p95 = ours.p95_ns - base.p95_ns
    paired = [o - b for b, o in zip(logins.base, logins.ours, strict=True)]
    met = added_median <= TARGET_MEDIAN_MS * 1e6 and added_p95 <= TARGET_P95_MS * 1e6
    print("## bench mailauth\n")
    print(common.machine_report(extra))
    print()
    print(common.comparison_table([
        common.Comparison("IMAP LOGIN", base, ours, note="successful, LOGIN alone"),
        common.Comparison("IMAP LOGIN, our SQL passdb alone (no policy server)", base,
                          common.Stats(tuple(logins.passdb)), note="where the time goes")]))
    print()
    answered = (load.sent - load.errors) / load.seconds if load.seconds else 0.0
    print(common.markdown_table(
        ["headline", "value", "target"],
        [["added per login: ours - baseline, median", _ms(added_median),
          f"≤ {TARGET_MEDIAN_MS:g} ms " + ("met" if added_median <= TARGET_MEDIAN_MS * 1e6 else "MISSED")],
         ["added per login: ours - baseline, p95", _ms(added_p95),
          f"≤ {TARGET_P95_MS:g} ms " + ("met" if added_p95 <= TARGET_P95_MS * 1e6 else "MISSED")],
         ["added per login: paired rounds, median of differences", _ms(common.median(paired)), ""],
         ["policy requests per login (gunicorn's access log)", f"{logins.requests_per_login:.2f}", ""],
         ["LoginEvents per login", f"{logins.events_per_login:.2f}", "1"],
         [f"endpoint alone, open loop at {rate:g}/s: p50", _ms(_quantile(load.latencies_ns, 0.50)), ""],
         [f"endpoint alone, open loop at {rate:g}/s: p99", _ms(_quantile(load.latencies_ns, 0.99)), ""],
         [f"endpoint alone, open loop at {rate:g}/s: max", _ms(max(load.latencies_ns)), ""],
         ["endpoint alone: answered per second, errors (timeouts at 10 s included)",
          f"{answered:.0f}/s, {load.errors} of {load.sent:,}", f"{rate:g}/s, 0"],
         ["SQL statements per allow / per report (warm)", f"{queries['allow']} / {queries['report']}", ""]],
    ))
    return met and load.errors == 0


def run(argv: list[str]) -> int:
    from bench import common

    parser = common.standard_arguments(argparse.ArgumentParser(
        prog="python -m bench mailauth", description=(__doc__ or "").splitlines()[0]), repeat=400)
    parser.set_defaults(warmup=20)
    parser.add_argument("--rate", type=float, default=500, help="endpoint requests per second (default 500)")
    parser.add_argument("--seconds", type=float, default=20, help="seconds of endpoint load (default 20)")
    parser.add_argument("--workers", type=int, default=int(os.environ.get("WEB_CONCURRENCY", "3")),
                        help="gunicorn workers (default WEB_CONCURRENCY or 3, as docker/Dockerfile)")
    parser.add_argument("--gunicorn-args", default="", help="extra gunicorn flags, e.g. "
                        "'--threads 8' (default: none, docker/Dockerfile's as they are)")
    parser.add_argument("--show-queries", action="store_true", help="print the SQL of one allow and one report")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a target is missed")
    args = parser.parse_args(argv)
    rounds, warmup, seconds = args.repeat, args.warmup, args.seconds
    if args.quick:
        rounds, warmup, seconds = 40, 5, 3.0
    if not os.path.exists(DOVECOT):
        print("bench mailauth: the dovecot binary is absent (scripts/system-deps installs it)", file=sys.stderr)
        return 2

    from bench.common import django_on_postgres, throwaway_postgres

    with throwaway_postgres("mailadmin-bench-mailauth-") as (url, version):
        django_on_postgres(url)
        from django.core.cache import cache
        cache.clear()
        world = _build_world()
        with _servers(world, workers=args.workers, gunicorn_args=args.gunicorn_args.split()) as servers:
            _verify(world, servers)
            logins = _measure_logins(world, servers, rounds=rounds, warmup=warmup)
            requests = _bodies(world, int(args.rate * seconds))
            load = asyncio.run(_open_loop(servers.policy_port, requests, args.rate))
        queries, sql = _count_queries(world)
        plan = _passdb_plan(world)
        dovecot_version = subprocess.run([DOVECOT, "--version"], capture_output=True, text=True).stdout.strip()
        met = _report(logins, load, args.rate, queries, {
            "postgresql": version, "dovecot": dovecot_version, "gunicorn workers": str(args.workers) + f" ({_dockerfile_worker_class()}"
            + (f", then {args.gunicorn_args})" if args.gunicorn_args else ")"),
            "timed logins per side": str(rounds), "endpoint load": f"{args.rate:g}/s for {seconds:g} s",
            "load average": " ".join(f"{x:.2f}" for x in os.getloadavg())})
        print("\nThe passdb's query plan:\n\n```\n" + plan + "\n```")
        if args.show_queries:
            for command, statements in sql.items():
                print(f"\n{command}:\n" + "\n".join(f"  {s}" for s in statements))
    return 1 if args.strict and not met else 0
