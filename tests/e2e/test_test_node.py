"""The editor's "Test node…" dialog (issue 4): one node on sample data, without a run.

Set BATON_DOC_SCREENSHOTS=1 to refresh docs/img/editor-test-node.png while the test runs.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.conftest import ROOT
from tests.e2e.conftest import call

pytestmark = pytest.mark.browser

SHOTS = ROOT / "docs" / "img" if os.environ.get("BATON_DOC_SCREENSHOTS") else None


def _node(node_id: str, type_key: str, config: dict[str, Any], x: float, label: str) -> dict[str, Any]:
    return {
        "id": node_id,
        "type": type_key,
        "type_version": 1,
        "config": config,
        "position": {"x": x, "y": 120},
        "label": label,
    }


def _edge(source: str, target: str) -> dict[str, Any]:
    return {
        "id": f"{source}-{target}",
        "source": source,
        "source_port": "out",
        "target": target,
        "target_port": "in",
    }


DOCUMENT = {
    "schema_version": 1,
    "nodes": [
        _node(
            "start",
            "trigger.manual",
            {"fields": [{"name": "name", "label": "Name", "type": "string", "required": True}]},
            0,
            "Start",
        ),
        _node("greet", "data.template", {"template": "Hello {{ trigger.name }}"}, 280, "Greeting"),
        _node(
            "shout",
            "data.transform",
            {"expression": "{loud: steps.greet.text, who: trigger.name}"},
            560,
            "Shout",
        ),
        _node(
            "notify",
            "http.request",
            {
                "method": "POST",
                "url": "https://example.com/hooks/notify",
                "body": {"text": "{{ steps.shout.loud }}"},
            },
            840,
            "Notify",
        ),
    ],
    "edges": [_edge("start", "greet"), _edge("greet", "shout"), _edge("shout", "notify")],
}


def _wait_run(page: Any, run_id: int) -> dict[str, Any]:
    deadline = time.monotonic() + 60
    while True:
        run = call(page, "GET", f"/api/runs/{run_id}/")
        if run["status"] in ("succeeded", "failed", "cancelled"):
            return run
        assert time.monotonic() < deadline, run
        page.wait_for_timeout(200)


def _open_node(page: Any, workflow_id: int, node_id: str) -> Any:
    page.goto(f"/workflows/{workflow_id}")
    page.locator(f'.react-flow__node[data-id="{node_id}"]').click()
    panel = page.get_by_role("complementary", name="Node settings")
    expect(panel).to_be_visible()
    return panel


def test_test_node_runs_one_node_on_the_last_runs_data(open_page):
    page = open_page("builder")
    workflow_id = int(
        call(page, "POST", "/api/workflows/", {"name": "Test one node", "document": DOCUMENT})["id"]
    )
    run = call(
        page, "POST", f"/api/workflows/{workflow_id}/runs/", {"inputs": {"name": "Carol"}, "source": "draft"}
    )
    _wait_run(page, run["id"])  # the POST in "notify" fails (no network): the earlier steps have outputs

    panel = _open_node(page, workflow_id, "shout")
    opener = panel.get_by_role("button", name="Test node…")
    opener.click()
    dialog = page.get_by_role("dialog", name="Test node Shout")
    sample = dialog.get_by_label("Sample input (JSON)")
    expect(sample).to_be_focused()  # keyboard first: the sample is ready to edit
    expect(sample).to_have_value(
        json.dumps({"trigger": {"name": "Carol"}, "steps": {"greet": {"text": "Hello Carol"}}}, indent=2)
    )

    dialog.get_by_role("button", name="Run test").click()
    output = dialog.get_by_test_id("test-node-output")
    expect(output).to_contain_text('"loud": "Hello Carol"')
    expect(dialog).to_contain_text("succeeded")

    # Edit the sample and run it with the keyboard (Ctrl+Enter).
    sample.fill(json.dumps({"trigger": {"name": "Dana"}, "steps": {"greet": {"text": "Hi Dana"}}}))
    sample.press("Control+Enter")
    expect(output).to_contain_text('"loud": "Hi Dana"')
    expect(output).to_contain_text('"who": "Dana"')
    if SHOTS is not None:
        page.screenshot(path=str(Path(SHOTS) / "editor-test-node.png"))

    sample.fill("{not json")
    dialog.get_by_role("button", name="Run test").click()
    expect(dialog.get_by_test_id("test-node-problem")).to_contain_text("Not valid JSON")

    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(opener).to_be_focused()

    # A node that would act on the world is not run.
    panel = _open_node(page, workflow_id, "notify")
    panel.get_by_role("button", name="Test node…").click()
    dialog = page.get_by_role("dialog", name="Test node Notify")
    dialog.get_by_role("button", name="Run test").click()
    expect(dialog.get_by_test_id("side-effect-blocked")).to_be_visible()
    expect(dialog).to_contain_text("SIDE_EFFECT_BLOCKED")
    assert call(page, "GET", f"/api/runs/?workflow={workflow_id}")["count"] == 1  # no run was made
    assert page.console_errors == []
