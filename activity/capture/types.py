"""The values the capture service hands to the record: pure data, no database, no parsing."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import models
from django.utils.translation import gettext_lazy as _

from activity.clientip import UNKNOWN_IP

# Field sizes shared by the parser (which truncates) and the models (which store): one home, so
# a parsed value can never fail to fit its column.
USER_AGENT_MAX_LENGTH = 512
FAMILY_MAX_LENGTH = 64
VERSION_MAX_LENGTH = 32


class DeviceType(models.TextChoices):
    DESKTOP = "desktop", _("Desktop")
    MOBILE = "mobile", _("Mobile")
    TABLET = "tablet", _("Tablet")
    BOT = "bot", _("Bot")
    OTHER = "other", _("Other")


@dataclass(frozen=True, slots=True)
class ParsedAgent:
    """What a User-Agent (plus client hints) says about the browser, the OS and the device."""

    user_agent: str  # the raw value, bounded and with control characters neutralised
    browser_family: str
    browser_version: str
    os_family: str
    os_version: str
    device_type: DeviceType


@dataclass(frozen=True, slots=True)
class ClientInfo:
    """Everything the record keeps about the client of one request."""

    ip: str
    country: str  # ISO 3166-1 alpha-2, or "" when unknown, private or loopback
    user_agent: str
    browser_family: str
    browser_version: str
    os_family: str
    os_version: str
    device_type: DeviceType

    @classmethod
    def from_parts(cls, *, ip: str, country: str, agent: ParsedAgent) -> ClientInfo:
        return cls(
            ip=ip,
            country=country,
            user_agent=agent.user_agent,
            browser_family=agent.browser_family,
            browser_version=agent.browser_version,
            os_family=agent.os_family,
            os_version=agent.os_version,
            device_type=agent.device_type,
        )

    @classmethod
    def unknown(cls) -> ClientInfo:
        """For events no request caused (a sweep ending a session): nothing is claimed."""
        return cls(
            ip=UNKNOWN_IP, country="", user_agent="", browser_family="", browser_version="",
            os_family="", os_version="", device_type=DeviceType.OTHER,
        )

    def as_fields(self) -> dict[str, str]:
        """The model fields of the client columns, for ``Model(**client.as_fields())``."""
        return {
            "ip": self.ip,
            "country": self.country,
            "user_agent": self.user_agent,
            "browser_family": self.browser_family,
            "browser_version": self.browser_version,
            "os_family": self.os_family,
            "os_version": self.os_version,
            "device_type": str(self.device_type),
        }
