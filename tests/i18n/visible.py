"""What a person reads on a page, and the English sentences left in it.

The visible text is every text node outside ``<script>``/``<style>``, plus the attributes a
person reads or hears (``placeholder``, ``title``, ``aria-label``, ``alt``, a button's ``value``).
An English sentence is three or more English words in a row once the values that are data, not
interface, are taken out: e-mail addresses, URLs, IP addresses, User-Agent strings, the product
and vendors' names, and the names of the test's own people and companies.
"""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser

# Names that stay as they are in Chinese: products, vendors, standards, file formats.
PROPER_NAMES = [
    "mailadmin", "Google Authenticator", "Microsoft Authenticator", "Google", "Microsoft",
    "FreeOTP", "Aegis", "Outlook", "Foxmail", "Apple Mail", "Thunderbird", "CSV UTF-8",
    "JSON Lines", "Excel", "Windows", "Chrome", "Safari", "Firefox", "Mac OS X", "macOS", "iOS",
    "Android", "Linux", "iPhone", "NIST", "HMAC-SHA256", "X-Mailadmin-Signature",
    "X-Mailadmin-Timestamp", "User-Agent", "English", "Other",
]
_ATTRIBUTES = {"placeholder", "title", "aria-label", "alt"}
_DATA = [
    re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+"),  # e-mail addresses
    re.compile(r"https?://\S+"),
    re.compile(r"Mozilla/\S+.*?(?=$|\n)"),  # User-Agent strings
    re.compile(r"\b\d{1,3}(?:\.\d{1,3}){3}(?:/\d+)?\b"),  # IPv4
    re.compile(r"\b[0-9a-f]{0,4}(?::[0-9a-f]{0,4}){2,7}(?:/\d+)?\b", re.I),  # IPv6
]
ENGLISH_RUN = re.compile(r"[A-Za-z][a-z'\u2019]+(?:[ \t,;:-]+[A-Za-z][a-z'\u2019]+){2,}")


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.chunks: list[str] = []
        self._skip = 0
        self._select: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style", "template"):
            self._skip += 1
        values = dict(attrs)
        if tag == "select":
            self._select = values.get("name") or ""
        for name in _ATTRIBUTES:
            if values.get(name):
                self.chunks.append(values[name] or "")
        if tag == "input" and values.get("type") in ("submit", "button") and values.get("value"):
            self.chunks.append(values["value"] or "")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style", "template") and self._skip:
            self._skip -= 1
        if tag == "select":
            self._select = None

    def handle_data(self, data: str) -> None:
        if self._select is not None and "timezone" in self._select:
            return  # IANA zone names ("America/North_Dakota/Beulah") are data, as the tz database spells them
        if not self._skip and data.strip():
            self.chunks.append(data)


def visible_text(page: str) -> list[str]:
    parser = _Text()
    parser.feed(page)
    return [html.unescape(chunk).strip() for chunk in parser.chunks if chunk.strip()]


def english_sentences(page: str, *, data_values: list[str] = ()) -> list[str]:
    """The runs of three or more English words a person would read on this page."""
    found = []
    # Longest first, so "Google Authenticator" goes before "Google".
    names = sorted([*PROPER_NAMES, *(v for v in data_values if v)], key=len, reverse=True)
    for chunk in visible_text(page):
        text = chunk
        for pattern in _DATA:
            text = pattern.sub(" ", text)
        for name in names:
            text = text.replace(name, " ")
        found.extend(match.group(0) for match in ENGLISH_RUN.finditer(text))
    return found
