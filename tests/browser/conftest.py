"""Browser tests: Playwright driving the system Chromium against Django's live server.

Every page a browser test is served is checked with axe-core (the copy that axe-playwright-python
ships, injected through the DevTools protocol, so no CDN and no change to the Content-Security-
Policy). The HTML of every document each page receives is captured as the browser receives it
(DevTools ``Fetch`` interception at the response stage: the browser itself makes every request,
with its cookies and redirects, we only read the body). When the test body has passed, each
distinct document is rendered again, with the app's own stylesheets, in a fresh page at the
viewport it was seen in, axe runs over it, and any violation of any impact fails the test with
the page and the rule. Capturing rather than checking on the ``load`` event makes the check
deterministic: a test that clicks on before an asynchronous check could finish still has every
page it saw checked. ``axe_check(page)`` checks the page as it is now, for tests that want to
check a state reached by script. ``@pytest.mark.axe_manual`` turns the capture off for a test
that calls ``axe_check`` itself.

The same replay measures each document for sideways scrolling: a page whose
``document.documentElement.scrollWidth`` exceeds the window's width fails the test, naming the
outermost elements that reach past the right edge (``OVERFLOWING_JS``). A journey that takes the
``viewport`` fixture runs twice, at a desktop's 1280x900 and a phone's 390x844 (every page and
context it opens gets that viewport), and ``journey_screenshot(page, name)`` saves a full-page
screenshot of its key moments as ``var/artefacts/<name>-<desktop|phone>.png``.
"""

from __future__ import annotations

import base64
import contextlib
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, BrowserContext, Page, Route

# Playwright's sync API runs an event loop in this thread; Django's ORM calls from the test body
# are still synchronous. Only these tests need the exemption.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")

_AXE = Axe()
# Every rule axe-core runs by default (WCAG 2.0-2.2 A and AA, best practices); none is disabled.
_AXE_OPTIONS: dict[str, Any] = {"resultTypes": ["violations"]}


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "axe_manual: the test calls axe_check itself; pages it is served are not replayed")


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict) -> dict:
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        # Without these Chromium keeps trying to reach Google's services on a closed network.
        "args": ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"],
    }


# --- viewports, sideways scrolling and screenshots -----------------------------------------------

DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
# Screenshots of the journeys' key moments (not test-results/, which pytest-playwright empties).
ARTEFACTS = Path(__file__).resolve().parents[2] / "var" / "artefacts"


@pytest.fixture(params=[pytest.param(DESKTOP, id="desktop"), pytest.param(PHONE, id="phone")])
def viewport(request: pytest.FixtureRequest) -> dict[str, int]:
    """The journey runs at a desktop's and at a phone's size; every page it opens has it."""
    return dict(request.param)


def _requested_viewport(request: pytest.FixtureRequest) -> dict[str, int] | None:
    if "viewport" not in request.fixturenames:
        return None
    return request.getfixturevalue("viewport")


@pytest.fixture
def page(page: Page, request: pytest.FixtureRequest) -> Page:
    page.set_default_timeout(15_000)
    size = _requested_viewport(request)
    if size:
        page.set_viewport_size(size)  # type: ignore[arg-type]
    return page


def viewport_name(page: Page) -> str:
    size = page.viewport_size
    return "phone" if size and size["width"] <= 480 else "desktop"


def journey_screenshot(page: Page, name: str) -> Path:
    """A full-page screenshot of the page as it is now: var/artefacts/<name>-<desktop|phone>.png."""
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTEFACTS / f"{name}-{viewport_name(page)}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def follow_nav(page: Page, link: str, *, menu: str = "Menu") -> None:
    """Click a link of the console's navigation, opening it first where a phone folds it behind
    ``menu`` (pass its translation on a page in another language)."""
    nav = page.locator("nav.sidebar")
    toggle = nav.get_by_text(menu, exact=True)
    if toggle.is_visible():
        toggle.click()
    nav.get_by_role("link", name=link, exact=True).click()


