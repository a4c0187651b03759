"""The client of a request, captured once and shared by every record the request writes."""

from __future__ import annotations

import contextlib

from django.http import HttpRequest

from activity.capture.country import ip_country
from activity.capture.types import ClientInfo
from activity.capture.useragent import parse_user_agent
from activity.clientip import client_ip

_CACHE_ATTR = "_mailadmin_client_info"


def _header(request: HttpRequest, key: str) -> str | None:
    value = request.META.get(key)
    if not isinstance(value, str):
        return None
    if not value.isascii():
        # WSGI/ASGI hand headers over decoded as Latin-1; a UTF-8 User-Agent reads as mojibake
        # (and its continuation bytes as C1 controls) unless decoded again.
        with contextlib.suppress(UnicodeEncodeError, UnicodeDecodeError):
            value = value.encode("latin-1").decode("utf-8")
    return value


def client_info(request: HttpRequest) -> ClientInfo:
    """IP, country, browser, OS and device of the request's client (cached on the request)."""
    cached = getattr(request, _CACHE_ATTR, None)
    if cached is not None:
        return cached
    ip = client_ip(request)
    agent = parse_user_agent(
        _header(request, "HTTP_USER_AGENT") or "",
        ch_platform=_header(request, "HTTP_SEC_CH_UA_PLATFORM"),
        ch_mobile=_header(request, "HTTP_SEC_CH_UA_MOBILE"),
        ch_platform_version=_header(request, "HTTP_SEC_CH_UA_PLATFORM_VERSION"),
    )
    info = ClientInfo.from_parts(ip=ip, country=ip_country(ip), agent=agent)
    setattr(request, _CACHE_ATTR, info)
    return info
