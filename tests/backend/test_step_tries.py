"""The run-detail API shows every model call of a step (``tries``): a 500 then the fallback."""

from __future__ import annotations

from typing import Any

import pytest

from backend.connectors.models import Connector
from backend.runs.models import Run
from backend.runs.services import run_advance, run_start
from backend.workflows.selectors import workflow_published_version
from backend.workflows.services import workflow_create, workflow_publish
from orchestrator_core.testing.llm_stub import StubServer

ANSWER = "The fallback model answered."


def _doc(config: dict[str, Any]) -> dict[str, Any]:
    return {
        "schema_version": 1,
        "nodes": [
            {"id": "t", "type": "trigger.manual", "type_version": 1, "config": {"fields": []}},
            {"id": "draft", "type": "llm.prompt", "type_version": 1, "config": config},
        ],
        "edges": [{"id": "e1", "source": "t", "source_port": "out", "target": "draft", "target_port": "in"}],
    }


def _model_connector(name: str, model: str, base_url: str) -> Connector:
    return Connector.objects.create(
        name=name,
        kind="model",
        config={
            "provider": "openai_compatible",
            "base_url": base_url,
            "models": [{"name": model, "tier": 2}],
        },
        secret={"api_key": "sk-test"},
    )


def _run(personas: dict[str, Any], client_for: Any, config: dict[str, Any]) -> dict[str, Any]:
    workflow = workflow_create(user=personas["alice"], name="Fallback", document=_doc(config))
    workflow_publish(workflow=workflow, user=personas["alice"], note="v1")
    run = run_start(
        version=workflow_published_version(workflow=workflow), started_by=personas["alice"], inputs={}
    )
    run_advance(run_id=run.id)
    response = client_for("alice").get(f"/api/runs/{run.id}/")
    assert response.status_code == 200
    body: dict[str, Any] = response.json()
    return body


@pytest.fixture
def servers():
    with StubServer(status=500) as broken, StubServer(ANSWER) as working:
        yield broken, working


def test_the_step_json_carries_the_failed_try_and_the_fallback_that_answered(personas, client_for, servers):
    broken, working = servers
    _model_connector("Broken provider", "broken", broken.base_url)
    _model_connector("Working provider", "working", working.base_url)
    body = _run(personas, client_for, {"model": "broken", "fallbacks": ["working"], "prompt": "Hi"})
    assert body["status"] == Run.Status.SUCCEEDED, body.get("error")
    step = next(s for s in body["steps"] if s["node_id"] == "draft")
    assert step["model"] == "working"
    tries = step["tries"]
    assert len(tries) >= 2
    assert {t["model"] for t in tries[:-1]} == {"broken"}
    assert all(t["outcome"] == "error" and t["http_status"] == 500 for t in tries[:-1])
    assert tries[-1]["model"] == "working"
    assert tries[-1]["outcome"] == "ok"
    assert all(isinstance(t["duration_ms"], int | float) for t in tries)
    assert step["reason"]
    assert len(broken.requests) == len(tries) - 1
    trigger = next(s for s in body["steps"] if s["node_id"] == "t")
    assert trigger["tries"] == []


def test_a_step_whose_every_model_failed_still_lists_its_tries(personas, client_for, servers):
    broken, _ = servers
    _model_connector("Broken provider", "broken", broken.base_url)
    body = _run(personas, client_for, {"model": "broken", "prompt": "Hi"})
    assert body["status"] == Run.Status.FAILED
    step = next(s for s in body["steps"] if s["node_id"] == "draft")
    assert step["error"]["code"] == "LLM_ERROR"
    assert [t["model"] for t in step["tries"]] == ["broken"] * len(broken.requests)
    assert all(t["http_status"] == 500 for t in step["tries"])
