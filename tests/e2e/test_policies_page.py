"""The admin's Policies page: set the global policy, add a workflow policy, see the list.

Set BATON_POLICY_SHOT=/path/to/file.png to save a screenshot of the page (docs/img/admin-policies.png)."""

from __future__ import annotations

import os
import re

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import call

pytestmark = pytest.mark.browser


def test_admin_sets_global_and_workflow_policies(open_page) -> None:
    admin = open_page("admin")
    # Other browser tests share this server: start from, and go back to, no global limits.
    call(admin, "PUT", "/api/policies/global/", {})
    try:
        _set_policies(admin)
    finally:
        call(admin, "PUT", "/api/policies/global/", {})
        for row in call(admin, "GET", "/api/policies/workflows/")["results"]:
            if row["workflow"]["name"] == "Reply to a customer email":
                call(admin, "DELETE", f"/api/workflows/{row['workflow']['id']}/policy/")


def _set_policies(admin) -> None:
    admin.get_by_role("button", name="Admin", exact=True).click()
    admin.get_by_role("link", name="Policies").click()
    expect(admin).to_have_url(re.compile(r"/admin/policies$"))
    expect(admin.get_by_role("heading", name="Workflow policies")).to_be_visible()

    form = admin.get_by_role("form", name="Global policy")
    form.get_by_label("Per run: max USD").fill("2")
    form.get_by_label("Per user per month: max tokens").fill("500000")
    form.get_by_label("When a budget is reached").select_option("downgrade")
    form.get_by_label("Four eyes").check()
    form.get_by_label("Keep finished runs (days)").fill("90")
    form.get_by_role("button", name="Save global policy").click()
    expect(form.get_by_text("Saved.")).to_be_visible()

    # A value the API refuses answers with its message, next to the form.
    form.evaluate("f => f.noValidate = true")
    form.get_by_label("Keep finished runs (days)").fill("0")
    form.get_by_role("button", name="Save global policy").click()
    expect(form.get_by_role("alert")).to_contain_text("retention_days")
    form.get_by_label("Keep finished runs (days)").fill("90")

    admin.get_by_role("button", name="Add workflow policy").click()
    dialog = admin.get_by_role("dialog")
    dialog.get_by_label("Workflow", exact=True).select_option(label="Reply to a customer email")
    dialog.get_by_label("Redact personal data").check()
    dialog.get_by_label("Every external send needs approval").check()
    dialog.locator("#wf-model-restrict").check()
    dialog.get_by_label("demo", exact=True).check()
    dialog.get_by_role("button", name="Save workflow policy").click()
    expect(dialog).to_be_hidden()
    row = admin.locator("[data-testid^=policy-row-]", has_text="Reply to a customer email")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("Reply to a customer email")
    expect(row).to_contain_text("models: demo")
    expect(row).to_contain_text("redact personal data")
    assert admin.console_errors == []

    shot = os.environ.get("BATON_POLICY_SHOT")
    if shot:
        admin.goto("/admin/policies")  # a full load of the page, fresh from the server
        expect(
            admin.locator("[data-testid^=policy-row-]", has_text="Reply to a customer email")
        ).to_have_count(1)
        admin.screenshot(path=shot, full_page=True)
