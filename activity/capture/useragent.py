"""User-Agent (and client hints) → browser, OS and device type.

Design: ua-parser 1.0 with its Rust accelerator (``ua_parser.regex.Resolver``) does the regex
work; it is built once per process, on first use, and every distinct User-Agent is parsed once
and kept in an LRU of finished results (``MAILADMIN_UA_CACHE_SIZE`` entries), so the common case
is one dictionary lookup. We cache the finished ``ParsedAgent`` rather than putting ua-parser's
own ``CachingResolver`` in front of the resolver: the hit path then skips the classification
too, and ``functools.lru_cache`` is implemented in C.

The device type follows user-agents 2.2's rules (``is_bot`` / ``is_tablet`` / ``is_mobile`` /
``is_pc``), ported below onto ua-parser 1.0 results. We do not call ``user_agents.parse``: it
re-parses every string with ua-parser's legacy pure-Python matchers (about 300 µs a string,
and importing it compiles ~1,000 regexes). ``tests/activity/test_user_agent.py`` holds the port
to the original on the shared corpus.

Input is hostile: the value is cut to 512 characters before anything looks at it (so a 10 KB
header costs what a normal one does), control and bidi characters and lone surrogates are
replaced with U+FFFD, and nothing here raises.
"""

from __future__ import annotations

import dataclasses
import functools
import logging
import re
import threading
from collections.abc import Callable

from django.conf import settings

from activity.capture.types import (
    FAMILY_MAX_LENGTH,
    USER_AGENT_MAX_LENGTH,
    VERSION_MAX_LENGTH,
    DeviceType,
    ParsedAgent,
)

logger = logging.getLogger(__name__)

# ~450 bytes an entry with its key: 16,384 entries cost ~7.5 MB a process and hold every
# User-Agent a large tenant population sends; bench/capture shows the hit rate on a 30,000-string
# corpus (a far wider spread than one deployment sees).
DEFAULT_CACHE_SIZE = 16384
OTHER = "Other"

# --- Neutralising raw text -------------------------------------------------------------------
# C0/C1 controls and DEL (a NUL is also refused by PostgreSQL), line/paragraph separators, the
# bidi marks/overrides/isolates that can make a log line read differently from what it says, and
# lone surrogates (a str from code that calls the parser directly may hold them; no UTF-8 encoder
# accepts them, so the row would fail to save or to be read).
_NEUTRAL = "\ufffd"
_NEUTRALISE = {
    cp: _NEUTRAL
    for cp in (
        *range(0x00, 0x20), *range(0x7F, 0xA0), 0x061C, 0x200E, 0x200F, 0x2028, 0x2029,
        *range(0x202A, 0x202F), *range(0x2066, 0x206A), *range(0xD800, 0xE000), 0xFEFF,
    )
}


def text_neutralise(value: object, *, limit: int) -> str:
    """``value`` cut to ``limit`` characters with control and bidi characters and lone surrogates
    replaced."""
    if not isinstance(value, str):
        return ""
    text = value[:limit]
    if text.isascii() and text.isprintable():  # the common case, checked in C
        return text
    return text.translate(_NEUTRALISE)


def user_agent_clean(raw: object) -> str:
    """The raw User-Agent as stored: at most 512 characters, control characters neutralised."""
    return text_neutralise(raw, limit=USER_AGENT_MAX_LENGTH)


# --- user-agents 2.2 classification, ported ---------------------------------------------------
# Constants and order copied from user_agents/parsers.py (MIT, Selwin Ong); keep them in step
# with the agreement test rather than "improving" them here.
_MOBILE_DEVICE_FAMILIES = frozenset({
    "iPhone", "iPod", "Generic Smartphone", "Generic Feature Phone", "PlayStation Vita",
    "iOS-Device",
})
_PC_OS_FAMILIES = frozenset({"Windows 95", "Windows 98", "Solaris"})
_MOBILE_OS_FAMILIES = frozenset({
    "Windows Phone", "Windows Phone OS", "Symbian OS", "Bada", "Windows CE", "Windows Mobile",
    "Maemo",
})
_MOBILE_BROWSER_FAMILIES = frozenset({
    "IE Mobile", "Opera Mobile", "Opera Mini", "Chrome Mobile", "Chrome Mobile WebView",
    "Chrome Mobile iOS",
})
_TABLET_DEVICE_FAMILIES = frozenset({
    "iPad", "BlackBerry Playbook", "Blackberry Playbook", "Kindle", "Kindle Fire",
    "Kindle Fire HD", "Galaxy Tab", "Xoom", "Dell Streak",
})


def _is_tablet(ua: str, browser: str, os_family: str, os_version: str, device: str) -> bool:
    if device in _TABLET_DEVICE_FAMILIES:
        return True
    # Newer Android tablets drop "Mobile" from the UA; older ones keep it though they are not.
    if os_family == "Android" and "Mobile Safari" not in ua and browser != "Firefox Mobile":
        return True
    if os_family == "Windows" and os_version.startswith("RT"):
        return True
    return os_family == "Firefox OS" and "Mobile" not in browser


