"""The capture service: what the record keeps about the client of a request.

``client_info(request)`` is the one entry point for views and the sign-in pipeline; it combines
the client IP (``activity.clientip``), the User-Agent and client hints (``useragent``) and the
country (``country``). ``parse_user_agent`` and ``ip_country`` are pure and usable without a
request.
"""

from __future__ import annotations

from typing import Any

from django.core.signals import setting_changed
from django.dispatch import receiver

from activity.capture.country import (
    CountryResolver,
    IptoccCountryResolver,
    country_resolver,
    ip_country,
)
from activity.capture.request import client_info
from activity.capture.types import (
    FAMILY_MAX_LENGTH,
    USER_AGENT_MAX_LENGTH,
    VERSION_MAX_LENGTH,
    ClientInfo,
    DeviceType,
    ParsedAgent,
)
from activity.capture.useragent import (
    parse_user_agent,
    parser_reset,
    parser_warm,
    text_neutralise,
    user_agent_clean,
)

__all__ = [
    "FAMILY_MAX_LENGTH",
    "USER_AGENT_MAX_LENGTH",
    "VERSION_MAX_LENGTH",
    "ClientInfo",
    "CountryResolver",
    "DeviceType",
    "IptoccCountryResolver",
    "ParsedAgent",
    "client_info",
    "country_resolver",
    "ip_country",
    "parse_user_agent",
    "parser_reset",
    "parser_warm",
    "text_neutralise",
    "user_agent_clean",
]


@receiver(setting_changed)
def _settings_changed(*, setting: str, **kwargs: Any) -> None:
    # Both are built once per process from settings; tests that override them need a rebuild.
    if setting == "MAILADMIN_COUNTRY_RESOLVER":
        country_resolver.cache_clear()
    elif setting == "MAILADMIN_UA_CACHE_SIZE":
        parser_reset()
