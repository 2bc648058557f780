"""Review rounds through the real UI: "Request changes" redrafts the demo reply and the item comes
back to the inbox as round 2; the run page shows both rounds."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import call

pytestmark = pytest.mark.browser

IMG = Path(__file__).resolve().parents[2] / "docs" / "img"
CUSTOMER = {
    "from": "dora@example.com",
    "subject": "Where is my parcel 77",
    "body": "Hello, my parcel 77 has not arrived after two weeks. Where is it?",
}
TITLE = "Reply to dora@example.com: Where is my parcel 77"
FEEDBACK = "Apologise for the delay and give the tracking link."


def test_request_changes_brings_a_redraft_back_as_round_two(open_page) -> None:
    builder = open_page("builder")
    workflows = call(builder, "GET", "/api/workflows/")["results"]
    demo = next(w for w in workflows if w["name"] == "Reply to a customer email")
    run = call(builder, "POST", f"/api/workflows/{demo['id']}/runs/", {"inputs": CUSTOMER})

    reviewer = open_page("reviewer")
    reviewer.goto("/inbox")
    reviewer.get_by_role("link", name=TITLE).click()
    reviewer.get_by_label("Comment").fill(FEEDBACK)
    reviewer.get_by_role("button", name="Request changes").click()
    expect(reviewer.get_by_test_id("review-outcome")).to_contain_text(re.compile("changes requested", re.I))

    # The draft runs again with the feedback; a new item for round 2 is in the inbox.
    reviewer.goto("/inbox")
    reviewer.get_by_role("link", name=TITLE).click()
    expect(reviewer.get_by_text("2 of 3")).to_be_visible()
    expect(reviewer.get_by_text(FEEDBACK)).to_be_visible()
    reviewer.screenshot(path=str(IMG / "review-round-2.png"), full_page=True)
    reviewer.get_by_role("button", name="Approve").click()
    expect(reviewer.get_by_test_id("review-outcome")).to_contain_text(re.compile("approved", re.I))

    builder.goto(f"/runs/{run['id']}")
    expect(builder.get_by_test_id("run-status").first).to_have_text("succeeded")
    expect(builder.get_by_test_id("step-round-draft")).to_have_text(" · round 2")
    builder.get_by_test_id("step-draft").get_by_role("button").first.click()
    expect(builder.get_by_test_id("step-draft")).to_contain_text(FEEDBACK)  # in the redraft's prompt
    expect(builder.get_by_test_id("step-earlier-round-draft")).to_contain_text("Round 1")
    builder.screenshot(path=str(IMG / "run-page-review-rounds.png"), full_page=True)
    assert builder.console_errors == []
    assert reviewer.console_errors == []
