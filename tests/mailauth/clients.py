"""imaplib / poplib / smtplib clients that connect from a chosen loopback address (127.0.0.x)."""

from __future__ import annotations

import contextlib
import imaplib
import poplib
import smtplib
import socket
from email.message import EmailMessage

# imaplib knows no ID command (RFC 2971); mail clients send it before LOGIN.
imaplib.Commands.setdefault("ID", ("NONAUTH", "AUTH", "SELECTED"))


class IMAP(imaplib.IMAP4):
    def __init__(self, port: int, *, source: str = "127.0.0.1") -> None:
        self._source = source
        super().__init__("127.0.0.1", port, timeout=10)

    def _create_socket(self, timeout: float | None) -> socket.socket:
        return socket.create_connection((self.host, self.port), timeout, source_address=(self._source, 0))


class POP3(poplib.POP3):
    def __init__(self, port: int, *, source: str = "127.0.0.1") -> None:
        self._source = source
        super().__init__("127.0.0.1", port, timeout=10)

    def _create_socket(self, timeout: float) -> socket.socket:
        return socket.create_connection((self.host, self.port), timeout, source_address=(self._source, 0))


def imap_login(port: int, login: str, password: str, *, source: str = "127.0.0.1",
               client_id: str | None = None) -> bool:
    """Whether Dovecot accepted the IMAP LOGIN (the ID command is sent first when given)."""
    imap = IMAP(port, source=source)
    try:
        if client_id is not None:
            imap._simple_command("ID", client_id)
        try:
            imap.login(login, password)
        except imaplib.IMAP4.error:
            return False
        return True
    finally:
        with contextlib.suppress(imaplib.IMAP4.abort, imaplib.IMAP4.error, OSError):
            imap.logout()


def pop3_login(port: int, login: str, password: str, *, source: str = "127.0.0.1") -> bool:
    pop = POP3(port, source=source)
    try:
        pop.user(login)
        try:
            pop.pass_(password)
        except poplib.error_proto:
            return False
        return True
    finally:
        with contextlib.suppress(poplib.error_proto, OSError):
            pop.quit()


def smtp_submit(port: int, login: str, password: str, *, to: str, source: str = "127.0.0.1") -> bool:
    """Whether Dovecot's submission service accepted AUTH (then the message is sent through it)."""
    with smtplib.SMTP("127.0.0.1", port, timeout=10, source_address=(source, 0)) as smtp:
        smtp.ehlo("client.test.example")
        # One AUTH PLAIN: smtp.login() would retry a refused password with every other mechanism
        # offered, and each try is an attempt of its own in the record.
        smtp.user, smtp.password = login, password
        try:
            smtp.auth("PLAIN", smtp.auth_plain)
        except smtplib.SMTPAuthenticationError:
            return False
        message = EmailMessage()
        message["From"], message["To"], message["Subject"] = login, to, "Quarterly figures"
        message.set_content("Sent from a mail client through Dovecot's submission service.")
        smtp.send_message(message)
        return True
