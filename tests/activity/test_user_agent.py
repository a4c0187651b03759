"""parse_user_agent: pure, no request, no database."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings

from activity.capture import DeviceType, parse_user_agent, user_agent_clean
from activity.capture.useragent import _parser

CHROME_WINDOWS = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
                  "Chrome/124.0.0.0 Safari/537.36")
SAFARI_IPHONE = ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_4_1 like Mac OS X) AppleWebKit/605.1.15 "
                 "(KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1")
SAFARI_IPAD = ("Mozilla/5.0 (iPad; CPU OS 16_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
               "Version/16.6 Mobile/15E148 Safari/604.1")
ANDROID_TABLET = ("Mozilla/5.0 (Linux; Android 13; SM-X700) AppleWebKit/537.36 (KHTML, like Gecko) "
                  "Chrome/120.0.6099.144 Safari/537.36")
ANDROID_PHONE = ("Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
                 "Chrome/123.0.6312.99 Mobile Safari/537.36")
ANDROID_REDUCED = ("Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) "
                   "Chrome/124.0.0.0 Mobile Safari/537.36")
CHROME_MAC = ("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) "
              "Chrome/124.0.0.0 Safari/537.36")
FIREFOX_LINUX = "Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0"
GOOGLEBOT = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"
CURL = "curl/8.5.0"


@pytest.mark.parametrize(
    ("ua", "browser", "browser_version", "os", "os_version", "device"),
    [
        (CHROME_WINDOWS, "Chrome", "124.0.0", "Windows", "10", DeviceType.DESKTOP),
        (SAFARI_IPHONE, "Mobile Safari", "17.4", "iOS", "17.4.1", DeviceType.MOBILE),
        (SAFARI_IPAD, "Mobile Safari", "16.6", "iOS", "16.6", DeviceType.TABLET),
        (ANDROID_TABLET, "Chrome", "120.0.6099", "Android", "13", DeviceType.TABLET),
        (ANDROID_PHONE, "Chrome Mobile", "123.0.6312", "Android", "14", DeviceType.MOBILE),
        (CHROME_MAC, "Chrome", "124.0.0", "Mac OS X", "10.15.7", DeviceType.DESKTOP),
        (FIREFOX_LINUX, "Firefox", "125.0", "Ubuntu", "", DeviceType.DESKTOP),
        (GOOGLEBOT, "Googlebot", "2.1", "Other", "", DeviceType.BOT),
        (CURL, "curl", "8.5.0", "Other", "", DeviceType.OTHER),
        ("", "Other", "", "Other", "", DeviceType.OTHER),
    ],
)
def test_real_user_agents(ua: str, browser: str, browser_version: str, os: str, os_version: str,
                          device: DeviceType) -> None:
    agent = parse_user_agent(ua)
    assert (agent.browser_family, agent.browser_version) == (browser, browser_version)
    assert (agent.os_family, agent.os_version) == (os, os_version)
    assert agent.device_type == device
    assert agent.user_agent == ua


def test_huge_garbage_is_bounded_and_parsed() -> None:
    garbage = ("\x00\xff\u202e" + "A" * 97) * 100 + CHROME_WINDOWS  # 10 KB, the real UA past the cut
    agent = parse_user_agent(garbage)
    assert len(agent.user_agent) == 512
    assert agent.device_type == DeviceType.OTHER
    assert agent.browser_family == "Other"
    assert "\x00" not in agent.user_agent and "\u202e" not in agent.user_agent


def test_ten_kilobytes_of_a_real_agent_keeps_its_meaning() -> None:
    agent = parse_user_agent(CHROME_WINDOWS + " " + "x" * 10_000)
    assert len(agent.user_agent) == 512
    assert (agent.browser_family, agent.os_family) == ("Chrome", "Windows")


def test_control_characters_are_neutralised_not_dropped() -> None:
    raw = "Mozilla/5.0\r\nX-Injected: 1\x00\x1b[31m\x7f\x85\u2028\u202eevil"
    cleaned = user_agent_clean(raw)
    assert len(cleaned) == len(raw)  # replaced one for one: offsets in the raw value still line up
    assert all(ch.isprintable() for ch in cleaned)
    assert "\u202e" not in cleaned
    assert cleaned.startswith("Mozilla/5.0\ufffd\ufffdX-Injected: 1")
    assert parse_user_agent(raw).user_agent == cleaned


@pytest.mark.parametrize("value", [None, 42, b"curl/8.0", ["x"]])
def test_non_text_is_empty(value: object) -> None:
    agent = parse_user_agent(value)  # type: ignore[arg-type]
    assert agent.user_agent == ""
    assert agent.device_type == DeviceType.OTHER


def test_non_ascii_printable_text_is_kept() -> None:
    assert user_agent_clean("MailApp/1.0 (Zürich; 東京)") == "MailApp/1.0 (Zürich; 東京)"


def test_parser_is_built_once_and_results_are_cached() -> None:
    assert _parser() is _parser()
    assert parse_user_agent(CHROME_WINDOWS) is parse_user_agent(CHROME_WINDOWS)


# --- Client hints ------------------------------------------------------------------------------

def test_platform_version_hint_overrides_the_frozen_windows_version() -> None:
    agent = parse_user_agent(CHROME_WINDOWS, ch_platform='"Windows"', ch_mobile="?0",
                             ch_platform_version='"15.0.0"')
    assert (agent.os_family, agent.os_version) == ("Windows", "11")
    assert agent.device_type == DeviceType.DESKTOP
    assert parse_user_agent(CHROME_WINDOWS, ch_platform='"Windows"',
                            ch_platform_version='"10.0.0"').os_version == "10"


def test_platform_hint_alone_blanks_a_frozen_version_instead_of_repeating_it() -> None:
    assert parse_user_agent(CHROME_MAC).os_version == "10.15.7"
    hinted = parse_user_agent(CHROME_MAC, ch_platform='"macOS"', ch_mobile="?0")
    assert (hinted.os_family, hinted.os_version) == ("Mac OS X", "")
    with_version = parse_user_agent(CHROME_MAC, ch_platform='"macOS"', ch_platform_version='"14.5.0"')
    assert with_version.os_version == "14.5"
    android = parse_user_agent(ANDROID_REDUCED, ch_platform='"Android"', ch_mobile="?1",
                               ch_platform_version='"14.0.0"')
    assert (android.os_family, android.os_version, android.device_type) == (
        "Android", "14", DeviceType.MOBILE)


def test_real_versions_survive_a_matching_hint() -> None:
    agent = parse_user_agent(ANDROID_PHONE, ch_platform='"Android"', ch_mobile="?1")
    assert agent.os_version == "14"


def test_mobile_hint_decides_the_device() -> None:
    # Chrome on an Android tablet in a reduced UA: the hint is the only honest source.
    assert parse_user_agent(ANDROID_REDUCED).device_type == DeviceType.MOBILE
    assert parse_user_agent(ANDROID_REDUCED, ch_platform='"Android"',
                            ch_mobile="?0").device_type == DeviceType.TABLET
    assert parse_user_agent(CHROME_WINDOWS, ch_mobile="?1").device_type == DeviceType.MOBILE


def test_platform_hint_disagreeing_with_the_ua_wins_without_a_version() -> None:
    agent = parse_user_agent(CHROME_WINDOWS, ch_platform='"Linux"')
    assert (agent.os_family, agent.os_version) == ("Linux", "")
    ubuntu = parse_user_agent(FIREFOX_LINUX, ch_platform='"Linux"')
    assert ubuntu.os_family == "Ubuntu"  # the distribution is more precise than the hint


@pytest.mark.parametrize(
    ("platform", "mobile", "version"),
    [('"Haiku"', "?2", '"13"'), ("\x00" * 5000, "yes", "1" * 5000), ('"', "", '"15.0.0.0.0"'),
     ('""', "?1 ", "not-a-version"), ('"Unknown"', None, None)],
)
def test_garbage_hints_are_ignored(platform: str, mobile: str | None, version: str | None) -> None:
    plain = parse_user_agent(CHROME_WINDOWS)
    agent = parse_user_agent(CHROME_WINDOWS, ch_platform=platform, ch_mobile=mobile,
                             ch_platform_version=version)
    assert (agent.os_family, agent.os_version) == (plain.os_family, plain.os_version)
    assert agent.device_type in (DeviceType.DESKTOP, DeviceType.MOBILE)


def test_hints_never_turn_a_bot_into_a_person() -> None:
    agent = parse_user_agent(GOOGLEBOT, ch_platform='"Windows"', ch_mobile="?1")
    assert agent.device_type == DeviceType.BOT


# --- Agreement with user-agents on the shared corpus -----------------------------------------

CORPUS = Path(settings.BASE_DIR).parent / "shared" / "data" / "user_agents.txt"
# The ported rules are user-agents' own; the only differences come from the parse underneath.
# ua-parser 1.0's Rust matcher recognises a handful of crawlers (MSIECrawler, RSScrawler,
# PingdomBot, ...) as device "Spider" where the legacy Python matcher did not: 10 of 30,247
# strings with ua-parser-builtins 202610. Every disagreement must be one of those.
MAX_DISAGREEMENT_RATE = 0.001


def _their_device_type(ua: Any) -> str:
    if ua.is_bot:
        return "bot"
    if ua.is_tablet:
        return "tablet"
    if ua.is_mobile:
        return "mobile"
    if ua.is_pc:
        return "desktop"
    return "other"


@pytest.mark.skipif(not CORPUS.exists(), reason="shared User-Agent corpus not present")
def test_device_type_agrees_with_user_agents_on_the_corpus() -> None:
    import user_agents

    lines = CORPUS.read_text(encoding="utf-8", errors="replace").splitlines()
    assert len(lines) > 1000
    disagreements: Counter[tuple[str, str]] = Counter()
    families = 0
    for line in lines:
        theirs = user_agents.parse(line)
        ours = parse_user_agent(line)
        if _their_device_type(theirs) != ours.device_type:
            disagreements[(_their_device_type(theirs), str(ours.device_type))] += 1
        if (theirs.browser.family, theirs.os.family) != (ours.browser_family, ours.os_family):
            families += 1
    total = sum(disagreements.values())
    assert total / len(lines) <= MAX_DISAGREEMENT_RATE, disagreements
    assert all(ours == "bot" for (_, ours) in disagreements), disagreements
    assert families / len(lines) <= MAX_DISAGREEMENT_RATE
