"""The Dovecot configuration the tests and ``bench mailauth`` run: docker/dovecot's templates,
rendered the way docker/dovecot/entrypoint.sh renders them for the compose service.

``render`` fills in the ``${NAME}`` placeholders of one template (those names only, like
``envsubst 'names'``: Dovecot's own ``%{…}`` and ``$setting`` pass through) and refuses a
template that still names one it was not given. ``mailadmin_files`` writes the two files every
deployment uses, ``mailadmin.conf`` and ``dovecot-sql-mailadmin.conf.ext``, into a directory;
the harness's own top-level file around them (loopback listeners, no TLS, a static userdb) is
``harness_config``.
"""

from __future__ import annotations

import grp
import os
import pwd
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

TEMPLATES = Path(__file__).resolve().parents[2] / "docker" / "dovecot"
_PLACEHOLDER = re.compile(r"\$\{([A-Z][A-Z0-9_]*)\}")


def render(template: str, values: Mapping[str, str]) -> str:
    missing = sorted({name for name in _PLACEHOLDER.findall(template) if name not in values})
    if missing:
        raise KeyError(f"template placeholders without a value: {', '.join(missing)}")
    return _PLACEHOLDER.sub(lambda m: values[m.group(1)], template)


def passdb_connect(db: Mapping[str, object]) -> str:
    """Dovecot's pgsql ``connect`` string for a Django database settings dict."""
    return (f"host={db.get('HOST') or '127.0.0.1'} port={db.get('PORT') or 5432} dbname={db['NAME']} "
            f"user={db['USER']}" + (f" password={db['PASSWORD']}" if db.get("PASSWORD") else ""))


def mailadmin_files(confdir: Path, *, policy_url: str, secret: str, passdb: str) -> Path:
    """Render mailadmin.conf and the SQL passdb file into ``confdir``; returns mailadmin.conf."""
    values = {"DOVECOT_CONF_DIR": str(confdir), "MAILADMIN_MAIL_POLICY_URL": policy_url,
              "MAILADMIN_MAIL_POLICY_SECRET": secret, "DOVECOT_POLICY_NONCE": "test-nonce",
              "DOVECOT_PASSDB_CONNECT": passdb}
    for name in ("mailadmin.conf", "dovecot-sql-mailadmin.conf.ext"):
        (confdir / name).write_text(render((TEMPLATES / f"{name}.in").read_text(), values))
    return confdir / "mailadmin.conf"


@dataclass(frozen=True)
class Ports:
    imap: int
    pop3: int
    submission: int = 0  # 0: no submission service
    relay: int = 0  # the SMTP server submission relays to


def _users() -> tuple[str, str, str, pwd.struct_passwd]:
    me = pwd.getpwuid(os.getuid())
    root = os.getuid() == 0
    login_user = "dovenull" if root else me.pw_name
    internal_user = "dovecot" if root else me.pw_name
    internal = pwd.getpwnam(internal_user)
    return login_user, internal_user, grp.getgrgid(internal.pw_gid).gr_name, internal


def harness_config(workdir: Path, *, ports: Ports, include: Path | None, passwd_file: Path | None = None,
                   instance: str = "mailadmin-test", extra: str = "") -> str:
    """The harness's dovecot.conf: loopback listeners, plaintext allowed (no TLS on loopback), and
    either mailadmin's part (``include``) or, for the benchmark's baseline, a static passwd-file
    and no policy server. ``extra`` comes last (a later setting overrides an earlier one)."""
    login_user, internal_user, internal_group, internal = _users()
    (workdir / "mail").mkdir(exist_ok=True)
    os.chmod(workdir / "mail", 0o777)  # noqa: S103  # a throwaway test directory
    protocols = "imap pop3" + (" submission" if ports.submission else "")
    if include is not None:
        auth = f"!include {include}"
    else:
        assert passwd_file is not None
        auth = (f"auth_mechanisms = plain login\nauth_username_format = %Lu\nauth_cache_size = 0\n"
                f"passdb {{\n  driver = passwd-file\n  args = {passwd_file}\n}}")
    submission = ""
    if ports.submission:
        submission = f"""
hostname = mail.test.example
submission_relay_host = 127.0.0.1
submission_relay_port = {ports.relay}
submission_relay_trusted = yes
service submission-login {{
  inet_listener submission {{
    address = 127.0.0.1
    port = {ports.submission}
  }}
}}
"""
    return f"""
base_dir = {workdir}/run
state_dir = {workdir}/state
instance_name = {instance}-{ports.imap}
log_path = {workdir}/dovecot.log
protocols = {protocols}
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
{auth}
auth_verbose = yes
# No failure delay nor anvil's auth penalty: the tests sign in wrongly on purpose, and the
# policy server's tarpit is what delays (tests/mailauth/test_tarpit.py).
auth_failure_delay = 0
default_internal_user = {internal_user}
default_internal_group = {internal_group}
default_login_user = {login_user}
mail_location = maildir:{workdir}/mail/%d/%n
first_valid_uid = 0
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {ports.imap}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service pop3-login {{
  inet_listener pop3 {{
    address = 127.0.0.1
    port = {ports.pop3}
  }}
  inet_listener pop3s {{
    port = 0
  }}
}}
{submission}
service anvil {{
  unix_listener anvil-auth-penalty {{
    mode = 0
  }}
}}
userdb {{
  driver = static
  args = uid={internal.pw_uid} gid={internal.pw_gid} home={workdir}/mail/%d/%n
}}
{extra}
"""
