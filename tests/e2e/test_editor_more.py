"""More of the editor as a person uses it (issue 6): autosave, the reliability form, the
expression picker with its live preview, and publishing through a review by a second builder.

Set BATON_DOC_SCREENSHOTS=1 to refresh docs/img/editor-expression-picker.png and
docs/img/inbox-version-review.png while the tests run.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.conftest import ROOT
from tests.e2e.conftest import DEMO_PASSWORDS, call

pytestmark = pytest.mark.browser

SHOTS = ROOT / "docs" / "img" if os.environ.get("BATON_DOC_SCREENSHOTS") else None
SECOND_BUILDER = ("builder2", "baton-builder2-e2e")


def _shot(page: Any, name: str, full_page: bool = False) -> None:
    if SHOTS is not None:
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SHOTS) / name), full_page=full_page)


def _node(node_id: str, type_key: str, config: dict[str, Any], x: float, label: str = "") -> dict[str, Any]:
    node = {
        "id": node_id,
        "type": type_key,
        "type_version": 1,
        "config": config,
        "position": {"x": x, "y": 120},
    }
    if label:
        node["label"] = label
    return node


def _edge(source: str, target: str) -> dict[str, Any]:
    return {
        "id": f"{source}-{target}",
        "source": source,
        "source_port": "out",
        "target": target,
        "target_port": "in",
    }


def _document(template: str = "Hello {{ trigger.name }}") -> dict[str, Any]:
    fields = [
        {"name": "name", "label": "Name", "type": "string", "required": True},
        {"name": "subject", "label": "Subject", "type": "string", "required": True},
    ]
    return {
        "schema_version": 1,
        "nodes": [
            _node("start", "trigger.manual", {"fields": fields}, 0),
            _node("greet", "data.template", {"template": template}, 300, "Greeting"),
            _node("shout", "data.transform", {"expression": "steps.greet.text"}, 600, "Shout"),
        ],
        "edges": [_edge("start", "greet"), _edge("greet", "shout")],
    }


def _create(page: Any, name: str, document: dict[str, Any]) -> int:
    return int(call(page, "POST", "/api/workflows/", {"name": name, "document": document})["id"])


def _open(page: Any, workflow_id: int) -> None:
    page.goto(f"/workflows/{workflow_id}")
    expect(page.locator(".react-flow__node").first).to_be_visible()


def _select(page: Any, node_id: str) -> None:
    page.locator(f'.react-flow__node[data-id="{node_id}"]').click()
    expect(page.get_by_role("complementary", name="Node settings")).to_be_visible()


def _saved_document(page: Any, workflow_id: int) -> dict[str, Any]:
    return call(page, "GET", f"/api/workflows/{workflow_id}/")["document"]


def _wait_run(page: Any, run_id: int) -> dict[str, Any]:
    deadline = time.monotonic() + 60
    while True:
        run = call(page, "GET", f"/api/runs/{run_id}/")
        if run["status"] in ("succeeded", "failed", "cancelled"):
            return run
        assert time.monotonic() < deadline, run
        page.wait_for_timeout(200)


def test_autosave_keeps_an_edit_without_pressing_save(open_page):
    page = open_page("builder")
    page.evaluate("localStorage.removeItem('baton.editor.autosave')")  # the default: on
    workflow_id = _create(page, "Autosaved", _document())
    _open(page, workflow_id)
    expect(page.get_by_role("checkbox", name="Autosave")).to_be_checked()
    _select(page, "greet")
    page.get_by_role("textbox", name="Template", exact=True).fill("Saved by itself {{ trigger.name }}")
    expect(page.get_by_test_id("save-state")).to_have_text("Unsaved changes")
    # No click on Save: the draft is written once the typing pauses.
    expect(page.get_by_test_id("save-state")).to_have_text("Saved", timeout=30_000)
    page.reload()
    _select(page, "greet")
    expect(page.get_by_role("textbox", name="Template", exact=True)).to_have_value(
        "Saved by itself {{ trigger.name }}"
    )
    greet = next(n for n in _saved_document(page, workflow_id)["nodes"] if n["id"] == "greet")
    assert greet["config"]["template"] == "Saved by itself {{ trigger.name }}"
    assert page.console_errors == []


def test_reliability_form_sets_node_settings_and_an_error_handle(open_page):
    page = open_page("builder")
    workflow_id = _create(page, "Reliable", _document())
    _open(page, workflow_id)
    _select(page, "greet")
    error_handle = page.locator(
        '.react-flow__node[data-id="greet"] .react-flow__handle[data-handleid="error"]'
    )
    expect(error_handle).to_have_count(0)
    section = page.get_by_test_id("reliability-greet")
    section.locator("summary").click()
    section.get_by_role("spinbutton", name="Max attempts").fill("3")
    section.get_by_role("spinbutton", name="Timeout").fill("20")
    section.get_by_role("combobox", name="On error").select_option(label="error_port")
    expect(error_handle).to_have_count(1)
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_test_id("save-state")).to_have_text("Saved")
    greet = next(n for n in _saved_document(page, workflow_id)["nodes"] if n["id"] == "greet")
    assert greet["settings"]["retry"]["max_attempts"] == 3
    assert greet["settings"]["timeout_seconds"] == 20
    assert greet["settings"]["on_error"] == "error_port"
    page.reload()
    expect(error_handle).to_have_count(1)
    assert page.console_errors == []


def test_expression_picker_inserts_a_field_and_previews_it(open_page):
    page = open_page("builder")
    workflow_id = _create(page, "Preview me", _document())
    run = call(
        page,
        "POST",
        f"/api/workflows/{workflow_id}/runs/",
        {"inputs": {"name": "Carol", "subject": "Refund for order 1234"}, "source": "draft"},
    )
    assert _wait_run(page, run["id"])["status"] == "succeeded"
    _open(page, workflow_id)
    _select(page, "shout")
    panel = page.get_by_role("complementary", name="Node settings")
    expression = panel.get_by_role("textbox", name="Expression", exact=True)
    expression.fill("")
    panel.get_by_role("button", name="Insert field").click()
    picker = panel.get_by_test_id("field-picker")
    options = picker.get_by_role("option")
    # The trigger's fields and the upstream node's output keys from the last run.
    expect(picker.get_by_role("option", name="trigger.subject")).to_be_visible()
    expect(picker.get_by_role("option", name="steps.greet.text")).to_be_visible()
    assert all("steps.shout" not in t for t in options.all_inner_texts())
    # Keyboard only: filter, arrow down, Enter.
    search = picker.get_by_role("combobox", name="Filter fields")
    search.type("trigger")
    search.press("ArrowDown")
    active = picker.locator("[role=option][aria-selected=true]")
    expect(active).to_contain_text("trigger.subject")
    search.press("Enter")
    expect(expression).to_have_value("trigger.subject")
    expect(expression).to_be_focused()
    preview = panel.get_by_test_id("expression-preview")
    expect(preview.get_by_test_id("preview-value")).to_have_text('"Refund for order 1234"')
    expect(preview).to_contain_text(f"run #{run['id']}")

    # A template field: the path goes in as {{ … }} at the caret; the preview renders it.
    _select(page, "greet")
    template = panel.get_by_role("textbox", name="Template", exact=True)
    template.fill("Re: ")
    template.press("End")
    panel.get_by_role("button", name="Insert field").click()
    search = panel.get_by_role("combobox", name="Filter fields")
    search.type("subject")
    search.press("Enter")
    expect(template).to_have_value("Re: {{ trigger.subject }}")
    expect(panel.get_by_test_id("preview-value")).to_have_text("Re: Refund for order 1234")
    # Open the picker again for the picture (with the preview under it), then close it with Escape.
    panel.get_by_role("button", name="Insert field").click()
    expect(panel.get_by_role("listbox", name="Upstream fields")).to_be_visible()
    page.wait_for_timeout(300)
    _shot(page, "editor-expression-picker.png")
    panel.get_by_role("combobox", name="Filter fields").press("Escape")
    expect(panel.get_by_role("listbox")).to_have_count(0)
    expect(template).to_have_value("Re: {{ trigger.subject }}")

    # An invalid expression: the error and its position.
    _select(page, "shout")
    expression = panel.get_by_role("textbox", name="Expression", exact=True)
    expression.fill("steps.greet.[")
    error = panel.get_by_test_id("preview-error")
    expect(error).to_contain_text("EXPRESSION_INVALID")
    expect(error).to_contain_text("position 13")
    assert page.console_errors == []


def _second_builder(admin: Any) -> str:
    username, password = SECOND_BUILDER
    DEMO_PASSWORDS[username] = password
    users = call(admin, "GET", "/api/users/?page=1")["results"]
    if not any(u["username"] == username for u in users):
        call(admin, "POST", "/api/users/", {"username": username, "role": "builder", "password": password})
    return username


def test_publish_review_by_a_second_builder(open_page):
    admin = open_page("admin")
    second = _second_builder(admin)
    author = open_page("builder")
    workflow_id = _create(author, "Reviewed support reply", _document())
    call(author, "POST", f"/api/workflows/{workflow_id}/publish/", {"note": "first"})
    call(author, "PUT", f"/api/workflows/{workflow_id}/policy/", {"publish_review": True})
    call(author, "POST", f"/api/workflows/{workflow_id}/shares/", {"username": second, "permission": "edit"})

    # The author changes the greeting and publishes: the version waits for a review.
    _open(author, workflow_id)
    _select(author, "greet")
    author.get_by_role("textbox", name="Template", exact=True).fill("Dear {{ trigger.name }}")
    author.get_by_role("button", name="Publish").click()
    dialog = author.get_by_role("dialog")
    dialog.get_by_label("Release note (optional)").fill("Warmer greeting")
    dialog.get_by_role("button", name="Publish version").click()
    expect(dialog.get_by_test_id("publish-review-pending")).to_contain_text("Sent for review: version 2")
    dialog.get_by_role("button", name="Done").click()
    expect(author.get_by_test_id("review-pending")).to_have_text("v2 sent for review")
    assert call(author, "GET", f"/api/workflows/{workflow_id}/")["published_version"] == 1

    # The author may not approve it.
    author.goto("/inbox")
    mine = author.get_by_test_id("version-reviews").locator("article", has_text="Reviewed support reply")
    expect(mine).to_contain_text("Another builder must decide")
    expect(mine.get_by_role("button", name="Approve and publish v2")).to_have_count(0)

    # The second builder sees the diff in the inbox and approves.
    reviewer = open_page(second)
    reviewer.goto("/inbox")
    card = reviewer.get_by_test_id("version-reviews").locator("article", has_text="Reviewed support reply")
    expect(card).to_contain_text("Warmer greeting")
    changed = card.get_by_test_id("diff-field-greet-config.template")
    expect(changed).to_contain_text("Hello {{ trigger.name }}")
    expect(changed).to_contain_text("Dear {{ trigger.name }}")
    expect(card.locator('.react-flow__node.diff-changed[data-id="greet"]')).to_be_visible()
    card.get_by_label("Comment").fill("Friendlier, ship it")
    reviewer.wait_for_timeout(300)
    _shot(reviewer, "inbox-version-review.png", full_page=True)
    card.get_by_role("button", name="Approve and publish v2").click()
    expect(card.locator("[data-testid^=version-review-status-]")).to_have_text("approved, live")
    assert call(reviewer, "GET", f"/api/workflows/{workflow_id}/")["published_version"] == 2
    assert author.console_errors == []
    assert reviewer.console_errors == []