# The elements that reach past the right edge of the viewport and are not inside a box that
# scrolls or clips them, outermost first (at most eight), each as tag#id.class right=N.
OVERFLOWING_JS = """() => {
    const width = window.innerWidth, out = [];
    for (const el of document.body.querySelectorAll('*')) {
        const box = el.getBoundingClientRect();
        if (box.width && box.right > width + 1) {
            // What clips an element is a scrolling ancestor at or above its containing block:
            // an absolutely positioned one escapes scrollers below its offsetParent, a fixed one
            // escapes them all.
            const position = getComputedStyle(el).position;
            let scroller = position === 'fixed' ? null
                : position === 'absolute' ? el.offsetParent : el.parentElement, inside = false;
            while (scroller && scroller !== document.body) {
                const style = getComputedStyle(scroller);
                if (['auto', 'scroll', 'hidden'].includes(style.overflowX)) { inside = true; break; }
                scroller = scroller.parentElement;
            }
            if (!inside) out.push(el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') +
                (el.className && typeof el.className === 'string' ? '.' + el.className.trim().split(/\\s+/).join('.') : '') +
                ' right=' + Math.round(box.right));
        }
    }
    return out.slice(0, 8);
}"""


def _overflowing(page: Page) -> list[str]:
    """The elements that reach past the right edge of the viewport, outermost first."""
    return list(page.evaluate(OVERFLOWING_JS))


def sideways_overflow(page: Page) -> int:
    """How many pixels the page scrolls sideways (0 or less: it fits the window)."""
    return int(page.evaluate("document.documentElement.scrollWidth - window.innerWidth"))


def overflow_report(page: Page, where: str) -> str:
    """Empty when the page fits its window's width; otherwise by how much and what sticks out."""
    overflow = sideways_overflow(page)
    if overflow <= 0:
        return ""
    width = page.viewport_size["width"] if page.viewport_size else "?"
    return f"{where} at {width} px scrolls sideways by {overflow} px: {', '.join(_overflowing(page))}"


# --- axe-core ----------------------------------------------------------------------------------


def axe_violations(page: Page) -> list[dict[str, Any]]:
    """axe-core's violations on the page as it is now (each a dict: id, impact, help, nodes)."""
    return list(_AXE.run(page, options=_AXE_OPTIONS).response["violations"])


def axe_report(violations: list[dict[str, Any]], where: str) -> str:
    lines = []
    for violation in violations:
        targets = [" ".join(map(str, node["target"])) for node in violation["nodes"]]
        shown = ", ".join(targets[:5]) + (f" (+{len(targets) - 5} more)" if len(targets) > 5 else "")
        lines.append(f"{where}: {violation['id']} ({violation['impact']}): {violation['help']} — {shown}")
    return "\n".join(lines)


def axe_check(page: Page) -> None:
    """Fail when axe-core finds any violation, of any impact, on the page as it is now."""
    violations = axe_violations(page)
    assert not violations, "axe-core:\n" + axe_report(violations, page.url)


@dataclass
class _Seen:
    url: str
    html: str
    viewport: dict[str, int] | None


