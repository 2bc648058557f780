"""The connector form is generated from the API's per-kind schemas: an admin creates an HTTP
connector with OAuth2 client credentials; the client secret is write-only ("set" badge)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

# Set BATON_CONNECTOR_SHOTS=/some/dir to save the screenshot (docs/img/connector-oauth2.png).
SHOTS = Path(os.environ["BATON_CONNECTOR_SHOTS"]) if os.environ.get("BATON_CONNECTOR_SHOTS") else None
CANARY = "canary-oauth2-e2e-5Hs8"


def test_oauth2_connector_form(open_page) -> None:
    admin = open_page("admin")
    admin.get_by_role("button", name="Admin", exact=True).click()
    admin.get_by_role("link", name="Connectors").click()
    admin.get_by_role("button", name="New connector").click()
    dialog = admin.get_by_role("dialog", name="New connector")
    dialog.get_by_label("Name").fill("crm-oauth")
    dialog.get_by_label("Kind").select_option("http")
    dialog.get_by_label("Base URL").fill("https://api.crm.example.com/v2")
    expect(dialog.get_by_label("Token URL")).to_have_count(0)
    dialog.get_by_label("Authentication").select_option(label="oauth2_client_credentials")
    dialog.get_by_label("Token URL").fill("https://login.crm.example.com/oauth/token")
    dialog.get_by_label("Client ID").fill("baton-prod")
    dialog.get_by_label("Scope").fill("tickets:read tickets:write")
    dialog.get_by_label("Client secret").fill(CANARY)
    expect(dialog.get_by_label("Client secret")).to_have_attribute("type", "password")
    expect(dialog.get_by_label("Bearer token")).to_have_count(0)
    if SHOTS is not None:
        SHOTS.mkdir(parents=True, exist_ok=True)
        admin.set_viewport_size({"width": 1400, "height": 1250})  # the whole dialog
        dialog.screenshot(path=str(SHOTS / "connector-oauth2.png"))
    dialog.get_by_role("button", name="Create connector").click()
    expect(dialog).to_be_hidden()
    row = admin.get_by_test_id("connector-row-crm-oauth")
    expect(row).to_contain_text("secret set")
    expect(row).to_contain_text("api.crm.example.com, login.crm.example.com")
    assert CANARY not in admin.content()

    admin.get_by_role("button", name="Edit connector crm-oauth").click()
    edit = admin.get_by_role("dialog", name="Edit connector crm-oauth")
    expect(edit.get_by_label("Token URL")).to_have_value("https://login.crm.example.com/oauth/token")
    expect(edit.get_by_test_id("secret-set-client_secret")).to_have_text("set")
    expect(edit.get_by_label("Client secret")).to_have_value("")
    assert CANARY not in admin.content()
    assert admin.console_errors == []
