"""The visual editor as a person uses it: build from the palette, connect, configure, save and
reload; undo/redo, copy/paste, auto layout, the versions diff and a stale save (issue 6)."""

from __future__ import annotations

import os
import re
import time
from itertools import combinations
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.conftest import ROOT

pytestmark = pytest.mark.browser

NODES = ".react-flow__node:not(.react-flow__node-note)"
# Set BATON_DOC_SCREENSHOTS=1 to refresh the pictures in docs/img/ while the tests run.
SHOTS = ROOT / "docs" / "img" if os.environ.get("BATON_DOC_SCREENSHOTS") else None


def _shot(page, name: str) -> None:
    if SHOTS is not None:
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SHOTS) / name))


def _new_workflow(page, name: str) -> int:
    page.get_by_role("link", name="Workflows").click()
    page.get_by_role("button", name="New workflow").click()
    page.get_by_label("Workflow name").fill(name)
    page.get_by_role("button", name="Create").click()
    expect(page).to_have_url(re.compile(r"/workflows/\d+$"))
    expect(page.locator(NODES)).to_have_count(1)
    return int(re.search(r"/workflows/(\d+)$", page.url).group(1))


def _ids(page) -> list[str]:
    return page.locator(NODES).evaluate_all("els => els.map(e => e.dataset.id)")


def _document(page, workflow_id: int) -> dict:
    response = page.request.get(f"/api/workflows/{workflow_id}/")
    assert response.ok
    return response.json()["document"]


def _save(page) -> None:
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_test_id("save-state")).to_have_text("Saved")


def _drop(page, type_key: str, fx: float, fy: float) -> str:
    before = set(_ids(page))
    pane = page.locator(".react-flow__pane")
    box = pane.bounding_box()
    page.get_by_test_id(f"palette-item-{type_key}").drag_to(
        pane, target_position={"x": box["width"] * fx, "y": box["height"] * fy}
    )
    expect(page.locator(NODES)).to_have_count(len(before) + 1)
    return next(i for i in _ids(page) if i not in before)


def _connect(page, source: str, target: str) -> None:
    edges = page.locator(".react-flow__edge").count()
    page.locator(f'.react-flow__handle[data-nodeid="{source}"][data-handlepos="right"]').first.drag_to(
        page.locator(f'.react-flow__handle[data-nodeid="{target}"][data-handlepos="left"]').first
    )
    expect(page.locator(".react-flow__edge")).to_have_count(edges + 1)


def _build_four_nodes(page, name: str) -> tuple[int, list[str]]:
    workflow_id = _new_workflow(page, name)
    [trigger] = _ids(page)
    first = _drop(page, "data.template", 0.15, 0.15)
    prompt = _drop(page, "llm.prompt", 0.5, 0.85)
    last = _drop(page, "data.template", 0.85, 0.15)
    _connect(page, trigger, first)
    _connect(page, first, prompt)
    _connect(page, prompt, last)
    page.locator(f'.react-flow__node[data-id="{first}"]').click()
    page.get_by_role("textbox", name="Node label").fill("Greeting")
    page.get_by_role("textbox", name="Template", exact=True).fill("Hello {{ trigger.name }}")
    page.locator(f'.react-flow__node[data-id="{prompt}"]').click()
    page.get_by_role("textbox", name="Prompt", exact=True).fill("Say hi to {{ steps." + first + ".text }}")
    page.locator(f'.react-flow__node[data-id="{last}"]').click()
    page.get_by_role("textbox", name="Template", exact=True).fill("Done: {{ steps." + prompt + ".text }}")
    _save(page)
    return workflow_id, [trigger, first, prompt, last]


def _overlaps(boxes: list[dict]) -> list[tuple[int, int]]:
    def hit(a: dict, b: dict) -> bool:
        return (
            a["x"] < b["x"] + b["width"]
            and b["x"] < a["x"] + a["width"]
            and a["y"] < b["y"] + b["height"]
            and b["y"] < a["y"] + a["height"]
        )

    return [(i, j) for (i, a), (j, b) in combinations(enumerate(boxes), 2) if hit(a, b)]


def test_build_save_reload_undo_redo(open_page):
    page = open_page("builder")
    workflow_id, (trigger, first, prompt, last) = _build_four_nodes(page, "Four steps")
    saved = _document(page, workflow_id)
    assert [n["id"] for n in saved["nodes"]] == [trigger, first, prompt, last]
    assert len(saved["edges"]) == 3
    by_id = {n["id"]: n for n in saved["nodes"]}
    assert by_id[first]["label"] == "Greeting"
    assert by_id[first]["config"]["template"] == "Hello {{ trigger.name }}"
    assert by_id[prompt]["config"]["prompt"] == f"Say hi to {{{{ steps.{first}.text }}}}"
    page.locator(f'.react-flow__node[data-id="{prompt}"]').click()
    _shot(page, "editor-config-panel.png")

    page.reload()
    expect(page.locator(NODES)).to_have_count(4)
    expect(page.locator(".react-flow__edge")).to_have_count(3)
    expect(page.locator(f'.react-flow__node[data-id="{first}"]')).to_contain_text("Greeting")
    _save(page)  # saving what was loaded changes nothing
    assert _document(page, workflow_id) == saved

    # Delete a node (and its edges), save; undo restores the saved document exactly, redo again.
    page.locator(f'.react-flow__node[data-id="{last}"]').click()
    page.keyboard.press("Delete")
    expect(page.locator(NODES)).to_have_count(3)
    _save(page)
    without_last = _document(page, workflow_id)
    assert last not in {n["id"] for n in without_last["nodes"]}
    page.get_by_role("button", name="Undo").click()
    expect(page.locator(NODES)).to_have_count(4)
    _save(page)
    assert _document(page, workflow_id) == saved
    page.get_by_role("button", name="Redo").click()
    expect(page.locator(NODES)).to_have_count(3)
    _save(page)
    assert _document(page, workflow_id) == without_last
    assert page.console_errors == []


