"""The owner shortens retention, reads the preview count, confirms; the nightly sweep runs (the
command, as an operator would run it); the owner reads its receipt and a report that did not
change when the rows under it were deleted. Runs at a desktop's and a phone's size; full-page
screenshots land in var/artefacts/ (not test-results/, which pytest-playwright empties)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.management import call_command
from django.utils import timezone
from playwright.sync_api import Page, expect

from activity.models import LoginEvent, Outcome, Reason, RetentionPolicy
from tests.browser.conftest import follow_nav, journey_screenshot, sideways_overflow
from tests.factories import PASSWORD
from tests.retention.support import exports, sign_ins

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

OLD_SIGNINS, OLD_FAILURES = 23, 4


def test_owner_shortens_retention_sweeps_and_reads_receipt_and_reports(live_server, page: Page,
                                                                       viewport):
    from tests.conftest import _tenant_set

    acme, globex = _tenant_set("Acme"), _tenant_set("Globex")
    RetentionPolicy.objects.create(tenant=acme.tenant, visible_days=90, purge_days=365,
                                   audit_days=365)
    # Globex keeps a year: Acme's shorter policy must not reach its rows.
    RetentionPolicy.objects.create(tenant=globex.tenant, visible_days=90, purge_days=365,
                                   audit_days=365)
    old = (timezone.now() - dt.timedelta(days=200)).replace(hour=10, minute=0)
    sign_ins(acme.tenant, acme.member, [old] * OLD_SIGNINS)
    sign_ins(acme.tenant, acme.member, [old] * OLD_FAILURES, outcome=Outcome.FAILURE,
             reason=Reason.BAD_CREDENTIALS, country="CN")
    exports(acme.tenant, acme.admin, [old])
    sign_ins(acme.tenant, acme.member, [timezone.now() - dt.timedelta(days=2)] * 5)
    sign_ins(globex.tenant, globex.member, [old] * 7)
    month = old.astimezone(dt.UTC).strftime("%Y-%m")
    base = live_server.url

    page.goto(base + "/signin/")
    page.get_by_label("E-mail address").fill(acme.owner.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()

    # The report of that month before anything is deleted.
    follow_nav(page, "Reports")
    page.get_by_role("combobox", name="Month", exact=True).select_option(month)
    page.get_by_role("button", name="Show the month").click()
    signins_table = page.get_by_test_id("table-signins")
    expect(page.get_by_test_id("report-tiles")).to_contain_text(str(OLD_SIGNINS))
    before = signins_table.inner_text()  # once the month is shown (it loads in place)

    # Shorten: the preview counts what the next sweep will delete; nothing is saved yet.
    follow_nav(page, "Retention")
    page.get_by_label("Deleted for good after (days)").fill("180")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("heading", name="Confirm the shorter retention")).to_be_visible()
    total = OLD_SIGNINS + OLD_FAILURES
    expect(page.get_by_test_id("preview-total")).to_contain_text(
        f"The next sweep will delete {total + 1} records for good")
    expect(page.get_by_test_id("purge-preview")).to_contain_text(f"Sign-in events: {total}")
    expect(page.get_by_test_id("purge-preview")).to_contain_text("Export events: 1")
    assert RetentionPolicy.objects.get(tenant=acme.tenant).purge_days == 365
    journey_screenshot(page, "retention-confirm")
    page.get_by_test_id("confirm-shorten").click()
    expect(page.get_by_text("The retention policy is saved.")).to_be_visible()
    expect(page.get_by_test_id("policy-purge")).to_have_text("180 days")
    expect(page.get_by_test_id("no-receipt")).to_be_visible()

    # The nightly sweep, run by hand.
    call_command("sweep_retention", "--no-progress", verbosity=0)
    assert not LoginEvent.objects.for_tenant(acme.tenant).filter(occurred_at__lte=old).exists()
    assert LoginEvent.objects.for_tenant(globex.tenant).filter(occurred_at__lte=old).count() == 7

    page.reload()
    receipt = page.get_by_test_id("last-receipt")
    expect(receipt).to_contain_text("rows removed, 0 kept by holds")
    expect(page.get_by_test_id("receipts")).to_contain_text(f"Sign-in events: {total}")
    journey_screenshot(page, "retention-receipt")

    # The same report, now read from the totals the sweep kept.
    follow_nav(page, "Reports")
    page.get_by_role("combobox", name="Month", exact=True).select_option(month)
    page.get_by_role("button", name="Show the month").click()
    expect(page.get_by_test_id("rolled-up-note")).to_be_visible()
    assert signins_table.inner_text() == before
    expect(page.get_by_test_id("report-tiles")).to_contain_text(str(OLD_SIGNINS))
    expect(page.get_by_test_id("chart-signins").locator("svg")).to_be_visible()
    journey_screenshot(page, "retention-reports")

    # The other retention pages, at this size too: nothing scrolls sideways (the replay of every
    # page served checks that as well); wide tables scroll inside their cards.
    for url in ("/retention/", "/retention/holds/", f"/retention/reports/?month={month}"):
        page.goto(base + url)
        assert sideways_overflow(page) <= 0, url
