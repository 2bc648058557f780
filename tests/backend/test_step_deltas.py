"""``step.delta`` events: an llm.prompt step streams, each batch stored and published at once."""

from __future__ import annotations

from typing import Any

import pytest

from backend.connectors.models import Connector
from backend.runs import events as run_events
from backend.runs.models import Run, RunEvent
from backend.runs.services import run_advance, run_start
from backend.workflows.selectors import workflow_published_version
from backend.workflows.services import workflow_create, workflow_publish
from orchestrator_core.testing.llm_stub import StubServer

ANSWER = "Hello Carol, we are sorry about the double charge. The refund is on its way to you today."


def _doc(model: str) -> dict[str, Any]:
    return {
        "schema_version": 1,
        "nodes": [
            {"id": "t", "type": "trigger.manual", "type_version": 1, "config": {"fields": []}},
            {
                "id": "draft",
                "type": "llm.prompt",
                "type_version": 1,
                "config": {"model": model, "prompt": "Write to Carol"},
            },
        ],
        "edges": [{"id": "e1", "source": "t", "source_port": "out", "target": "draft", "target_port": "in"}],
    }


@pytest.fixture
def stub():
    with StubServer(ANSWER, chunk_delay=0.01) as server:
        yield server


@pytest.fixture
def stub_connector(personas, stub):
    return Connector.objects.create(
        name="Stub provider",
        kind="model",
        config={
            "provider": "openai_compatible",
            "base_url": stub.base_url,
            "models": [
                {"name": "stubby", "tier": 2, "input_cost_per_token": 1e-6, "output_cost_per_token": 2e-6}
            ],
        },
        secret={"api_key": "sk-test"},
    )


@pytest.mark.django_db(transaction=True)
def test_deltas_are_stored_in_order_published_early_and_add_up_to_the_output(
    personas, stub, stub_connector, monkeypatch
):
    published: list[list[dict[str, Any]]] = []
    original = run_events.run_events_publish

    def record(*, run_id: int, events: list[dict[str, Any]]) -> Any:
        published.append(events)
        return original(run_id=run_id, events=events)

    monkeypatch.setattr(run_events, "run_events_publish", record)
    workflow = workflow_create(user=personas["alice"], name="Stream", document=_doc("stubby"))
    workflow_publish(workflow=workflow, user=personas["alice"], note="v1")
    run = run_start(
        version=workflow_published_version(workflow=workflow), started_by=personas["alice"], inputs={}
    )
    run_advance(run_id=run.id)
    run = Run.objects.get(id=run.id)
    assert run.status == Run.Status.SUCCEEDED, run.error
    step = run.steps.get(node_id="draft")
    assert step.output["text"] == ANSWER
    assert step.output["model"] == "stubby"
    assert step.meta["cost_usd"] > 0
    assert step.meta["attempts"][0]["outcome"] == "ok"

    events = list(RunEvent.objects.filter(run=run).order_by("seq"))
    assert [e.seq for e in events] == list(range(1, len(events) + 1))
    deltas = [e for e in events if e.type == "step.delta"]
    assert len(deltas) > 1
    assert all(e.node_id == "draft" for e in deltas)
    assert "".join(e.data["text"] for e in deltas) == ANSWER
    final = next(
        e
        for e in events
        if e.type == "step.status" and e.node_id == "draft" and e.data["status"] == "succeeded"
    )
    assert deltas[-1].seq < final.seq

    # each batch went out on its own, before the step's final save was published
    delta_calls = [i for i, batch in enumerate(published) if batch[0]["type"] == "step.delta"]
    final_call = next(i for i, batch in enumerate(published) if any(e["seq"] == final.seq for e in batch))
    assert len(delta_calls) == len(deltas)
    assert all(len(published[i]) == 1 for i in delta_calls)
    assert max(delta_calls) < final_call


def test_demo_model_streams_too(personas):
    workflow = workflow_create(user=personas["alice"], name="Demo stream", document=_doc("demo"))
    workflow_publish(workflow=workflow, user=personas["alice"], note="v1")
    run = run_start(
        version=workflow_published_version(workflow=workflow), started_by=personas["alice"], inputs={}
    )
    run_advance(run_id=run.id)
    run = Run.objects.get(id=run.id)
    assert run.status == Run.Status.SUCCEEDED, run.error
    text = run.steps.get(node_id="draft").output["text"]
    deltas = RunEvent.objects.filter(run=run, type="step.delta").order_by("seq")
    assert "".join(e.data["text"] for e in deltas) == text