@dataclass
class AxeRecorder:
    """The documents the test's pages were served, checked once the test body has passed."""

    browser: Browser
    seen: list[_Seen] = field(default_factory=list)
    enabled: bool = True

    def watch(self, context: BrowserContext, page: Page) -> None:
        if not self.enabled:
            return
        cdp = context.new_cdp_session(page)

        def on_paused(event: dict[str, Any]) -> None:
            request_id = event["requestId"]
            headers = {h["name"].lower(): h["value"] for h in event.get("responseHeaders") or []}
            status = event.get("responseStatusCode") or 0
            is_html = headers.get("content-type", "").startswith("text/html")
            attachment = "attachment" in headers.get("content-disposition", "")
            if is_html and not attachment and not 300 <= status < 400:
                # Only fails when the page went away while this document loaded.
                with contextlib.suppress(Exception):
                    body = cdp.send("Fetch.getResponseBody", {"requestId": request_id})
                    raw = body["body"]
                    html = (base64.b64decode(raw).decode("utf-8", "replace")
                            if body.get("base64Encoded") else raw)
                    self.seen.append(_Seen(event["request"]["url"], html, page.viewport_size))
            with contextlib.suppress(Exception):  # the request was cancelled meanwhile
                cdp.send("Fetch.continueRequest", {"requestId": request_id})

        cdp.on("Fetch.requestPaused", on_paused)
        cdp.send("Fetch.enable", {"patterns": [{"resourceType": "Document",
                                                 "requestStage": "Response"}]})

    def violations(self) -> str:
        """Replay each distinct document with the app's stylesheets, at the viewport it was seen
        in, run axe-core on it and measure whether it scrolls sideways."""
        self.enabled = False  # the replay's own pages are not recorded
        reports: list[str] = []
        done: set[tuple[str, str]] = set()
        context = self.browser.new_context()
        try:
            for seen in self.seen:
                key = (seen.url, seen.html)
                if key in done:
                    continue
                done.add(key)
                replay = context.new_page()
                if seen.viewport:
                    replay.set_viewport_size(seen.viewport)  # type: ignore[arg-type]
                replay.route(_same_url(seen.url), _serve(seen.html))
                replay.goto(seen.url, wait_until="load")
                wide = overflow_report(replay, seen.url)
                if wide:
                    reports.append(wide)
                found = axe_violations(replay)
                if found:
                    reports.append(axe_report(found, seen.url))
                replay.close()
        finally:
            context.close()
        return "\n".join(reports)


def _same_url(url: str) -> Callable[[str], bool]:
    return lambda candidate: candidate == url


def _serve(html: str) -> Callable[[Route], None]:
    def handler(route: Route) -> None:
        route.fulfill(status=200, content_type="text/html; charset=utf-8", body=html)

    return handler


def _wrap(original: Callable[..., Any], after: Callable[[Any, Any], None]) -> Callable[..., Any]:
    def wrapped(self: Any, *args: Any, **kwargs: Any) -> Any:
        result = original(self, *args, **kwargs)
        after(self, result)
        return result

    return wrapped


@pytest.fixture(autouse=True)
def _axe_every_page(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch,
                    browser: Browser) -> Iterator[AxeRecorder]:
    """Watches every page a browser test opens (the ``page`` fixture's and those of contexts the
    test makes itself); ``pytest_runtest_call`` below checks what they were served."""
    recorder = AxeRecorder(browser=browser,
                           enabled=request.node.get_closest_marker("axe_manual") is None)

    size = _requested_viewport(request)
    if size:
        # Contexts the journey makes itself open at its viewport unless it asks for another.
        original_new_context = Browser.new_context

        def new_context_at_size(self: Browser, *args: Any, **kwargs: Any) -> BrowserContext:
            kwargs.setdefault("viewport", size)
            return original_new_context(self, *args, **kwargs)

        monkeypatch.setattr(Browser, "new_context", new_context_at_size)

    def watch_context(_browser: Any, context: BrowserContext) -> None:
        monkeypatch.setattr(context, "new_page", _wrap_bound(context))

    def _wrap_bound(context: BrowserContext) -> Callable[..., Page]:
        original = context.new_page

        def new_page(*args: Any, **kwargs: Any) -> Page:
            created = original(*args, **kwargs)
            recorder.watch(context, created)
            return created

        return new_page

    def watch_browser_page(_browser: Any, created: Page) -> None:
        recorder.watch(created.context, created)

    monkeypatch.setattr(Browser, "new_context", _wrap(Browser.new_context, watch_context))
    monkeypatch.setattr(Browser, "new_page", _wrap(Browser.new_page, watch_browser_page))
    request.node.stash[_RECORDER] = recorder
    yield recorder


_RECORDER = pytest.StashKey[AxeRecorder]()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Iterator[None]:
    outcome = yield
    recorder = item.stash.get(_RECORDER, None)
    if recorder is None or not recorder.enabled or outcome.exception is not None:
        return
    report = recorder.violations()
    if report:
        outcome.force_exception(AssertionError(
            "axe-core found violations, or a page scrolls sideways:\n" + report))
