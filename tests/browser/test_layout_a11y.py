"""Every console page on a phone: at 390 px and 360 px wide nothing scrolls the page sideways,
and axe-core finds no violation of any impact.

The walk visits every console route that takes no parameter (tests/urlwalk.py), the pages of
one person, one sign-in and the signed-out pages, signed in as an owner (who may see every
console page) over a record with sign-ins in it, so the log tables have rows. A route that is
not a page (an export, a POST-only action, a machine endpoint) is left out by name below; a new
page is walked without anyone listing it. Known failures of pages other helpers are rewriting
are marked ``xfail(strict=True)``, so the mark has to go the day the page is fixed.
"""

from __future__ import annotations

import pytest
from django.conf import settings
from django.test import Client
from playwright.sync_api import Page, expect

from activity.models import LoginEvent
from tests.browser.conftest import _overflowing, axe_report, axe_violations
from tests.factories import PASSWORD
from tests.security.signin_support import CHROME_WINDOWS, SAFARI_IPHONE
from tests.urlwalk import console_routes

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True), pytest.mark.axe_manual]

WIDTHS = (390, 360)

# Routes that are not pages a person reads: machine endpoints, downloads, POST-only actions, the
# steps of a sign-in in progress (each redirects to the sign-in page without one).
NOT_PAGES = {
    "healthz", "readyz", "i18n/setlang/", "signout/", "mailauth/policy",
    "signin/mfa/", "signin/mfa/enroll/", "signin/mfa/passkey/begin/", "signin/mfa/passkey/complete/",
    "signin/passkey-i18n.js",
    "people/bulk/", "people/export/", "people/import/template.csv",
    "me/security/sessions/end/", "me/security/sessions/end-others/", "me/security/my-data.csv",
    "me/security/password/", "me/security/preferences/", "me/mfa/backup-codes/", "me/mfa/enrolled/",
    "me/mfa/passkeys/register/begin/", "me/mfa/passkeys/register/complete/",
    "logs/signins/export/", "logs/exports/export/", "logs/audit/export/", "me/signins/export/",
    "me/exports/export/", "alerts/bulk/", "alerts/export/", "retention/reports/month.csv",
    "",  # the landing redirect: it lands on the dashboard, walked itself
}
SIGNED_OUT = ("/signin/", "/signin/forgot/", "/signin/forgot/sent/")
# Parameterised pages worth a phone's look: {member} is a person's id, {event} a sign-in's.
WITH_IDS = ("/people/{member}/", "/people/{member}/signins/", "/logs/signins/{event}/")
# Pages that first ask the person to confirm it is them (accounts.mfa.decorators.recent_auth_required):
# the walk confirms with the password, as a person would on /me/mfa/confirm/, then reads the page.
RECENT_AUTH = ("/me/mfa/totp/", "/me/mfa/passkeys/add/")


def _console_paths() -> list[str]:
    paths = sorted({"/" + route for route, _pattern in console_routes()
                    if "<" not in route and not route.startswith(("^", "signin/"))
                    and route not in NOT_PAGES})
    return paths + list(WITH_IDS)


# Pages that fail today, owned by other helpers' work in progress: (path, width or None for every
# width) → the rule that fails. Each entry is a strict xfail, so it goes the day its page is fixed.
KNOWN: dict[tuple[str, int | None], str] = {}


def _cases() -> list[object]:
    cases: list[object] = []
    for path in [*_console_paths(), *SIGNED_OUT]:
        for width in WIDTHS:
            reason = KNOWN.get((path, width)) or KNOWN.get((path, None))
            marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
            cases.append(pytest.param(path, width, marks=marks, id=f"{path}@{width}"))
    return cases


def _record(email: str, password: str, ip: str, ua: str) -> None:
    Client().post("/signin/", {"email": email, "password": password}, REMOTE_ADDR=ip,
                  HTTP_USER_AGENT=ua)


@pytest.mark.parametrize(("path", "width"), _cases())
def test_page_fits_a_phone_and_passes_axe(live_server, page: Page, path: str, width: int):
    from tests.conftest import _tenant_set

    acme = _tenant_set("Acme")
    _record(acme.member.email, "wrong", "8.8.8.8", SAFARI_IPHONE)
    _record(acme.helpdesk.email, PASSWORD, "81.2.69.160", CHROME_WINDOWS)
    event = LoginEvent.objects.for_tenant(acme.tenant).filter(user=acme.member).latest("occurred_at")
    page.set_viewport_size({"width": width, "height": 800})
    if path not in SIGNED_OUT:
        client = Client(HTTP_USER_AGENT=CHROME_WINDOWS)
        signed_in = client.post("/signin/", {"email": acme.owner.email, "password": PASSWORD})
        assert signed_in.status_code == 302, signed_in.content[:300]
        if path in RECENT_AUTH:
            confirmed = client.post("/me/mfa/confirm/", {"secret": PASSWORD, "next": path})
            assert confirmed.status_code == 302 and confirmed["Location"] == path, confirmed.content[:300]
        page.context.add_cookies([{"name": settings.SESSION_COOKIE_NAME, "url": live_server.url,
                                   "value": client.cookies[settings.SESSION_COOKIE_NAME].value}])
    url = path.format(member=acme.member.pk, event=event.pk)

    response = page.goto(live_server.url + url)
    assert response is not None and response.status == 200, (url, response and response.status)
    assert page.url.endswith(url), f"{url} went to {page.url}"
    expect(page.locator("h1").first).to_be_visible()

    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"{url} at {width} px scrolls sideways by {overflow} px: {_overflowing(page)}"
    violations = axe_violations(page)
    assert not violations, "axe-core:\n" + axe_report(violations, f"{url} @ {width} px")


