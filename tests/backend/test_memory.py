"""Conversation memory on real runs: the second run's prompt to the stub carries the first exchange."""

from __future__ import annotations

from typing import Any

import pytest

from backend.connectors.models import Connector
from backend.memory.models import Conversation, Turn
from backend.memory.store import DjangoConversationMemory
from backend.runs import services as run_services
from backend.runs.models import Run
from backend.runs.services import run_advance, run_start
from backend.workflows.selectors import workflow_published_version
from backend.workflows.services import workflow_create, workflow_publish
from orchestrator_core.policy import RunPolicy
from orchestrator_core.ports import Turn as CoreTurn
from orchestrator_core.testing.llm_stub import StubServer


@pytest.fixture
def stub():
    replies = iter(["Hello Ann, how can I help?", "You asked about your invoice.", "Hi Bo."])
    with StubServer(script=lambda body: next(replies)) as server:
        yield server


@pytest.fixture
def chat_model(personas, stub):
    return Connector.objects.create(
        name="Chat",
        kind="model",
        config={
            "provider": "openai_compatible",
            "base_url": stub.base_url,
            "models": [{"name": "chatty", "tier": 2, "input_cost_per_token": 1e-6}],
        },
        secret={"api_key": "sk-test"},
    )


def _doc() -> dict[str, Any]:
    return {
        "schema_version": 1,
        "nodes": [
            {
                "id": "t",
                "type": "trigger.manual",
                "type_version": 1,
                "config": {
                    "fields": [{"name": "user", "type": "string"}, {"name": "text", "type": "string"}]
                },
            },
            {
                "id": "chat",
                "type": "llm.prompt",
                "type_version": 1,
                "config": {
                    "model": "chatty",
                    "system": "You are a support agent.",
                    "prompt": "{{ trigger.text }}",
                    "memory": {"session_key": "{{ trigger.user }}", "turns": 10},
                },
            },
        ],
        "edges": [{"id": "e1", "source": "t", "source_port": "out", "target": "chat", "target_port": "in"}],
    }


@pytest.mark.django_db(transaction=True)
def test_two_runs_with_the_same_session_share_the_conversation(personas, chat_model, stub):
    workflow = workflow_create(user=personas["alice"], name="Chat", document=_doc())
    workflow_publish(workflow=workflow, user=personas["alice"], note="v1")
    version = workflow_published_version(workflow=workflow)
    runs = []
    for inputs in (
        {"user": "ann@example.com", "text": "Hi, a question about my invoice"},
        {"user": "ann@example.com", "text": "What did I ask about?"},
        {"user": "bo@example.com", "text": "Hello"},
    ):
        run = run_start(version=version, started_by=personas["alice"], inputs=inputs)
        run_advance(run_id=run.id)
        run.refresh_from_db()
        assert run.status == Run.Status.SUCCEEDED, run.error
        runs.append(run)
    assert stub.requests[1]["messages"] == [
        {"role": "system", "content": "You are a support agent."},
        {"role": "user", "content": "Hi, a question about my invoice"},
        {"role": "assistant", "content": "Hello Ann, how can I help?"},
        {"role": "user", "content": "What did I ask about?"},
    ]
    assert [m["role"] for m in stub.requests[2]["messages"]] == ["system", "user"]  # another session
    conversation = Conversation.objects.get(workflow=workflow, session_key="ann@example.com")
    assert list(conversation.turns.values_list("role", "run_id")) == [
        ("user", runs[0].id),
        ("assistant", runs[0].id),
        ("user", runs[1].id),
        ("assistant", runs[1].id),
    ]
    step = runs[1].steps.get(node_id="chat")
    assert step.meta["memory"] == {"session": "ann@example.com", "turns_read": 2, "kept": True}
    # Turns belong to their run: purging a run purges what it added.
    runs[0].delete()
    assert list(conversation.turns.values_list("content", flat=True)) == [
        "What did I ask about?",
        "You asked about your invoice.",
    ]


@pytest.mark.django_db(transaction=True)
def test_redaction_policy_applies_to_stored_turns(personas, chat_model, stub, monkeypatch):
    monkeypatch.setattr(run_services, "_run_policy", lambda run_id: RunPolicy(redact_pii=True))
    workflow = workflow_create(user=personas["alice"], name="Chat", document=_doc())
    workflow_publish(workflow=workflow, user=personas["alice"], note="v1")
    run = run_start(
        version=workflow_published_version(workflow=workflow),
        started_by=personas["alice"],
        inputs={"user": "ann", "text": "Mail me at ann@example.com or +44 20 7946 0958"},
    )
    run_advance(run_id=run.id)
    assert list(Turn.objects.values_list("content", flat=True))[0] == "Mail me at [EMAIL] or [PHONE]"


def test_django_memory_is_idempotent_per_run_and_node(personas, support_workflow):
    version = workflow_published_version(workflow=support_workflow)
    run = Run.objects.create(workflow=support_workflow, version=version, started_by=personas["alice"])
    other = Run.objects.create(workflow=support_workflow, version=version, started_by=personas["alice"])
    memory = DjangoConversationMemory()
    turns = [CoreTurn("user", "q"), CoreTurn("assistant", "a")]
    memory.append(str(run.id), "n", "s", turns)
    memory.append(str(run.id), "n", "s", turns)
    assert Turn.objects.count() == 2
    assert memory.read(str(run.id), "n", "s", limit=10) == []  # a re-run does not see its own turns
    assert memory.read(str(other.id), "n", "s", limit=10) == turns
    assert memory.read(str(other.id), "n", "s", limit=1) == [turns[1]]
    assert memory.read(str(other.id), "n", "other-session", limit=10) == []
    memory.append(str(other.id), "n", "s", [CoreTurn("user", "q2"), CoreTurn("assistant", "a2")])
    assert [t.content for t in memory.read("999999", "n", "s", limit=10)] == []  # unknown run
    assert Conversation.objects.count() == 1
