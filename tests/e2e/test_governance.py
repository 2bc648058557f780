"""Governance as an admin does it: add a connector and test it, share a workflow with a builder
who then sees it, and find both actions on the audit page. Also: the sign-in page offers
"Sign in with SSO" when the server says single sign-on is configured.

Set BATON_GOVERNANCE_SHOTS=docs/img to refresh the documentation screenshots.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from orchestrator_core.testing.llm_stub import StubServer

pytestmark = pytest.mark.browser

SHOTS = Path(os.environ["BATON_GOVERNANCE_SHOTS"]) if os.environ.get("BATON_GOVERNANCE_SHOTS") else None
API_KEY = "sk-e2e-canary-4b1d9f"
BUILDER2 = ("gwen", "gwen-builder-passphrase-9")
WORKFLOW = "Quarterly report (governance e2e)"


def _shot(page: Any, name: str, *, full_page: bool = False) -> None:
    if SHOTS is not None:
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=full_page)


def _api(page: Any, method: str, path: str, body: Any = None) -> Any:
    """Call the API with the page's session (and its CSRF token), as the SPA does."""
    token = next(c["value"] for c in page.context.cookies() if c["name"] == "csrftoken")
    response = page.request.fetch(
        path,
        method=method,
        data=json.dumps(body) if body is not None else None,
        headers={"X-CSRFToken": token, "Content-Type": "application/json"},
    )
    assert response.ok, (method, path, response.status, response.text()[:300])
    return response.json() if response.status != 204 else None


def _admin_nav(page: Any, item: str) -> None:
    # Through the menu, as a person would.
    page.get_by_role("button", name="Admin", exact=True).click()
    page.get_by_role("link", name=item).click()


def _sign_in(browser: Any, base: str, username: str, password: str) -> Any:
    context = browser.new_context(viewport={"width": 1400, "height": 860}, base_url=base)
    page = context.new_page()
    page.goto("/login")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in", exact=True).click()
    page.get_by_test_id("current-user").wait_for()
    return page


def test_connector_test_share_and_audit(open_page, browser, baton_server) -> None:
    admin = open_page("admin")

    # A second builder (created by the admin through the users API) sees nothing of ours yet.
    _api(admin, "POST", "/api/users/", {"username": BUILDER2[0], "role": "builder", "password": BUILDER2[1]})
    workflow = _api(admin, "POST", "/api/workflows/", {"name": WORKFLOW})

    with StubServer("OK") as llm:
        # Add a model connector (an OpenAI-compatible server on 127.0.0.1) and test it.
        _admin_nav(admin, "Connectors")
        admin.get_by_role("button", name="New connector").click()
        dialog = admin.get_by_role("dialog", name="New connector")
        dialog.get_by_label("Name").fill("local-llm")
        dialog.get_by_label("Kind").select_option("model")
        dialog.get_by_label("Provider").select_option("openai_compatible")
        dialog.get_by_label("Base URL").fill(llm.base_url)
        dialog.get_by_label("Models").fill("e2e-small")
        dialog.get_by_label("API key").fill(API_KEY)
        dialog.get_by_role("button", name="Create connector").click()
        expect(dialog).to_be_hidden()
        row = admin.get_by_test_id("connector-row-local-llm")
        row.get_by_role("button", name="Test connector local-llm").click()
        result = row.get_by_role("status")
        expect(result).to_have_text(re.compile(r"^✓ OK · \d+ ms$"))
        assert [r["model"] for r in llm.requests] == ["e2e-small"]
    assert API_KEY not in admin.content()
    _shot(admin, "connectors-test")

    # Share the workflow from the editor with the new builder (view).
    admin.goto(f"/workflows/{workflow['id']}")
    admin.get_by_role("button", name="Share").click()
    share = admin.get_by_role("dialog", name=f"Share {WORKFLOW}")
    expect(share.get_by_text("Not shared yet")).to_be_visible()
    share.get_by_label("Username").fill(BUILDER2[0])
    share.get_by_label("Permission", exact=True).select_option("view")
    share.get_by_role("button", name="Share", exact=True).click()
    expect(share.get_by_label(f"Permission for {BUILDER2[0]}")).to_have_value("view")
    _shot(admin, "share-dialog")
    admin.keyboard.press("Escape")
    expect(share).to_be_hidden()
    expect(admin.get_by_role("button", name="Share")).to_be_focused()

    # The builder signs in and finds it in the workflow list.
    gwen = _sign_in(browser, baton_server, *BUILDER2)
    try:
        gwen.goto("/")
        expect(gwen.get_by_text(WORKFLOW)).to_be_visible()
        gwen.get_by_text(WORKFLOW).click()
        expect(gwen).to_have_url(re.compile(rf"/workflows/{workflow['id']}$"))
        # A view share: no Share button for her (sharing needs edit).
        expect(gwen.get_by_role("button", name="Share")).to_have_count(0)
    finally:
        gwen.context.close()

    # Both actions are on the audit page.
    _admin_nav(admin, "Audit log")
    table = admin.get_by_role("table", name="Audit events")
    expect(table).to_contain_text("connector.test")
    expect(table).to_contain_text("workflow.share")
    assert API_KEY not in admin.content()
    assert not admin.console_errors


def test_login_page_offers_sso_when_configured(browser, baton_server) -> None:
    context = browser.new_context(viewport={"width": 1000, "height": 700}, base_url=baton_server)
    try:
        page = context.new_page()
        # The e2e server has no identity provider: answer the config call as a configured one would.
        page.route(
            "**/api/auth/config/",
            lambda route: route.fulfill(
                json={
                    "password_login": True,
                    "sso": {
                        "enabled": True,
                        "label": "Sign in with SSO",
                        "login_url": "/api/auth/oidc/authenticate/",
                    },
                }
            ),
        )
        page.goto("/login?next=/runs")
        button = page.get_by_role("link", name="Sign in with SSO")
        expect(button).to_have_attribute("href", "/api/auth/oidc/authenticate/?next=%2Fruns")
        expect(page.get_by_label("Username")).to_be_visible()
        _shot(page, "login-sso")
        # A refused SSO sign-in comes back with a reason the page explains.
        page.goto("/login?sso_error=SSO_NO_ROLE")
        expect(page.get_by_role("alert")).to_contain_text("not in any group that has access")
        # Without the route, the real server says SSO is off: no button.
        page.unroute("**/api/auth/config/")
        page.goto("/login")
        expect(page.get_by_label("Username")).to_be_visible()
        expect(page.get_by_role("link", name="Sign in with SSO")).to_have_count(0)
    finally:
        context.close()