def test_the_walk_covers_the_console():
    paths = _console_paths()
    for path in ("/dashboard/", "/people/", "/people/locked/", "/me/sessions/", "/logs/signins/",
                 "/logs/audit/", "/policies/password/", "/alerts/", "/retention/reports/"):
        assert path in paths
    assert not {"/signout/", "/logs/signins/export/", "/healthz"} & set(paths)


def test_the_menu_opens_without_javascript_on_a_phone(live_server, browser):
    from tests.conftest import _tenant_set

    acme = _tenant_set("Acme")
    context = browser.new_context(java_script_enabled=False, viewport={"width": 360, "height": 800})
    phone = context.new_page()
    phone.goto(live_server.url + "/signin/")
    phone.get_by_label("E-mail address").fill(acme.owner.email)
    phone.get_by_label("Password").fill(PASSWORD)
    phone.get_by_role("button", name="Sign in").click()
    nav = phone.get_by_role("navigation", name="Console")
    expect(nav.get_by_role("link", name="Sign-in log")).to_be_hidden()
    nav.get_by_text("Menu").click()
    expect(nav.get_by_role("link", name="Sign-in log")).to_be_visible()
    assert phone.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    nav.get_by_role("link", name="Sign-in log").click()
    expect(phone.get_by_role("heading", level=1)).to_contain_text("Sign-in log")
    context.close()


def test_keyboard_reaches_the_content_through_the_skip_link(live_server, page: Page):
    from tests.conftest import _tenant_set

    acme = _tenant_set("Acme")
    page.goto(live_server.url + "/signin/")
    page.get_by_label("E-mail address").fill(acme.admin.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", level=1).first).to_be_visible()
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to main content")
    expect(skip).to_be_focused()
    expect(skip).to_be_visible()  # shown when focused, out of sight otherwise
    outline = skip.evaluate("el => getComputedStyle(el).outlineStyle")
    assert outline != "none"  # the focus ring is visible
    page.keyboard.press("Enter")
    assert page.url.endswith("#main")
    expect(page.locator("main#main")).to_be_focused()


def test_the_second_steps_of_adding_an_authenticator_fit_a_phone_and_pass_axe(live_server, page: Page):
    """The walk reads each page as it first opens; these are the states a person goes on to: a
    wrong code on the TOTP page, and the passkey page once it has a name."""
    from tests.conftest import _tenant_set

    acme = _tenant_set("Acme")
    page.set_viewport_size({"width": 360, "height": 800})
    page.goto(live_server.url + "/signin/")
    page.get_by_label("E-mail address").fill(acme.member.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", level=1).first).to_be_visible()

    page.goto(live_server.url + "/me/mfa/totp/")
    page.get_by_label("Password or authentication code").fill(PASSWORD)
    page.get_by_role("button", name="Confirm").click()
    expect(page.get_by_role("heading", name="Add an authenticator app")).to_be_visible()
    page.get_by_label("Code").fill("000000")
    page.get_by_role("button", name="Confirm and turn on").click()
    expect(page.get_by_role("alert").or_(page.locator(".field.has-error")).first).to_be_visible()
    _fits_and_passes_axe(page, "/me/mfa/totp/ with a wrong code")

    page.goto(live_server.url + "/me/mfa/passkeys/add/")
    page.get_by_label("Name (optional)").fill("Work laptop")
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_test_id("passkey-name")).to_contain_text("Work laptop")
    _fits_and_passes_axe(page, "/me/mfa/passkeys/add/ with a name")


def _fits_and_passes_axe(page: Page, where: str) -> None:
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"{where} scrolls sideways by {overflow} px: {_overflowing(page)}"
    violations = axe_violations(page)
    assert not violations, "axe-core:\n" + axe_report(violations, where)


def test_the_overflow_report_names_what_escapes_a_scroller(page: Page):
    """A failure message names the element to fix, including an absolutely positioned one that a
    scrolling box does not clip (it is positioned against an ancestor outside that box)."""
    page.set_viewport_size({"width": 390, "height": 844})
    page.set_content("""<body style="margin:0"><div style="overflow-x:auto;width:300px">
        <table><tr><th><span id="escapes" style="position:absolute;left:600px">Actions</span></th>
        <td id="clipped" style="display:block;width:900px">wide</td></tr></table></div></body>""")
    report = " ".join(_overflowing(page))
    assert "span#escapes" in report
    assert "clipped" not in report  # scrolls inside its box: not the page's problem
