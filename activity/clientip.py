"""The client's IP address, decided once for the whole project.

Design: ``REMOTE_ADDR`` is the client unless the operator declared trusted proxies
(``TRUSTED_PROXY_COUNT`` and/or ``TRUSTED_PROXY_CIDRS``). Only then is ``X-Forwarded-For`` read,
from the right: each trusted proxy appends the peer it saw, so the right-most address that no
trusted proxy vouches for is the client. Anything a client writes further left is ignored, so a
forged header never moves a request into an allowlist or out of a lockout bucket. ``X-Real-IP``
is never read. axes, the audit trail, sessions and the sign-in record all call this function.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence

from django.conf import settings
from django.http import HttpRequest

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

UNKNOWN_IP = "0.0.0.0"  # noqa: S104 -- a sentinel, never bound; matches no allowlist entry  # nosec B104


def parse_ip(raw: str) -> IPAddress | None:
    """A header token as an address: strips ports and brackets, unwraps IPv4-mapped IPv6."""
    token = raw.strip().strip('"')
    if not token:
        return None
    if token.startswith("["):  # [v6]:port
        token = token[1:].split("]", 1)[0]
    elif token.count(":") == 1:  # v4:port
        token = token.split(":", 1)[0]
    token = token.split("%", 1)[0]  # zone index
    try:
        address = ipaddress.ip_address(token)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        return address.ipv4_mapped
    return address


def resolve_client_ip(
    remote_addr: str, forwarded_for: str | None, *, proxy_count: int, proxy_cidrs: Sequence[IPNetwork]
) -> str:
    """Pure decision: the client address given the peer, the header and the trust settings."""
    peer = parse_ip(remote_addr or "")
    if peer is None:
        return UNKNOWN_IP
    if not proxy_count and not proxy_cidrs:
        return str(peer)
    if proxy_cidrs and not any(peer in net for net in proxy_cidrs if peer.version == net.version):
        # The peer is not one of our proxies: whatever it claims about others is not evidence.
        return str(peer)
    hops = [token for token in (forwarded_for or "").split(",")]
    if len(hops) > 64:  # a header this long was not written by our proxies
        hops = hops[-64:]
    chain: list[IPAddress | None] = [parse_ip(h) for h in hops] + [peer]
    # Walk right to left over the hops our proxies appended.
    trusted_left = proxy_count if proxy_count else len(chain)
    index = len(chain) - 1
    while index > 0 and trusted_left > 0:
        current = chain[index]
        if proxy_cidrs and proxy_count == 0 and (current is None or not any(
            current in net for net in proxy_cidrs if current.version == net.version
        )):
            break
        index -= 1
        trusted_left -= 1
    candidate = chain[index]
    if candidate is None:
        # A trusted proxy would never write garbage here: the client did. Refuse to guess.
        return UNKNOWN_IP
    return str(candidate)


def client_ip(request: HttpRequest) -> str:
    """The client's address for this request, as text (``0.0.0.0`` when unknowable)."""
    cached = getattr(request, "_mailadmin_client_ip", None)
    if cached is not None:
        return cached
    value = resolve_client_ip(
        request.META.get("REMOTE_ADDR", ""),
        request.META.get("HTTP_X_FORWARDED_FOR"),
        proxy_count=settings.TRUSTED_PROXY_COUNT,
        proxy_cidrs=settings.TRUSTED_PROXY_CIDRS,
    )
    request._mailadmin_client_ip = value  # type: ignore[attr-defined]
    return value


def client_ip_for_axes(request: HttpRequest) -> str:
    return client_ip(request)