def _is_mobile(ua: str, browser: str, os_family: str, device: str) -> bool:
    # Only asked once _is_tablet said no, which user-agents' Android clause also requires.
    return (
        device in _MOBILE_DEVICE_FAMILIES
        or browser in _MOBILE_BROWSER_FAMILIES
        or os_family in ("Android", "Firefox OS")
        or (os_family == "BlackBerry OS" and device != "Blackberry Playbook")
        or os_family in _MOBILE_OS_FAMILIES
        or "J2ME" in ua or "MIDP" in ua
        or "iPhone;" in ua  # Google's mobile spider
        or "Googlebot-Mobile" in ua
        or ("NokiaBrowser" in ua and "Mobile" in ua)
    )


def _is_pc(ua: str, os_family: str, os_version: str) -> bool:
    if "Windows NT" in ua or os_family in _PC_OS_FAMILIES or (
        os_family == "Windows" and os_version == "ME"
    ):
        return True
    if os_family == "Mac OS X" and "Silk" not in ua:
        return True
    if "Maemo" in ua:  # has Linux and X11 in its UA, yet is a phone
        return False
    return "Chrome OS" in os_family or ("Linux" in ua and "X11" in ua)


def device_type_of(ua: str, *, browser: str, os_family: str, os_version: str,
                   device: str) -> DeviceType:
    """user-agents' verdict, most specific first: bot, tablet, mobile, desktop, other."""
    if device == "Spider":
        return DeviceType.BOT
    if _is_tablet(ua, browser, os_family, os_version, device):
        return DeviceType.TABLET
    if _is_mobile(ua, browser, os_family, device):
        return DeviceType.MOBILE
    if _is_pc(ua, os_family, os_version):
        return DeviceType.DESKTOP
    return DeviceType.OTHER


def _version(*parts: str | None) -> str:
    # user-agents' rendering: numeric parts lose leading zeros, missing parts end the version.
    text = ".".join(
        str(int(p)) if p.isascii() and p.isdigit() else p for p in parts if p
    )
    return text[:VERSION_MAX_LENGTH]


# --- The parser, built once per process -------------------------------------------------------
_build_lock = threading.Lock()
_cached_parse: Callable[[str], ParsedAgent] | None = None


def _resolver() -> Callable[..., object]:
    import ua_parser

    try:
        from ua_parser.regex import Resolver as RustResolver
    except ImportError:  # the wheel is missing: slower, still correct
        logger.warning("ua-parser-rs is not installed; User-Agent parsing falls back to Python")
        return ua_parser.BasicResolver(ua_parser.load_builtins())
    # Lazy builtins: the Rust side compiles the patterns, Python never needs to.
    return RustResolver(ua_parser.load_lazy_builtins())


def _build() -> Callable[[str], ParsedAgent]:
    from ua_parser import Domain

    resolver = _resolver()
    size = int(getattr(settings, "MAILADMIN_UA_CACHE_SIZE", DEFAULT_CACHE_SIZE))

    def parse(ua: str) -> ParsedAgent:
        try:
            result = resolver(ua, Domain.ALL)
        except Exception:  # a parser bug must never cost a sign-in its record
            logger.exception("User-Agent parsing failed")
            return ParsedAgent(ua, OTHER, "", OTHER, "", DeviceType.OTHER)
        browser, os, device = result.user_agent, result.os, result.device  # type: ignore[attr-defined]
        browser_family = (browser.family if browser else OTHER)[:FAMILY_MAX_LENGTH]
        os_family = (os.family if os else OTHER)[:FAMILY_MAX_LENGTH]
        os_version = _version(os.major, os.minor, os.patch) if os else ""
        return ParsedAgent(
            user_agent=ua,
            browser_family=browser_family,
            browser_version=_version(browser.major, browser.minor, browser.patch) if browser else "",
            os_family=os_family,
            os_version=os_version,
            device_type=device_type_of(
                ua, browser=browser_family, os_family=os_family, os_version=os_version,
                device=device.family if device else OTHER,
            ),
        )

    return functools.lru_cache(maxsize=size)(parse)


def _parser() -> Callable[[str], ParsedAgent]:
    global _cached_parse
    parse = _cached_parse
    if parse is None:
        with _build_lock:
            if _cached_parse is None:
                _cached_parse = _build()
            parse = _cached_parse
    return parse


def parser_warm() -> None:
    """Build the parser now (e.g. before gunicorn forks) instead of on the first request."""
    _parser()("")


def parser_reset(*, keep_parser: bool = False) -> None:
    """Empty the result cache and, unless ``keep_parser``, forget the parser itself too.

    For benchmarks (a cold start) and settings changes; production never needs it.
    """
    global _cached_parse
    with _build_lock:
        if keep_parser and _cached_parse is not None:
            _cached_parse.cache_clear()  # type: ignore[attr-defined]
        else:
            _cached_parse = None


