"""A websocket client on ``/ws/runs/<id>/`` gets an llm.prompt step's ``step.delta`` batches live,
in order, and they join to the step's final text (issue 5)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator

from backend.config.asgi import websocket_urlpatterns
from backend.connectors.models import Connector
from backend.runs import services as run_services
from backend.runs.models import Run
from backend.runs.services import run_advance, run_start
from backend.workflows.selectors import workflow_published_version
from backend.workflows.services import workflow_create, workflow_publish
from orchestrator_core.testing.llm_stub import StubServer

pytestmark = pytest.mark.django_db(transaction=True)

ANSWER = (
    "Hello Carol, we are sorry about the double charge. The refund of 42 EUR is on its way "
    "and should reach your account within three working days. Thank you for your patience."
)

DOCUMENT = {
    "schema_version": 1,
    "nodes": [
        {"id": "t", "type": "trigger.manual", "type_version": 1, "config": {"fields": []}},
        {
            "id": "draft",
            "type": "llm.prompt",
            "type_version": 1,
            "config": {"model": "stubby", "prompt": "Write to Carol"},
        },
    ],
    "edges": [{"id": "e1", "source": "t", "source_port": "out", "target": "draft", "target_port": "in"}],
}


@pytest.fixture
def stub():
    with StubServer(ANSWER, chunk_delay=0.01) as server:
        yield server


@pytest.fixture
def started_run(personas, stub, monkeypatch):
    Connector.objects.create(
        name="Stub provider",
        kind="model",
        config={"provider": "openai_compatible", "base_url": stub.base_url, "models": [{"name": "stubby"}]},
        secret={"api_key": "sk-test"},
    )
    # Keep the run queued until the socket is open, so the deltas arrive live, not as a replay.
    monkeypatch.setattr(run_services, "_dispatch", lambda run_id: None)
    workflow = workflow_create(user=personas["alice"], name="Stream over the socket", document=DOCUMENT)
    workflow_publish(workflow=workflow, user=personas["alice"], note="v1")
    return run_start(
        version=workflow_published_version(workflow=workflow), started_by=personas["alice"], inputs={}
    )


async def test_socket_client_gets_the_deltas_in_order_and_they_join_to_the_output(personas, started_run):
    last_seq = started_run.last_seq
    communicator = WebsocketCommunicator(
        URLRouter(websocket_urlpatterns), f"/ws/runs/{started_run.id}/?after={last_seq}"
    )
    communicator.scope["user"] = personas["alice"]
    connected, _ = await communicator.connect()
    assert connected

    advancing = asyncio.ensure_future(
        sync_to_async(run_advance, thread_sensitive=False)(run_id=started_run.id)
    )
    events: list[dict[str, Any]] = []
    while not (events and events[-1]["type"] == "run.status" and events[-1]["data"]["status"] == "succeeded"):
        events.append(await communicator.receive_json_from(timeout=30))
    await advancing
    await communicator.disconnect()

    assert [e["seq"] for e in events] == list(range(last_seq + 1, last_seq + 1 + len(events)))
    deltas = [e for e in events if e["type"] == "step.delta"]
    assert len(deltas) > 1
    assert all(e["node_id"] == "draft" for e in deltas)
    final = next(
        i
        for i, e in enumerate(events)
        if e["type"] == "step.status" and e["node_id"] == "draft" and e["data"]["status"] == "succeeded"
    )
    assert events.index(deltas[-1]) < final

    run = await sync_to_async(Run.objects.get)(id=started_run.id)
    step = await sync_to_async(run.steps.get)(node_id="draft")
    assert step.output["text"] == ANSWER
    assert "".join(e["data"]["text"] for e in deltas) == step.output["text"]
