"""Admin and account pages as people use them: an admin invites a user (who accepts the link),
creates an http connector whose secret is never shown, a builder creates and revokes an API token,
and the audit log lists all of it."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

# Set BATON_ADMIN_SHOTS=/tmp/admin-shots to save a screenshot of each page.
SHOTS = Path(os.environ["BATON_ADMIN_SHOTS"]) if os.environ.get("BATON_ADMIN_SHOTS") else None
CANARY = "canary-secret-7f3a9c1e"


def _shot(page, name: str) -> None:
    if SHOTS is not None:
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def _fake_usage(route) -> None:
    import datetime as dt
    from urllib.parse import parse_qs, urlsplit

    group = parse_qs(urlsplit(route.request.url).query).get("group_by", ["day"])[0]
    today = dt.datetime.now(dt.UTC).date()
    if group == "day":
        keys = [(today - dt.timedelta(days=d)).isoformat() for d in (0, 3, 4, 10, 25)]
        labels = keys
    else:
        keys = ["1", "2"] if group == "workflow" else ["gpt-4o-mini", "claude-haiku"]
        labels = ["Reply to a customer email", "Triage"] if group == "workflow" else keys
    costs = [0.9, 0.5, 0.25, 0.15, 0.1][: len(keys)]
    rows = [
        {"key": k, "label": lab, "runs": 3, "steps": 4, "tokens_in": 1200, "tokens_out": 300, "cost_usd": c}
        for k, lab, c in zip(keys, labels, costs, strict=False)
    ]
    total = {"runs": 15, "steps": 20, "tokens_in": 6000, "tokens_out": 1500, "cost_usd": 1.9}
    route.fulfill(json={"group_by": group, "days": 30, "rows": rows, "totals": total})


def _admin_nav(page, item: str) -> None:
    page.get_by_role("button", name="Admin", exact=True).click()
    page.get_by_role("link", name=item).click()


def test_admin_pages(open_page, browser, baton_server) -> None:
    admin = open_page("admin")

    # Invite a user: the link is shown once, with a Copy button.
    _admin_nav(admin, "Users")
    expect(admin).to_have_url(re.compile(r"/admin/users$"))
    expect(admin.get_by_test_id("user-row-builder")).to_be_visible()
    admin.get_by_role("button", name="Invite user").click()
    admin.get_by_label("Username").fill("newbie")
    admin.get_by_label("Email").fill("newbie@example.com")
    admin.get_by_label("Display name").fill("Nina Newbie")
    admin.get_by_label("Role").select_option("reviewer")
    admin.get_by_role("button", name="Create invite").click()
    link_box = admin.get_by_role("textbox", name="Invite link for newbie")
    expect(link_box).to_have_value(re.compile(r"^http://127\.0\.0\.1:\d+/invite/\S+$"))
    expect(admin.get_by_role("button", name="Copy")).to_be_visible()
    expect(admin.get_by_test_id("user-row-newbie")).to_contain_text("invited")
    invite_url = link_box.input_value()
    _shot(admin, "users")

    # The invited person sets a password on the public page (no session).
    context = browser.new_context(viewport={"width": 1400, "height": 860}, base_url=baton_server)
    try:
        guest = context.new_page()
        guest.goto(invite_url)
        expect(guest.get_by_role("heading", name="Welcome to Baton")).to_be_visible()
        # A refused password is explained by message (PASSWORD_INVALID details).
        guest.get_by_label("Password", exact=True).fill("abc")
        guest.get_by_label("Confirm password").fill("abc")
        guest.get_by_role("button", name="Activate account").click()
        expect(guest.get_by_role("alert")).to_contain_text("password")
        guest.get_by_label("Password", exact=True).fill("a-long-enough-passphrase-42")
        guest.get_by_label("Confirm password").fill("a-long-enough-passphrase-42")
        _shot(guest, "invite")
        guest.get_by_role("button", name="Activate account").click()
        expect(guest.get_by_text("Your account is ready")).to_be_visible()
        _shot(guest, "invite-done")
        guest.get_by_role("link", name="Sign in").click()
        guest.get_by_label("Username").fill("newbie")
        guest.get_by_label("Password").fill("a-long-enough-passphrase-42")
        guest.get_by_role("button", name="Sign in").click()
        expect(guest.get_by_test_id("current-user")).to_contain_text("Nina Newbie")
    finally:
        context.close()

    # An http connector with a bearer secret: the list says "secret set", never the value.
    _admin_nav(admin, "Connectors")
    admin.get_by_role("button", name="New connector").click()
    dialog = admin.get_by_role("dialog", name="New connector")
    dialog.get_by_label("Name").fill("crm-api")
    dialog.get_by_label("Kind").select_option("http")
    dialog.get_by_label("Base URL").fill("https://crm.example.com/api")
    dialog.get_by_label("Authentication").select_option("bearer")
    dialog.get_by_label("Bearer token").fill(CANARY)
    dialog.get_by_role("button", name="Create connector").click()
    expect(dialog).to_be_hidden()
    row = admin.get_by_test_id("connector-row-crm-api")
    expect(row).to_contain_text("secret set")
    expect(row).to_contain_text("crm.example.com")
    assert CANARY not in admin.content()
    admin.get_by_role("button", name="Edit connector crm-api").click()
    edit = admin.get_by_role("dialog", name="Edit connector crm-api")
    expect(edit.get_by_label("Bearer token")).to_have_value("")
    expect(edit.get_by_label("Bearer token")).to_have_attribute("placeholder", "set — leave empty to keep")
    assert CANARY not in admin.content()
    _shot(admin, "connector-edit")
    edit.get_by_role("button", name="Cancel").click()
    _shot(admin, "connectors")

    # Queues page lists the demo queues with members.
    _admin_nav(admin, "Queues")
    expect(admin.get_by_role("heading", name="Queues")).to_be_visible()
    expect(admin.locator("table")).to_contain_text("Support")
    _shot(admin, "queues")

    # A builder creates and revokes an API token; it is shown once.
    builder = open_page("builder")
    builder.get_by_role("button", name=re.compile(r"^Account:")).click()
    builder.get_by_role("link", name="API tokens").click()
    expect(builder).to_have_url(re.compile(r"/account/tokens$"))
    builder.get_by_label("Token name").fill("ci-script")
    builder.get_by_label("Expires in (days)").fill("30")
    builder.get_by_role("button", name="Create token").click()
    token_box = builder.get_by_role("textbox", name="New token ci-script")
    expect(token_box).to_have_value(re.compile(r"^bat_"))
    expect(builder.get_by_text("only time Baton shows it")).to_be_visible()
    row = builder.get_by_test_id("token-row-ci-script")
    expect(row).to_contain_text("active")
    _shot(builder, "tokens")
    builder.get_by_role("button", name="Revoke token ci-script").click()
    builder.get_by_role("dialog").get_by_role("button", name="Revoke token").click()
    expect(row).to_contain_text("revoked")
    expect(token_box).to_be_hidden()
    # Builders have no Admin menu; Usage is for everyone.
    expect(builder.get_by_role("button", name="Admin", exact=True)).to_have_count(0)
    builder.get_by_role("link", name="Usage").click()
    expect(builder.get_by_role("heading", name="Usage")).to_be_visible()
    expect(builder.get_by_test_id("usage-cost")).to_be_visible()
    _shot(builder, "usage")
    # The chart draws one bar per day (figures faked in the browser: the demo has no LLM costs).
    builder.route("**/api/usage/**", _fake_usage)
    builder.get_by_label("Period").select_option("30")
    builder.reload()
    chart = builder.get_by_role("img", name=re.compile(r"^Cost by day for the last 30 days"))
    expect(chart.locator("rect")).to_have_count(30)
    expect(builder.get_by_test_id("usage-cost")).to_have_text("$1.90")
    _shot(builder, "usage-chart")
    builder.unroute("**/api/usage/**")

    # The audit log lists those actions; filters narrow it and the export link carries them.
    _admin_nav(admin, "Audit log")
    table = admin.get_by_role("table", name="Audit events")
    for action in (
        "user.create",
        "user.invitation_accept",
        "connector.create",
        "api_token.create",
        "api_token.revoke",
    ):
        expect(table).to_contain_text(action)
    assert CANARY not in admin.content()
    _shot(admin, "audit")
    admin.get_by_label("Action").fill("api_token.")
    admin.get_by_label("Actor").fill("builder")
    admin.get_by_role("button", name="Apply filters").click()
    expect(admin.get_by_test_id("audit-row")).to_have_count(2)
    expect(admin.get_by_role("link", name="Export CSV")).to_have_attribute(
        "href", "/api/audit/export.csv?action=api_token.&actor=builder"
    )
    assert not admin.console_errors
    assert not builder.console_errors
