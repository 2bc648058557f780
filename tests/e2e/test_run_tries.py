"""The run page shows every model try of a step: the first model answers 500, the fallback answers.

Two stub model servers (127.0.0.1) play the providers; the admin adds them as model connectors,
the builder runs an ``llm.prompt`` with a fallback and opens the run page.
Set BATON_TRIES_SHOT=path.png to save the screenshot (docs/img/run-page-tries.png).
"""

from __future__ import annotations

import os
import time
from typing import Any

from playwright.sync_api import expect

from orchestrator_core.testing.llm_stub import StubServer
from tests.e2e.conftest import call


def model_connector(name: str, model: str, base_url: str) -> dict[str, Any]:
    return {
        "name": name,
        "kind": "model",
        "config": {
            "provider": "openai_compatible",
            "base_url": base_url,
            "models": [{"name": model, "tier": 2}],
        },
        "secret": {"api_key": "sk-test"},
    }


def document() -> dict[str, Any]:
    return {
        "schema_version": 1,
        "nodes": [
            {
                "id": "t",
                "type": "trigger.manual",
                "type_version": 1,
                "config": {"fields": []},
                "position": {"x": 0, "y": 80},
            },
            {
                "id": "draft",
                "type": "llm.prompt",
                "type_version": 1,
                "label": "Draft the reply",
                "config": {"model": "primary-gpt", "fallbacks": ["backup-gpt"], "prompt": "Write to Carol"},
                "position": {"x": 280, "y": 80},
            },
        ],
        "edges": [{"id": "e1", "source": "t", "source_port": "out", "target": "draft", "target_port": "in"}],
    }


def test_run_page_shows_the_failed_try_and_the_fallback(open_page) -> None:
    with (
        StubServer(status=500) as broken,
        StubServer("Hello Carol, the refund is on its way.") as working,
    ):
        admin = open_page("admin")
        call(
            admin,
            "POST",
            "/api/connectors/",
            model_connector("Primary provider", "primary-gpt", broken.base_url),
        )
        call(
            admin,
            "POST",
            "/api/connectors/",
            model_connector("Backup provider", "backup-gpt", working.base_url),
        )

        builder = open_page("builder")
        workflow = call(builder, "POST", "/api/workflows/", {"name": "Fallback demo", "document": document()})
        call(builder, "POST", f"/api/workflows/{workflow['id']}/publish/", {"note": "v1"})
        run = call(builder, "POST", f"/api/workflows/{workflow['id']}/runs/", {"inputs": {}})
        deadline = time.monotonic() + 60
        while call(builder, "GET", f"/api/runs/{run['id']}/")["status"] not in ("succeeded", "failed"):
            assert time.monotonic() < deadline, "the run did not finish"
            time.sleep(0.3)

        builder.goto(f"/runs/{run['id']}")
        step = builder.get_by_test_id("step-draft")
        expect(step.get_by_test_id("step-fallback-draft")).to_contain_text("primary-gpt ✗")
        expect(step.get_by_test_id("step-fallback-draft")).to_contain_text("backup-gpt ✓")
        step.get_by_role("button", name="Draft the reply details").click()
        table = step.get_by_test_id("step-attempts-draft")
        rows = table.locator("tbody tr")
        expect(rows).to_have_count(len(broken.requests) + 1)
        expect(rows.first).to_contain_text("primary-gpt")
        expect(rows.first).to_contain_text("failed")
        expect(rows.first).to_contain_text("500")
        expect(rows.last).to_contain_text("backup-gpt")
        expect(rows.last).to_contain_text("answered")
        expect(step.get_by_test_id("step-routing-draft")).to_contain_text("Routing:")
        assert builder.console_errors == []
        shot = os.environ.get("BATON_TRIES_SHOT")
        if shot:
            builder.screenshot(path=shot, full_page=True)