# --- Client hints -----------------------------------------------------------------------------
# Sec-CH-UA-Platform values (a structured-field string) → ua-parser's OS family names.
_PLATFORMS = {
    "windows": "Windows", "macos": "Mac OS X", "linux": "Linux", "android": "Android",
    "ios": "iOS", "chrome os": "Chrome OS", "chromium os": "Chrome OS", "fuchsia": "Fuchsia",
}
_HINTED_FAMILIES = frozenset(_PLATFORMS.values()) - {"Linux"}
_DESKTOP_PLATFORMS = frozenset({"Windows", "Mac OS X", "Linux", "Chrome OS"})
# Sec-CH-UA-Platform-Version is meaningful for these; on Linux it is the kernel's version.
_VERSIONED_PLATFORMS = frozenset({"Windows", "Mac OS X", "Android", "iOS", "Chrome OS"})
_PLATFORM_VERSION = re.compile(r"\d{1,6}(?:\.\d{1,6}){0,3}")


def _sf_string(value: str | None) -> str:
    if not value or not isinstance(value, str):
        return ""
    text = value.strip()[:40]
    if len(text) >= 2 and text[0] == text[-1] == '"':
        text = text[1:-1]
    return text.strip()


def _is_frozen(agent: ParsedAgent) -> bool:
    """The OS version is the constant Chromium's reduced User-Agent sends, not the real one."""
    family, version, ua = agent.os_family, agent.os_version, agent.user_agent
    if family == "Windows":
        return version == "10"  # "Windows NT 10.0" is also what Windows 11 sends
    if family == "Mac OS X":
        return version == "10.15.7"
    if family == "Android":
        return "Android 10; K)" in ua
    return family == "Chrome OS" and "CrOS" in ua


def _platform_version(platform: str, raw: str | None) -> str:
    text = _sf_string(raw)
    if platform not in _VERSIONED_PLATFORMS or not _PLATFORM_VERSION.fullmatch(text):
        return ""
    parts = [str(int(p)) for p in text.split(".")]
    if platform == "Windows":
        # Chromium's mapping: 13+ is Windows 11, 1-10 Windows 10, 0.x Windows 7/8/8.1 (unknown).
        major = int(parts[0])
        return "11" if major >= 13 else "10" if major >= 1 else ""
    while len(parts) > 1 and parts[-1] == "0":  # "14.0.0" reads as ua-parser's "14"
        parts.pop()
    return ".".join(parts)[:VERSION_MAX_LENGTH]


def _with_hints(agent: ParsedAgent, platform_raw: str | None, mobile_raw: str | None,
                version_raw: str | None) -> ParsedAgent:
    if agent.device_type == DeviceType.BOT:
        return agent
    platform = _PLATFORMS.get(_sf_string(platform_raw).lower())
    mobile = mobile_raw.strip() if isinstance(mobile_raw, str) else ""
    if mobile not in ("?0", "?1"):
        mobile = ""
    if platform is None and not mobile:
        return agent

    os_family, os_version = agent.os_family, agent.os_version
    if platform is not None:
        # A distribution name from the UA ("Ubuntu") is more precise than the hint's "Linux".
        agrees = os_family == platform or (
            platform == "Linux" and os_family not in _HINTED_FAMILIES and os_family != OTHER
        )
        if not agrees:
            os_family, os_version = platform, ""
        elif _is_frozen(agent):
            os_version = ""
        if os_family == platform:
            os_version = _platform_version(platform, version_raw) or os_version

    device = agent.device_type
    if mobile == "?1":
        device = DeviceType.MOBILE
    elif mobile == "?0" and device == DeviceType.MOBILE:
        # Chrome on an Android tablet says "not mobile"; so does any desktop.
        device = DeviceType.TABLET if os_family in ("Android", "iOS") else DeviceType.DESKTOP
    elif device == DeviceType.OTHER and platform in _DESKTOP_PLATFORMS:
        device = DeviceType.DESKTOP
    return dataclasses.replace(agent, os_family=os_family, os_version=os_version,
                               device_type=device)


def parse_user_agent(
    ua: str | None,
    *,
    ch_platform: str | None = None,
    ch_mobile: str | None = None,
    ch_platform_version: str | None = None,
) -> ParsedAgent:
    """Browser, OS and device type of a User-Agent, refined by the client hints when sent.

    ``ch_*`` are the raw ``Sec-CH-UA-Platform``, ``Sec-CH-UA-Mobile`` and (when the page asked
    for it with ``Accept-CH``) ``Sec-CH-UA-Platform-Version`` header values. Never raises.
    """
    agent = _parser()(user_agent_clean(ua))
    if ch_platform is None and ch_mobile is None:
        return agent
    return _with_hints(agent, ch_platform, ch_mobile, ch_platform_version)
