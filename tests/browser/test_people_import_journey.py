from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.factories import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CSV = ("邮箱,姓名,角色,操作\n"
       "lin.wei@acme.example,林伟,成员,\n"
       "zhao.min@acme.example,赵敏,服务台,\n"
       "stranger@globex.example,Stranger,,\n").encode("gb18030")


def _sign_in(page: Page, base: str, email: str) -> None:
    page.goto(base + "/signin/")
    page.get_by_label("E-mail address").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()


def test_admin_imports_a_csv_with_an_error_row_reads_the_preview_and_applies_it(live_server, page: Page):
    from tests.conftest import _tenant_set

    acme = _tenant_set("Acme")
    _tenant_set("Globex")
    base = live_server.url
    _sign_in(page, base, acme.admin.email)
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()

    page.goto(base + "/people/import/")
    expect(page.get_by_role("heading", name="Import people from a CSV file")).to_be_visible()
    expect(page.get_by_test_id("import-columns")).to_contain_text("邮箱")
    page.get_by_label("CSV file").set_input_files(
        {"name": "new-staff.csv", "mimeType": "text/csv", "buffer": CSV})
    page.get_by_role("button", name="Upload and preview").click()

    # The preview (run in process in the embedded default) lists each row's outcome.
    expect(page.get_by_test_id("import-status")).to_have_text("Ready to apply")
    expect(page.get_by_test_id("total-create")).to_have_text("2")
    expect(page.get_by_test_id("total-error")).to_have_text("1")
    error_row = page.get_by_test_id("import-row").filter(has_text="stranger@globex.example")
    expect(error_row).to_contain_text("globex.example is not one of your company's mail domains.")
    expect(page.get_by_test_id("import-row").filter(has_text="lin.wei@acme.example")).to_contain_text("林伟")

    page.get_by_label("Apply every valid row; skip the rows with errors").check()
    page.get_by_role("button", name="Apply").click()
    expect(page.get_by_text("The import of new-staff.csv is being applied.")).to_be_visible()
    expect(page.get_by_test_id("import-status")).to_have_text("Applied")

    page.goto(base + "/people/")
    expect(page.get_by_text("lin.wei@acme.example")).to_be_visible()
    expect(page.get_by_text("zhao.min@acme.example")).to_be_visible()
    expect(page.get_by_text("stranger@globex.example")).to_have_count(0)