def test_copy_paste_and_auto_layout(open_page):
    page = open_page("builder")
    workflow_id, (_, first, _, _) = _build_four_nodes(page, "Copy and layout")
    before = set(_ids(page))
    page.locator(f'.react-flow__node[data-id="{first}"]').click()
    page.keyboard.press("Control+c")
    expect(page.get_by_test_id("editor-toast")).to_contain_text("Copied 1 item")
    page.locator(".react-flow__pane").click(position={"x": 5, "y": 5})
    page.keyboard.press("Control+v")
    expect(page.locator(NODES)).to_have_count(5)
    [copy] = [i for i in _ids(page) if i not in before]
    _save(page)
    nodes = {n["id"]: n for n in _document(page, workflow_id)["nodes"]}
    assert copy not in before
    assert nodes[copy]["type"] == nodes[first]["type"]
    assert nodes[copy]["config"] == nodes[first]["config"]
    assert nodes[copy]["label"] == nodes[first]["label"]

    page.get_by_role("button", name="Auto layout").click()
    deadline = time.monotonic() + 30
    while True:  # the layout animates the view: wait until no two nodes overlap
        boxes = [page.locator(f'.react-flow__node[data-id="{i}"]').bounding_box() for i in _ids(page)]
        if not _overlaps(boxes) or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert len(boxes) == 5
    assert _overlaps(boxes) == []
    assert page.console_errors == []
    if SHOTS:  # the docs' picture: the demo workflow, laid out, nothing selected, no toast
        page.goto("/")
        page.get_by_role("link", name="Reply to a customer email").first.click()
        expect(page.locator(NODES)).to_have_count(5)
        page.get_by_role("button", name="Auto layout").click()
        page.wait_for_timeout(1500)
        page.locator(".react-flow__pane").click(position={"x": 5, "y": 5})
        expect(page.get_by_test_id("editor-toast")).to_have_text("")
        _shot(page, "editor.png")


def test_version_diff_shows_a_changed_prompt_and_restores(open_page):
    page = open_page("builder")
    workflow_id, (_, _, prompt, _) = _build_four_nodes(page, "Diff me")
    page.get_by_role("button", name="Publish").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("Release note (optional)").fill("First cut")
    dialog.get_by_role("button", name="Publish version").click()
    expect(dialog.get_by_test_id("published-version")).to_have_text("Published version 1")
    dialog.get_by_role("button", name="Done").click()

    page.locator(f'.react-flow__node[data-id="{prompt}"]').click()
    page.get_by_role("textbox", name="Prompt", exact=True).fill("Be brief and kind.")
    _save(page)
    page.get_by_role("button", name="Versions").click()
    dialog = page.get_by_role("dialog", name="Versions")
    expect(dialog.get_by_test_id("version-row-1")).to_contain_text("First cut")
    expect(dialog.get_by_test_id("version-row-1")).to_contain_text("builder")
    row = dialog.get_by_test_id(f"diff-field-{prompt}-config.prompt")
    expect(row).to_contain_text("Be brief and kind.")
    expect(row).to_contain_text("Say hi to")
    expect(dialog.get_by_test_id(f"diff-changed-{prompt}")).to_be_visible()
    expect(dialog.locator(f'.react-flow__node.diff-changed[data-id="{prompt}"]')).to_be_visible()
    page.wait_for_timeout(300)
    _shot(page, "editor-diff.png")

    dialog.get_by_test_id("version-row-1").get_by_role("button", name="Restore as draft").click()
    dialog.get_by_role("button", name="Yes, restore").click()
    expect(page.get_by_role("dialog", name="Versions")).to_have_count(0)
    prompts = [n for n in _document(page, workflow_id)["nodes"] if n["id"] == prompt]
    assert prompts[0]["config"]["prompt"].startswith("Say hi to")
    page.locator(f'.react-flow__node[data-id="{prompt}"]').click()
    expect(page.get_by_role("textbox", name="Prompt", exact=True)).to_have_value(re.compile("^Say hi to"))
    assert page.console_errors == []


def test_stale_save_shows_who_changed_it(open_page):
    first = open_page("builder")
    workflow_id = _new_workflow(first, "Edited twice")
    [trigger] = _ids(first)
    second = open_page("admin")
    second.goto(f"/workflows/{workflow_id}")
    expect(second.locator(NODES)).to_have_count(1)

    first.locator(f'.react-flow__node[data-id="{trigger}"]').click()
    first.get_by_role("textbox", name="Node label").fill("Start here")
    _save(first)

    second.locator(f'.react-flow__node[data-id="{trigger}"]').click()
    second.get_by_role("textbox", name="Node label").fill("Begin")
    second.get_by_role("button", name="Save", exact=True).click()
    banner = second.get_by_role("alert").filter(has_text="was changed by")
    expect(banner).to_contain_text("changed by builder")
    banner.get_by_role("button", name="Reload").click()
    expect(second.locator(f'.react-flow__node[data-id="{trigger}"]')).to_contain_text("Start here")
    assert first.console_errors == []
    assert second.console_errors == []
