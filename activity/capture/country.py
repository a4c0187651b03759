"""IP address → country, behind a small interface.

Design: the default is iptocc (offline, the regional internet registries' public delegation
files compiled into the wheel: country of registration, good enough for "new country" alerts,
no network calls, no licence key). ``MAILADMIN_COUNTRY_RESOLVER`` names another implementation
(a dotted path to a class or factory taking no arguments) so an operator can plug a GeoIP2 City
database later. Whatever the implementation, non-global addresses (private, loopback,
link-local, our ``0.0.0.0`` sentinel) never reach it, its answer must look like an ISO 3166-1
alpha-2 code, and its failure costs the record a country, never the request.
"""

from __future__ import annotations

import functools
import ipaddress
import logging
from typing import Protocol, runtime_checkable

from django.conf import settings
from django.utils.module_loading import import_string

logger = logging.getLogger(__name__)

DEFAULT_COUNTRY_RESOLVER = "activity.capture.country.IptoccCountryResolver"
# Registry placeholders that are not a country.
_NOT_COUNTRIES = frozenset({"ZZ", "XX", "AP"})


@runtime_checkable
class CountryResolver(Protocol):
    def country(self, ip: str) -> str:
        """ISO 3166-1 alpha-2 code of a global address, or "" when unknown."""
        ...


class IptoccCountryResolver:
    """Country of registration from the RIR delegation files shipped with iptocc."""

    def __init__(self) -> None:
        import iptocc

        self._lookup = iptocc.country_code

    def country(self, ip: str) -> str:
        return self._lookup(ip) or ""


@functools.cache
def country_resolver() -> CountryResolver:
    """The configured resolver, built once per process."""
    path = getattr(settings, "MAILADMIN_COUNTRY_RESOLVER", DEFAULT_COUNTRY_RESOLVER)
    resolver = import_string(path)()
    if not isinstance(resolver, CountryResolver):
        raise TypeError(f"{path} does not provide country(ip) -> str")
    return resolver


def ip_country(ip: str) -> str:
    """The country of ``ip`` as an upper-case ISO alpha-2 code; "" for non-global or unknown."""
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return ""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    if not address.is_global:
        return ""
    try:
        code = country_resolver().country(str(address))
    except Exception:  # a broken database must not cost a sign-in its record
        logger.exception("Country lookup failed")
        return ""
    code = (code or "").strip().upper()
    if len(code) != 2 or not code.isascii() or not code.isalpha() or code in _NOT_COUNTRIES:
        return ""
    return code
