"""Where a webhook may point: the checks at save time and again at delivery (SSRF).

A URL must be https (http only when the operator sets ``WEBHOOKS_ALLOW_HTTP``), must not name
the console itself, and every address its host resolves to must be public: not loopback,
link-local (cloud metadata at 169.254.169.254 among them), private, shared/CGNAT (100.64/10),
multicast, reserved or unspecified, unless the operator sets ``WEBHOOKS_ALLOW_PRIVATE_NETWORKS``.
The check runs at save (a form error) and again before each delivery, which then connects to the
very address it checked (``webhooks.py``), so a name that resolves elsewhere a second later
(DNS rebinding) is never reached. Redirects are not followed.
"""

from __future__ import annotations

import ipaddress
import socket
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

type IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

_CGNAT = ipaddress.ip_network("100.64.0.0/10")
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


@dataclass(frozen=True)
class Target:
    """A checked URL: connect to ``address`` and speak to ``host``."""

    scheme: str
    host: str
    port: int
    path: str  # path and query, as sent in the request line
    address: str


def resolve(host: str, port: int) -> list[str]:
    """The addresses a host name resolves to (tests replace this to control DNS)."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def _embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 one stands for: mapped, NAT64, 6to4 or Teredo."""
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address in _NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    if address.sixtofour is not None:
        return address.sixtofour
    if address.teredo is not None:
        return address.teredo[1]
    return None


def _is_public(address: IPAddress) -> bool:
    if isinstance(address, ipaddress.IPv6Address):
        embedded = _embedded_ipv4(address)
        if embedded is not None:
            address = embedded
    if isinstance(address, ipaddress.IPv4Address) and address in _CGNAT:
        return False
    return not (address.is_loopback or address.is_link_local or address.is_private
                or address.is_multicast or address.is_unspecified or address.is_reserved
                or not address.is_global)


def _console_hosts() -> set[str]:
    hosts = {(urlsplit(settings.PUBLIC_BASE_URL).hostname or "").lower()}
    hosts.update(h.lower().lstrip(".") for h in settings.ALLOWED_HOSTS if h and h != "*")
    hosts.discard("")
    return hosts


def _is_console(host: str) -> bool:
    host = host.lower().rstrip(".")
    for console in _console_hosts():
        if host == console:
            return True
    # ALLOWED_HOSTS entries starting with a dot match their subdomains too.
    return any(host.endswith(h.lower()) for h in settings.ALLOWED_HOSTS
               if h.startswith(".") and len(h) > 1)


_CONSOLE_ADDRESSES_TTL = 300.0
_console_cache: dict[tuple[str, ...], tuple[float, frozenset[str]]] = {}


def _console_addresses() -> frozenset[str]:
    # Cached for a few minutes: every delivery checks, and the console's names rarely move.
    hosts = tuple(sorted(_console_hosts()))
    cached = _console_cache.get(hosts)
    if cached is not None and time.monotonic() - cached[0] < _CONSOLE_ADDRESSES_TTL:
        return cached[1]
    addresses: set[str] = set()
    for host in hosts:
        try:
            addresses.add(str(ipaddress.ip_address(host.strip("[]"))))
            continue
        except ValueError:
            pass
        try:
            addresses.update(resolve(host, 443))
        except (OSError, UnicodeError):
            continue
    _console_cache.clear()
    _console_cache[hosts] = (time.monotonic(), frozenset(addresses))
    return _console_cache[hosts][1]


def webhook_target(url: str) -> Target:
    """Check ``url`` and resolve it; ``ValidationError`` (translated) when it may not be called."""
    try:
        parts = urlsplit((url or "").strip())
        port = parts.port
    except ValueError:
        raise ValidationError(_("Enter a valid URL."), code="invalid") from None
    scheme = parts.scheme.lower()
    if scheme not in ("https", "http"):
        raise ValidationError(_("The URL must start with https://."), code="scheme")
    if scheme == "http" and not settings.WEBHOOKS_ALLOW_HTTP:
        raise ValidationError(
            _("The URL must use https://; plain http is not allowed on this service."),
            code="http")
    if parts.username or parts.password:
        raise ValidationError(_("The URL must not contain a user name or password."),
                              code="credentials")
    host = (parts.hostname or "").rstrip(".")
    if not host:
        raise ValidationError(_("Enter a valid URL."), code="invalid")
    port = port or (443 if scheme == "https" else 80)
    try:
        literal: IPAddress | None = ipaddress.ip_address(host)
    except ValueError:
        literal = None
    if literal is not None:
        addresses = [str(literal)]
    else:
        try:
            addresses = resolve(host, port)
        except (OSError, UnicodeError):
            addresses = []
        if not addresses:
            raise ValidationError(_("The host name %(host)s does not resolve."),
                                  code="unresolved", params={"host": host})
    if not settings.WEBHOOKS_ALLOW_PRIVATE_NETWORKS:
        for address in addresses:
            if not _is_public(ipaddress.ip_address(address.split("%")[0])):
                raise ValidationError(
                    _("The URL points at a private, loopback or otherwise internal address "
                      "(%(address)s); webhooks may only call public addresses."),
                    code="private", params={"address": address})
    if _is_console(host) or set(addresses) & _console_addresses():
        raise ValidationError(_("The URL must not point at this console."), code="console")
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    return Target(scheme=scheme, host=host, port=port, path=path, address=addresses[0])
