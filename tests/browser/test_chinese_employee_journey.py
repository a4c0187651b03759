"""An employee who reads Chinese: on the sign-in page they switch the language to 简体中文, sign in,
mistype their current password once, change their password on 我的安全 (My security), sign out
and sign in again with the new one; every page, label, button and message along the way is in
Chinese. Runs at a desktop's and a phone's size."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from accounts.models import User
from activity.models import LoginEvent
from tests.browser.conftest import journey_screenshot
from tests.factories import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

NEW_PASSWORD = "Jasmine-tea-at-dawn-27"


def _sign_in_in_chinese(page: Page, base: str, email: str, password: str) -> None:
    page.goto(base + "/signin/")
    page.get_by_label("邮箱地址").fill(email)
    page.get_by_label("密码", exact=True).fill(password)
    page.get_by_role("button", name="登录", exact=True).click()


def test_employee_switches_to_chinese_signs_in_and_changes_password(live_server, page: Page,
                                                                    viewport):
    from tests.conftest import _tenant_set

    acme = _tenant_set("Acme")
    member = acme.member
    base = live_server.url

    page.goto(base + "/signin/")
    expect(page.get_by_role("button", name="Sign in")).to_be_visible()
    switcher = page.get_by_test_id("language-switcher")
    switcher.get_by_label("Language").select_option("zh-hans")
    switcher.get_by_role("button", name="Switch language").click()
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    expect(page.get_by_role("button", name="登录", exact=True)).to_be_visible()
    expect(page.get_by_label("邮箱地址")).to_be_visible()
    journey_screenshot(page, "zh-signin")

    _sign_in_in_chinese(page, base, member.email, PASSWORD)
    # Signed in, the choice made on the sign-in page carries on: it is now the person's own
    # language (they had none), kept on their account from now on.
    expect(page.get_by_role("heading", name="我的个人资料")).to_be_visible()
    assert User.objects.get(pk=member.pk).language == "zh-hans"

    nav = page.get_by_role("navigation", name="控制台")
    if viewport["width"] < 800:  # on a phone the navigation folds behind 菜单 (Menu)
        nav.get_by_text("菜单").click()
    nav.get_by_role("link", name="我的安全").click()
    expect(page.get_by_role("heading", name="我的安全", level=1)).to_be_visible()
    card = page.get_by_test_id("security-password")
    expect(card.get_by_role("heading", name="密码")).to_be_visible()

    # A mistyped current password: refused in Chinese, the password unchanged.
    card.get_by_label("当前密码").fill("not-my-password")
    card.get_by_label("新密码", exact=True).fill(NEW_PASSWORD)
    card.get_by_label("再次输入新密码").fill(NEW_PASSWORD)
    card.get_by_role("button", name="更改密码").click()
    expect(page.get_by_test_id("security-password")).to_contain_text("您的当前密码不正确。")
    member.refresh_from_db()
    assert member.check_password(PASSWORD)

    card = page.get_by_test_id("security-password")
    card.get_by_label("当前密码").fill(PASSWORD)
    card.get_by_label("新密码", exact=True).fill(NEW_PASSWORD)
    card.get_by_label("再次输入新密码").fill(NEW_PASSWORD)
    card.get_by_role("button", name="更改密码").click()
    expect(page.get_by_text("您的密码已更改。您的其他会话已结束。")).to_be_visible()
    expect(page.get_by_role("heading", name="我的安全", level=1)).to_be_visible()
    journey_screenshot(page, "zh-password-changed")
    assert User.objects.get(pk=member.pk).check_password(NEW_PASSWORD)

    # Signed out, the old password no longer works; the new one does, still in Chinese.
    page.get_by_role("button", name="退出登录").first.click()
    expect(page.get_by_role("button", name="登录", exact=True)).to_be_visible()
    _sign_in_in_chinese(page, base, member.email, PASSWORD)
    expect(page.get_by_role("button", name="登录", exact=True)).to_be_visible()
    expect(page.get_by_role("heading", name="我的个人资料")).to_have_count(0)
    _sign_in_in_chinese(page, base, member.email, NEW_PASSWORD)
    expect(page.get_by_role("heading", name="我的个人资料")).to_be_visible()
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    journey_screenshot(page, "zh-signed-in-again")

    outcomes = list(LoginEvent.objects.for_tenant(acme.tenant).filter(user=member)
                    .order_by("id").values_list("outcome", flat=True))
    assert outcomes[-2:] == ["failure", "success"]
