"""The review inbox's filters (queue, due soon, assigned to me) with counts, claim/release from
the keyboard, and the review page's context (trigger, earlier steps, cost) with a live word diff
of an edit in a ``fields_schema`` form. Saves docs/img/inbox-filters.png and
docs/img/review-context-diff.png."""

from __future__ import annotations

import time
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.backend.conftest import CUSTOMER_EMAIL
from tests.conftest import ROOT
from tests.e2e.conftest import call

pytestmark = pytest.mark.browser

IMG = ROOT / "docs" / "img"


def _urgent_workflow(page: Any) -> int:
    """The demo support reply, with a 2-hour deadline and a typed form for the reviewer."""
    demo = next(
        w for w in call(page, "GET", "/api/workflows/")["results"] if w["name"] == "Reply to a customer email"
    )
    document = call(page, "GET", f"/api/workflows/{demo['id']}/")["document"]
    for node in document["nodes"]:
        if node["id"] == "review":
            node["config"]["due_in_minutes"] = 120
            node["config"]["fields"] = {**node["config"]["fields"], "refund": "true", "tone": "warm"}
            node["config"]["fields_schema"] = {
                "properties": {
                    "reply": {"type": "string", "title": "Reply", "maxLength": 4000},
                    "refund": {"type": "boolean", "title": "Refund the second charge"},
                    "tone": {"type": "string", "title": "Tone", "enum": ["warm", "formal"]},
                }
            }
    created = call(page, "POST", "/api/workflows/", {"name": "Urgent refunds", "document": document})
    call(page, "POST", f"/api/workflows/{created['id']}/publish/", {"note": "due in 2 h"})
    return int(created["id"])


def _start(page: Any, workflow_id: int, subject: str) -> int:
    inputs = {**CUSTOMER_EMAIL, "subject": subject}
    return int(call(page, "POST", f"/api/workflows/{workflow_id}/runs/", {"inputs": inputs})["id"])


def _wait_items(page: Any, run_ids: set[int]) -> dict[int, int]:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        items = call(page, "GET", "/api/approvals/?status=pending")["results"]
        found = {a["run_id"]: a["id"] for a in items if a["run_id"] in run_ids}
        if len(found) == len(run_ids):
            return found
        time.sleep(0.3)
    raise AssertionError("the runs did not reach the review step")


def test_inbox_filters_and_review_context(open_page) -> None:
    builder = open_page("builder")
    demo = next(
        w
        for w in call(builder, "GET", "/api/workflows/")["results"]
        if w["name"] == "Reply to a customer email"
    )
    urgent = _urgent_workflow(builder)
    runs = {
        _start(builder, urgent, "Charged twice for order 1234"),
        _start(builder, urgent, "Refund for order 981"),
        _start(builder, demo["id"], "Where is my parcel?"),
    }
    reviewer = open_page("reviewer")  # the builder is no Support member: they see no items
    _wait_items(reviewer, runs)
    reviewer.goto("/inbox")
    table = reviewer.get_by_role("table", name="Review items")
    expect(table.locator("tbody tr")).to_have_count(call(reviewer, "GET", "/api/approvals/")["count"])
    expect(reviewer.get_by_test_id("chip-due-soon")).to_contain_text("2")

    reviewer.get_by_test_id("chip-due-soon").click()
    reviewer.wait_for_url("**/inbox?due_soon=1")
    expect(table.locator("tbody tr")).to_have_count(2)
    reviewer.get_by_test_id("queue-filter").select_option("Support")
    reviewer.wait_for_url("**/inbox?queue=Support&due_soon=1")
    expect(table.locator("tbody tr")).to_have_count(2)

    # c claims the selected item: the list says who holds it and "Assigned to me" counts it.
    first = table.locator("tbody tr").first
    first.focus()
    reviewer.keyboard.press("c")
    expect(first.locator("[data-testid^=claimed-]")).to_have_text("reviewer")
    expect(reviewer.get_by_test_id("chip-mine")).to_contain_text("1")
    reviewer.screenshot(path=str(IMG / "inbox-filters.png"))

    # The list keeps its filters in the URL: a reload shows the same thing.
    reviewer.reload()
    expect(reviewer.get_by_test_id("chip-due-soon")).to_have_attribute("aria-pressed", "true")
    expect(table.locator("tbody tr")).to_have_count(2)

    # u releases it again.
    held = table.locator("tbody tr", has=reviewer.locator("[data-testid^=claimed-]", has_text="reviewer"))
    held.focus()
    reviewer.keyboard.press("u")
    expect(reviewer.get_by_test_id("chip-mine")).to_contain_text("0")
    expect(table.locator("[data-testid^=claimed-]", has_text="reviewer")).to_have_count(0)

    # The review page: how the draft was made, a typed form and a live word diff.
    urgent_item = next(
        a
        for a in call(reviewer, "GET", "/api/approvals/?due_soon=1")["results"]
        if a["title"].endswith("Charged twice for order 1234")
    )
    reviewer.goto(f"/inbox/{urgent_item['id']}")
    context = reviewer.get_by_test_id("run-context")
    expect(context.get_by_test_id("trigger-input")).to_contain_text("Charged twice for order 1234")
    expect(context.get_by_test_id("context-steps")).to_contain_text("Draft reply")
    expect(context.get_by_test_id("run-cost")).to_contain_text("$")
    expect(reviewer.get_by_test_id("claimed-by")).to_have_text("reviewer")
    form = reviewer.get_by_test_id("fields-form")
    expect(form.get_by_label("Refund the second charge")).to_be_checked()
    reply = form.get_by_label("Reply")
    draft = reply.input_value()
    reply.fill("Dear Carol,\n\n" + draft.replace("Hello", "Hello again", 1) + "\n\nWe refund you today.")
    form.get_by_label("Tone").select_option("formal")
    diff = reviewer.get_by_test_id("field-diff-reply")
    expect(diff.locator("ins").first).to_be_visible()
    expect(diff).to_contain_text("today.")
    expect(reviewer.get_by_test_id("field-diff-tone")).to_contain_text("formal")
    reviewer.screenshot(path=str(IMG / "review-context-diff.png"), full_page=True)

    # Release from the page, then approve: the typed edits are stored.
    reviewer.get_by_test_id("release").click()
    expect(reviewer.get_by_test_id("claimed-by")).to_have_text("—")
    reviewer.get_by_test_id("claim").click()
    expect(reviewer.get_by_test_id("claimed-by")).to_have_text("reviewer")
    reviewer.get_by_role("button", name="Approve").click()
    expect(reviewer.get_by_test_id("review-outcome")).to_contain_text("Approved")
    decided = call(reviewer, "GET", f"/api/approvals/{urgent_item['id']}/")
    assert decided["edited"]["tone"] == "formal"
    assert decided["edited"]["reply"].endswith("We refund you today.")
    assert reviewer.console_errors == []
