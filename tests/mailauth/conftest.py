"""A real Dovecot for the mail-client tests: IMAP and POP3 on loopback ports, our SQL passdb on the
harness's PostgreSQL, and the auth-policy server pointing at pytest-django's live server.

The configuration is written into a temporary directory and ``dovecot -F -c …`` runs as a
subprocess for the test module; nothing of the system's Dovecot is used or started. Skipped, with
the reason, only when the dovecot binary is absent (``make test`` installs it: scripts/system-deps).
"""

from __future__ import annotations

import contextlib
import grp
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.db import connection

from tests.harness import _free_port

DOVECOT = shutil.which("dovecot") or "/usr/sbin/dovecot"
SECRET = "test-policy-secret-" + "k" * 24

# What Dovecot sends the policy server (security/mailauth/attempt.py reads these keys).
REQUEST_ATTRIBUTES = ("login=%{requested_username} pwhash=%{hashed_password} remote=%{rip} "
                      "device_id=%{client_id} protocol=%s session_id=%{session} "
                      "mail_client=%{passdb:mail_client_id}")

PASSWORD_QUERY = ("SELECT login AS user, password, mail_client_id FROM mailadmin_mail_passdb "
                  "WHERE login = '%Lu' AND digest = '%{sha256:password}'")


@dataclass
class Dovecot:
    imap_port: int
    pop3_port: int
    workdir: Path

    def log(self) -> str:
        path = self.workdir / "dovecot.log"
        return path.read_text(errors="replace") if path.exists() else ""


def _config(workdir: Path, *, imap: int, pop3: int, policy_url: str, db: dict[str, object]) -> str:
    me = pwd.getpwuid(os.getuid())
    root = os.getuid() == 0
    login_user = "dovenull" if root else me.pw_name
    internal_user = "dovecot" if root else me.pw_name
    (workdir / "mail").mkdir()
    os.chmod(workdir / "mail", 0o777)  # noqa: S103  # a throwaway test directory
    connect = (f"host={db['HOST'] or '127.0.0.1'} port={db['PORT'] or 5432} dbname={db['NAME']} "
               f"user={db['USER']}" + (f" password={db['PASSWORD']}" if db.get("PASSWORD") else ""))
    (workdir / "sql.conf.ext").write_text(
        f"driver = pgsql\nconnect = {connect}\npassword_query = {PASSWORD_QUERY}\n")
    mail_uid = pwd.getpwnam(internal_user)
    return f"""
base_dir = {workdir}/run
state_dir = {workdir}/state
instance_name = mailadmin-test-{imap}
log_path = {workdir}/dovecot.log
protocols = imap pop3
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
auth_cache_size = 0
# Keeps the client's IMAP ID for %{{client_id}} (the record's "browser").
imap_id_retain = yes
auth_verbose = yes
default_internal_user = {internal_user}
default_internal_group = {grp.getgrgid(pwd.getpwnam(internal_user).pw_gid).gr_name}
default_login_user = {login_user}
mail_location = maildir:{workdir}/mail/%d/%n
first_valid_uid = 0
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {imap}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service pop3-login {{
  inet_listener pop3 {{
    address = 127.0.0.1
    port = {pop3}
  }}
  inet_listener pop3s {{
    port = 0
  }}
}}
service anvil {{
  unix_listener anvil-auth-penalty {{
    mode = 0
  }}
}}
passdb {{
  driver = sql
  args = {workdir}/sql.conf.ext
}}
userdb {{
  driver = static
  args = uid={mail_uid.pw_uid} gid={mail_uid.pw_gid} home={workdir}/mail/%d/%n
}}
auth_policy_server_url = {policy_url}
auth_policy_server_api_header = X-API-Key:{SECRET}
auth_policy_hash_nonce = test-nonce
auth_policy_request_attributes = {REQUEST_ATTRIBUTES}
auth_policy_check_after_auth = no
auth_policy_reject_on_fail = yes
"""


def _wait_for(port: int, proc: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"dovecot exited: {log.read_text(errors='replace') if log.exists() else ''}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
            return
        time.sleep(0.05)
    raise RuntimeError("dovecot did not listen in time")


@pytest.fixture(scope="module")
def dovecot_server(live_server, django_db_setup, django_db_blocker) -> Iterator[Dovecot]:
    """One Dovecot per test module (its configuration does not change between tests)."""
    if not os.path.exists(DOVECOT):
        pytest.skip("the dovecot binary is absent (scripts/system-deps installs dovecot-core)")
    with django_db_blocker.unblock():
        db = dict(connection.settings_dict)
        vendor = connection.vendor
    if vendor != "postgresql":
        pytest.skip("the SQL passdb reads PostgreSQL")
    port = live_server.url.rsplit(":", 1)[1]
    workdir = Path(tempfile.mkdtemp(prefix="mailadmin-dovecot-"))
    os.chmod(workdir, 0o755)  # noqa: S103  # Dovecot's unprivileged processes read it
    imap, pop3 = _free_port(), _free_port()
    conf = workdir / "dovecot.conf"
    conf.write_text(_config(workdir, imap=imap, pop3=pop3,
                            policy_url=f"http://127.0.0.1:{port}/mailauth/policy", db=db))
    proc = subprocess.Popen([DOVECOT, "-F", "-c", str(conf)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.STDOUT)
    try:
        _wait_for(imap, proc, workdir / "dovecot.log")
        _wait_for(pop3, proc, workdir / "dovecot.log")
        yield Dovecot(imap_port=imap, pop3_port=pop3, workdir=workdir)
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        shutil.rmtree(workdir, ignore_errors=True)


@pytest.fixture
def dovecot(dovecot_server: Dovecot, settings, transactional_db) -> Dovecot:
    """The module's Dovecot, with the policy endpoint configured for this test."""
    settings.MAILADMIN_MAIL_POLICY_SECRET = SECRET
    settings.MAILADMIN_MAIL_POLICY_NETWORKS = ["127.0.0.1/32", "::1/128"]
    # Embedded alert detection would run in the live server's thread after each report commits,
    # racing the flush between tests; the detector has its own tests.
    settings.ALERTS_DETECT_EAGER = False
    return dovecot_server
