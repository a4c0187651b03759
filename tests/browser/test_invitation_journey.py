from __future__ import annotations

import re

import pytest
from django.core import mail
from playwright.sync_api import Page, expect

from tests.factories import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _sign_in(page: Page, base: str, email: str, password: str) -> None:
    page.goto(base + "/signin/")
    page.get_by_label("E-mail address").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


def test_owner_invites_an_employee_who_sets_a_password_and_signs_in(live_server, page: Page):
    from tests.conftest import _tenant_set

    acme = _tenant_set("Acme")
    base = live_server.url

    _sign_in(page, base, acme.owner.email, PASSWORD)
    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()
    expect(page.get_by_test_id("people-total")).to_have_text("5")

    page.get_by_role("link", name="People").click()
    page.get_by_role("link", name="Invite someone").click()
    page.get_by_label("E-mail address").fill("lin.wei@acme.example")
    page.get_by_label("Display name").fill("Lin Wei")
    page.get_by_label("Role").select_option("member")
    page.get_by_role("button", name="Send invitation").click()
    expect(page.get_by_text("Invitation sent to lin.wei@acme.example.")).to_be_visible()
    expect(page.get_by_test_id("person-status")).to_have_text("Invited")

    assert len(mail.outbox) == 1
    link = re.search(r"https?://\S+/invitation/\S+/", mail.outbox[0].body).group(0)
    path = link[link.index("/invitation/"):]

    page.get_by_role("button", name="Sign out").click()
    page.goto(base + path)
    expect(page.get_by_role("heading", name="Set your password")).to_be_visible()
    page.get_by_label("New password").fill("Lantern-orchard-2026")
    page.get_by_label("Repeat the password").fill("Lantern-orchard-2026")
    page.get_by_role("button", name="Set password").click()
    expect(page.get_by_text("Your password is set. Sign in to continue.")).to_be_visible()

    _sign_in(page, base, "Lin.Wei@ACME.example", "Lantern-orchard-2026")
    expect(page.get_by_role("heading", name="My profile")).to_be_visible()
    expect(page.get_by_text("lin.wei@acme.example")).to_be_visible()
    # A member has no console navigation.
    expect(page.get_by_role("link", name="People")).to_have_count(0)
