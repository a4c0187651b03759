"""One request of Dovecot's authentication policy protocol, parsed and bounded (pure, no database).

Dovecot POSTs a JSON object built from ``auth_policy_request_attributes`` (every value a
string) to ``…?command=allow`` before it checks the password and ``…?command=report`` after,
adding ``success`` and ``policy_reject`` booleans to the report. Nothing from it is trusted:
the body is bounded, must be one JSON object of strings (and those two booleans), and every
text is neutralised before it reaches the record. Dovecot before 2.3.5.2 crashed on invalid
UTF-8 in a username; a login that is not valid UTF-8 reaches us as replacement characters
(or is refused as malformed JSON) and is recorded escaped, never used to look anybody up.
"""

from __future__ import annotations

import ipaddress
import json
import re
from dataclasses import dataclass

from activity.capture import text_neutralise
from activity.clientip import UNKNOWN_IP
from activity.models import Protocol

MAX_BODY_BYTES = 8192
LOGIN_MAX_LENGTH = 254
CLIENT_ID_MAX_LENGTH = 512
COMMANDS = ("allow", "report")

# Dovecot's protocol names (``%s``) → the record's.
PROTOCOLS = {"imap": Protocol.IMAP, "pop3": Protocol.POP3, "submission": Protocol.SUBMISSION,
             "smtp": Protocol.SUBMISSION}

_ID_PAIR = re.compile(r'"((?:[^"\\]|\\.)*)"\s+(?:"((?:[^"\\]|\\.)*)"|NIL)', re.IGNORECASE)


class MalformedAttempt(ValueError):
    """The request is not one Dovecot sends; answered with a refusal, never a 500."""


@dataclass(frozen=True, slots=True)
class MailAttempt:
    command: str
    login: str  # normalised later by the record; bounded and neutralised here
    login_is_clean: bool  # valid, printable: safe to look an account up by
    ip: str
    protocol: Protocol
    client_id: str  # the IMAP ID string, neutralised
    client_name: str
    client_version: str
    session: str
    success: bool = False
    policy_reject: bool = False
    mail_client_id: int | None = None


def _text(data: dict[str, object], key: str) -> str:
    value = data.get(key, "")
    if value is None:
        return ""
    if not isinstance(value, str):
        raise MalformedAttempt(f"{key} is not a string")
    return value


def _ip(text: str) -> str:
    try:
        address = ipaddress.ip_address(text.strip())
    except ValueError:
        return UNKNOWN_IP
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return str(address.ipv4_mapped)
    return str(address)


def client_id_parts(client_id: str) -> tuple[str, str]:
    """The ``name`` and ``version`` of an IMAP ID list (RFC 2971), or ("", "")."""
    fields = {key.lower(): value for key, value in _ID_PAIR.findall(client_id[:CLIENT_ID_MAX_LENGTH])}
    name = text_neutralise(fields.get("name", ""), limit=64).strip()
    version = text_neutralise(fields.get("version", ""), limit=32).strip()
    return name, version


def attempt_parse(*, command: str, body: bytes) -> MailAttempt:
    """The attempt in ``body`` for ``command``; raises MalformedAttempt for anything else."""
    if command not in COMMANDS:
        raise MalformedAttempt("unknown command")
    if len(body) > MAX_BODY_BYTES:
        raise MalformedAttempt("request too large")
    try:
        data = json.loads(body.decode("utf-8", "replace"))
    except (ValueError, RecursionError) as exc:
        raise MalformedAttempt("not JSON") from exc
    if not isinstance(data, dict):
        raise MalformedAttempt("not a JSON object")
    raw_login = _text(data, "login")
    protocol = PROTOCOLS.get(_text(data, "protocol").strip().lower())
    if protocol is None:
        raise MalformedAttempt("unknown protocol")
    login = text_neutralise(raw_login, limit=LOGIN_MAX_LENGTH).strip()
    clean = bool(login) and login == raw_login.strip() and "\ufffd" not in login and len(raw_login) <= LOGIN_MAX_LENGTH
    client_id = text_neutralise(_text(data, "device_id"), limit=CLIENT_ID_MAX_LENGTH)
    name, version = client_id_parts(_text(data, "device_id"))
    mail_client = _text(data, "mail_client").strip()
    success, reject = data.get("success", False), data.get("policy_reject", False)
    if not isinstance(success, bool) or not isinstance(reject, bool):
        raise MalformedAttempt("success and policy_reject are booleans")
    return MailAttempt(
        command=command, login=login, login_is_clean=clean, ip=_ip(_text(data, "remote")),
        protocol=protocol, client_id=client_id, client_name=name, client_version=version,
        session=text_neutralise(_text(data, "session_id"), limit=64),
        success=success, policy_reject=reject,
        mail_client_id=int(mail_client) if mail_client.isdigit() and len(mail_client) < 19 else None,
    )
