"""The README's screenshots, made by the test run rather than drawn by hand: the owner's dashboard
and the auditor's sign-in log over two weeks of a small company's sign-ins, and an alert's page
in Chinese as a zh-Hans administrator reads it. Each page is checked for what it shows before it
is photographed into docs/screenshots/ (committed; ``make test`` regenerates them)."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import Browser, Page, expect

from activity.capture.types import ClientInfo, DeviceType
from activity.models import LoginEvent
from activity.services import login_event_record
from alerts.models import Alert
from alerts.tasks import alerts_detect_task
from tests.factories import PASSWORD, UserFactory
from tests.security.signin_support import CHROME_WINDOWS, SAFARI_IPHONE

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
DESKTOP = {"width": 1280, "height": 860}

CHROME = dict(user_agent=CHROME_WINDOWS, browser_family="Chrome", browser_version="126",
              os_family="Windows", os_version="10", device_type=DeviceType.DESKTOP)
SAFARI = dict(user_agent=SAFARI_IPHONE, browser_family="Mobile Safari", browser_version="17.5",
              os_family="iOS", os_version="17.5", device_type=DeviceType.MOBILE)
OFFICE = ClientInfo(ip="8.8.8.8", country="US", **CHROME)  # type: ignore[arg-type]
PHONE = ClientInfo(ip="8.8.4.4", country="US", **SAFARI)  # type: ignore[arg-type]
ABROAD = ClientInfo(ip="81.2.69.160", country="GB", **CHROME)  # type: ignore[arg-type]
GUESSER = ClientInfo(ip="1.0.16.1", country="JP", **CHROME)  # type: ignore[arg-type]

NAMES = {"owner": "Maria Santos", "admin": "Adam Fischer", "auditor": "Priya Nair",
         "helpdesk": "Tom Becker", "member": "Lin Wei"}
COLLEAGUES = ("Sofia Rossi", "Kenji Tanaka", "Amara Okafor", "Lukas Novak", "Chen Jie")


def _seed(acme) -> list:
    """Two weeks of working-day sign-ins for everyone, a few mistyped passwords and a stranger
    guessing; then Lin Wei's account signs in from the United Kingdom, which opens an alert."""
    people = []
    for role, name in NAMES.items():
        person = getattr(acme, role)
        person.display_name = name
        person.save()
        people.append(person)
    for name in COLLEAGUES:
        first, last = name.lower().split()
        people.append(UserFactory(tenant=acme.tenant, display_name=name,
                                  email=f"{first}.{last}@acme.example"))
    now = timezone.now()
    morning = now.replace(hour=9, minute=0, second=0, microsecond=0)
    for days in range(21, 0, -1):
        day = morning - dt.timedelta(days=days)
        for n, person in enumerate(people):
            at = day + dt.timedelta(minutes=7 * n)
            client = PHONE if n % 3 == 0 else OFFICE
            if n % 4 == days % 4:
                login_event_record(tenant=acme.tenant, user=person, attempted_login=person.email,
                                   client=client, outcome="failure", reason="bad_credentials",
                                   occurred_at=at - dt.timedelta(minutes=1))
            login_event_record(tenant=acme.tenant, user=person, attempted_login=person.email,
                               client=client, outcome="success", reason="", occurred_at=at)
    for minutes in (50, 49, 48, 47):
        login_event_record(tenant=acme.tenant, user=None, attempted_login="ceo@acme.example",
                           client=GUESSER, outcome="failure", reason="unknown_account",
                           occurred_at=now - dt.timedelta(minutes=minutes))
    member = acme.member
    login_event_record(tenant=acme.tenant, user=member, attempted_login=member.email,
                       client=ABROAD, outcome="success", reason="",
                       occurred_at=now - dt.timedelta(minutes=20))
    alerts_detect_task()
    return people


def _sign_in(page: Page, base: str, email: str) -> None:
    page.goto(base + "/signin/")
    page.get_by_label("E-mail address").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()


def test_readme_screenshots_of_dashboard_signin_log_and_an_alert_in_chinese(
        live_server, browser: Browser):
    from tests.conftest import _tenant_set

    acme = _tenant_set("Acme")
    _seed(acme)
    alert = Alert.objects.for_tenant(acme.tenant).get(rule="new_country", user=acme.member)
    base = live_server.url
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    # The owner's dashboard.
    owner = browser.new_context(viewport=DESKTOP, user_agent=CHROME_WINDOWS).new_page()
    _sign_in(owner, base, acme.owner.email)
    expect(owner.get_by_role("heading", name="Dashboard", level=1)).to_be_visible()
    expect(owner.get_by_test_id(f"alerts-{alert.severity}")).to_have_text("1")
    expect(owner.get_by_test_id("people-total")).to_have_text(str(len(NAMES) + len(COLLEAGUES)))
    assert int(owner.get_by_test_id("signins-failure").inner_text()) >= 4  # the stranger's guesses
    expect(owner.get_by_test_id("lacking-mfa")).to_contain_text("Lin Wei")
    owner.screenshot(path=str(SCREENSHOTS / "dashboard.png"), full_page=True)

    # The auditor's sign-in log: the newest first, the stranger's guesses among them.
    auditor = browser.new_context(viewport=DESKTOP, user_agent=CHROME_WINDOWS).new_page()
    _sign_in(auditor, base, acme.auditor.email)
    auditor.goto(base + "/logs/signins/")
    expect(auditor.get_by_role("heading", name="Sign-in log", level=1)).to_be_visible()
    rows = auditor.get_by_test_id("signin-row")
    expect(rows.first).to_contain_text("Priya Nair")  # the auditor's own sign-in, just now
    expect(rows.filter(has_text="ceo@acme.example")).to_have_count(4)
    expect(rows.filter(has_text="Lin Wei").first).to_contain_text(re.compile("United Kingdom|GB"))
    auditor.screenshot(path=str(SCREENSHOTS / "signin-log.png"), full_page=False)

    # The alert, read by an administrator whose language is Chinese.
    admin = acme.admin
    admin.language = "zh-hans"
    admin.save()
    chinese = browser.new_context(viewport=DESKTOP, user_agent=CHROME_WINDOWS).new_page()
    _sign_in(chinese, base, admin.email)
    chinese.goto(f"{base}/alerts/{alert.pk}/")
    expect(chinese.locator("html")).to_have_attribute("lang", "zh-hans")
    expect(chinese.get_by_test_id("alert-explained")).to_contain_text("从 英国 登录")
    expect(chinese.get_by_test_id("alert-explained")).to_contain_text("曾从 美国 登录")
    expect(chinese.get_by_test_id("alert-status")).to_have_text("未处理")
    expect(chinese.get_by_role("button", name="确认")).to_be_visible()
    chinese.screenshot(path=str(SCREENSHOTS / "alert-zh.png"), full_page=True)

    assert LoginEvent.objects.for_tenant(acme.tenant).count() > 200
    for name in ("dashboard", "signin-log", "alert-zh"):
        assert (SCREENSHOTS / f"{name}.png").stat().st_size > 20_000, name
