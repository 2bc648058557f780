"""Publish review without reloads: the second builder's inbox badge counts the version waiting for
their review, and the author's toolbar badge ("v2 sent for review") follows the decision when the
author comes back to the tab (window focus), without reloading the editor."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import call
from tests.e2e.test_editor_more import _create, _document, _open, _second_builder

pytestmark = pytest.mark.browser

NAME = "Badge-checked support reply"


def _expected_badge(page: Any) -> int:
    """What the top bar should count: pending approvals + version reviews this user may decide."""
    approvals = call(page, "GET", "/api/approvals/?status=pending")["count"]
    reviews = call(page, "GET", "/api/version-reviews/?status=pending")["results"]
    return approvals + sum(1 for r in reviews if r["can_decide"])


def _badge(page: Any, count: int) -> None:
    badge = page.get_by_test_id("inbox-count")
    if count:
        expect(badge).to_have_text(str(count))
    else:
        expect(badge).to_have_count(0)


def test_badges_follow_a_publish_review_without_reload(open_page) -> None:
    admin = open_page("admin")
    second = _second_builder(admin)
    author = open_page("builder")
    workflow_id = _create(author, NAME, _document())
    call(author, "POST", f"/api/workflows/{workflow_id}/publish/", {"note": "first"})
    call(author, "PUT", f"/api/workflows/{workflow_id}/policy/", {"publish_review": True})
    call(author, "POST", f"/api/workflows/{workflow_id}/shares/", {"username": second, "permission": "edit"})

    reviewer = open_page(second)
    before = _expected_badge(reviewer)
    _badge(reviewer, before)

    # The author publishes from the editor: v2 waits for a review.
    _open(author, workflow_id)
    author.get_by_role("button", name="Publish").click()
    dialog = author.get_by_role("dialog")
    dialog.get_by_role("button", name="Publish version").click()
    expect(dialog.get_by_test_id("publish-review-pending")).to_contain_text("Sent for review: version 2")
    dialog.get_by_role("button", name="Done").click()
    expect(author.get_by_test_id("review-pending")).to_have_text("v2 sent for review")

    # The second builder's badge counts it (after a focus-free refresh: a new page load).
    reviewer.goto("/")
    assert _expected_badge(reviewer) == before + 1
    _badge(reviewer, before + 1)

    # They approve it in the inbox; their badge drops at once.
    reviewer.goto("/inbox")
    card = reviewer.get_by_test_id("version-reviews").locator("article", has_text=NAME)
    card.get_by_role("button", name="Approve and publish v2").click()
    expect(card.locator("[data-testid^=version-review-status-]")).to_have_text("approved, live")
    _badge(reviewer, before)

    # The author's editor, never reloaded, learns it when the window gets focus again.
    author.evaluate("() => window.dispatchEvent(new Event('focus'))")
    expect(author.get_by_test_id("review-pending")).to_have_count(0)
    expect(author.get_by_text("published v2")).to_be_visible()
    assert author.console_errors == []
    assert reviewer.console_errors == []
