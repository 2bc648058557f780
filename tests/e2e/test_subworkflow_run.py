"""A loop over a published body, run by the embedded worker: every item is a child run, and the
run page links them. Set BATON_LOOP_SHOT=path.png to save the screenshot
(docs/img/run-page-loop-children.png)."""

from __future__ import annotations

import json
import os
import time
from typing import Any

from playwright.sync_api import expect

from tests.conftest import ROOT
from tests.e2e.test_run_tries import call


def fixture(name: str) -> dict[str, Any]:
    return json.loads((ROOT / "fixtures" / "workflows" / name).read_text())


def test_a_loop_runs_each_item_as_a_child_run_and_the_run_page_links_them(open_page) -> None:
    builder = open_page("builder")
    body = call(
        builder,
        "POST",
        "/api/workflows/",
        {"name": "Greet one", "document": fixture("subworkflow_body_greet.json")},
    )
    call(builder, "POST", f"/api/workflows/{body['id']}/publish/", {"note": "v1"})
    document = fixture("loop_greet_each.json")
    document["nodes"][1]["config"]["workflow"] = str(body["id"])
    loop = call(builder, "POST", "/api/workflows/", {"name": "Greet everyone", "document": document})
    call(builder, "POST", f"/api/workflows/{loop['id']}/publish/", {"note": "v1"})
    names = ["Ada", "Bo", "Cy", "Di", "Ed"]
    run = call(builder, "POST", f"/api/workflows/{loop['id']}/runs/", {"inputs": {"names": names}})
    deadline = time.monotonic() + 90
    while (detail := call(builder, "GET", f"/api/runs/{run['id']}/"))["status"] not in (
        "succeeded",
        "failed",
    ):
        assert time.monotonic() < deadline, "the run did not finish"
        time.sleep(0.3)
    assert detail["status"] == "succeeded", detail
    steps = {s["node_id"]: s for s in detail["steps"]}
    assert steps["all"]["output"] == {"result": [f"Hello {n}" for n in names]}
    child_ids = steps["each"]["output"]["run_ids"]
    assert len(set(child_ids)) == 5

    builder.goto(f"/runs/{run['id']}")
    step = builder.get_by_test_id("step-each")
    step.get_by_role("button", name="Greet each name details").click()
    links = step.get_by_test_id("step-children-each").get_by_role("link")
    expect(links).to_have_count(5)
    links.first.click()
    expect(builder).to_have_url(f"{builder.url.split('/runs/')[0]}/runs/{child_ids[0]}")
    builder.go_back()
    step.get_by_role("button", name="Greet each name details").click()
    assert builder.console_errors == []
    shot = os.environ.get("BATON_LOOP_SHOT")
    if shot:
        builder.screenshot(path=shot, full_page=True)
