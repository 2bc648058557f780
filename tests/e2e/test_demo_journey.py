"""The walking skeleton's journey through the real UI (issue steps 2 to 6), as a person does it."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

CUSTOMER = {
    "Customer e-mail": "carol@example.com",
    "Subject": "Refund for order 1234",
    "Message": "Hello, I was charged twice for order 1234. Please refund the second charge.",
}
EDIT = "P.S. I have refunded the second charge myself. — Rey"


def _open_demo_workflow(page):
    page.get_by_role("link", name="Workflows").click()
    page.get_by_role("link", name="Reply to a customer email").first.click()
    expect(page.locator(".react-flow__node")).to_have_count(5)


def test_run_review_edit_approve_and_send(open_page):
    builder = open_page("builder")
    _open_demo_workflow(builder)

    # The builder runs the workflow and watches the statuses change live on the canvas.
    builder.get_by_role("button", name="Run", exact=True).click()
    dialog = builder.get_by_role("dialog")
    for label, value in CUSTOMER.items():
        dialog.get_by_role("textbox", name=label).fill(value)
    dialog.get_by_role("button", name="Start run").click()
    for node in ("trigger", "classify", "draft"):
        expect(builder.get_by_test_id(f"node-status-{node}")).to_have_text("succeeded")
    expect(builder.get_by_test_id("node-status-review")).to_have_text("waiting")
    expect(builder.get_by_test_id("run-status").first).to_have_text("waiting")
    expect(builder.get_by_test_id("node-status-send")).to_have_count(0)
    # The builder also keeps the run page open (a second tab) while the run waits.
    run_page = builder.context.new_page()
    run_page.goto(builder.get_by_role("link", name="Open run page").get_attribute("href"))
    expect(run_page.get_by_test_id("run-status").first).to_have_text("waiting")
    expect(run_page.get_by_test_id("step-review")).to_contain_text("waiting")

    # The reviewer finds the item in the inbox, reads the e-mail and the draft, edits, approves.
    reviewer = open_page("reviewer")
    reviewer.get_by_role("link", name=re.compile("Review inbox")).click()
    reviewer.get_by_role("link", name="Reply to carol@example.com: Refund for order 1234").click()
    expect(reviewer.get_by_test_id("review-context").get_by_text(CUSTOMER["Message"])).to_be_visible()
    draft = reviewer.get_by_role("textbox", name="reply")
    expect(draft).to_have_value(re.compile(r"Hello Carol"))
    edited = draft.input_value() + "\n" + EDIT
    draft.fill(edited)
    reviewer.get_by_role("button", name="Approve").click()
    expect(reviewer.get_by_test_id("review-outcome")).to_contain_text(re.compile("approved", re.I))

    # The builder's pages, never reloaded, see the run resume and finish.
    expect(run_page.get_by_test_id("step-send")).to_contain_text("succeeded")
    expect(run_page.get_by_test_id("run-status").first).to_have_text("succeeded")
    expect(builder.get_by_test_id("node-status-review")).to_have_text("succeeded")
    expect(builder.get_by_test_id("node-status-send")).to_have_text("succeeded")
    expect(builder.get_by_test_id("run-status").first).to_have_text("succeeded")

    # The run page shows every step's input, output, duration and model.
    builder.get_by_role("link", name="Open run page").click()
    expect(builder.get_by_test_id("run-status").first).to_have_text("succeeded")
    draft_row = builder.get_by_test_id("step-draft")
    expect(draft_row).to_contain_text("succeeded")
    expect(draft_row).to_contain_text("demo")
    expect(draft_row).to_contain_text(re.compile(r"\d+ ms|\d+(\.\d+)? s"))
    draft_row.get_by_role("button").first.click()
    expect(builder.get_by_text(re.compile("Drafted by Baton's offline demo model")).first).to_be_visible()

    # The e-mail that went out is the edited text.
    builder.get_by_role("link", name="Outbox").click()
    message = builder.locator("[data-testid^=outbox-]").first
    expect(message).to_contain_text("Re: Refund for order 1234")
    expect(message).to_contain_text("carol@example.com")
    expect(message).to_contain_text(EDIT)
    assert builder.console_errors == []
    assert reviewer.console_errors == []


def test_drag_connect_configure_save_reload(open_page):
    builder = open_page("builder")
    _open_demo_workflow(builder)
    pane = builder.locator(".react-flow__pane")
    box = pane.bounding_box()
    builder.get_by_test_id("palette-item-data.template").drag_to(
        pane, target_position={"x": box["width"] * 0.6, "y": box["height"] * 0.8}
    )
    expect(builder.locator(".react-flow__node")).to_have_count(6)
    ids = builder.locator(".react-flow__node").evaluate_all("els => els.map(e => e.dataset.id)")
    new_id = next(i for i in ids if i not in {"trigger", "classify", "draft", "review", "send"})

    # Connect the e-mail step's output to the new node's input.
    edges_before = builder.locator(".react-flow__edge").count()
    builder.locator('.react-flow__handle[data-nodeid="send"][data-handlepos="right"]').drag_to(
        builder.locator(f'.react-flow__handle[data-nodeid="{new_id}"][data-handlepos="left"]')
    )
    expect(builder.locator(".react-flow__edge")).to_have_count(edges_before + 1)

    # Configure it in the side panel (a form generated from the node type's JSON Schema).
    builder.locator(f'.react-flow__node[data-id="{new_id}"]').click()
    builder.get_by_role("textbox", name="Node label").fill("Sent confirmation")
    builder.get_by_role("textbox", name="Template", exact=True).fill("Sent to {{ trigger.from }}")
    builder.get_by_role("button", name="Save", exact=True).click()
    expect(builder.get_by_test_id("save-state")).to_have_text("Saved")

    builder.reload()
    node = builder.locator(f'.react-flow__node[data-id="{new_id}"]')
    expect(node).to_contain_text("Sent confirmation")
    expect(builder.locator(".react-flow__edge")).to_have_count(edges_before + 1)
    node.click()
    expect(builder.get_by_role("textbox", name="Template", exact=True)).to_have_value(
        "Sent to {{ trigger.from }}"
    )
    assert builder.console_errors == []


def test_run_page_shows_the_streamed_draft(open_page):
    builder = open_page("builder")
    # Not _open_demo_workflow: an earlier test may have added a node to the demo workflow.
    builder.get_by_role("link", name="Workflows").click()
    builder.get_by_role("link", name="Reply to a customer email").first.click()
    expect(builder.get_by_test_id("save-state")).to_have_text("Saved", timeout=30_000)
    builder.get_by_role("button", name="Run", exact=True).click()
    dialog = builder.get_by_role("dialog")
    for label, value in CUSTOMER.items():
        dialog.get_by_role("textbox", name=label).fill(value)
    dialog.get_by_role("button", name="Start run").click()
    builder.get_by_role("link", name="Open run page").click()

    # The demo model streams: the draft's text shows in its step row, live or complete.
    live = builder.get_by_test_id("step-live-draft")
    expect(live).to_contain_text("Hello Carol", timeout=30_000)
    expect(builder.get_by_test_id("step-draft")).to_contain_text("succeeded", timeout=30_000)
    expect(live).to_contain_text(re.compile("Drafted by Baton's offline demo model"), timeout=30_000)
    expect(builder.get_by_test_id("run-status").first).to_have_text("waiting", timeout=30_000)
    assert builder.console_errors == []
