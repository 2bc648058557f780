"""The LLM nodes wired to the gateway, over real litellm HTTP against the 127.0.0.1 stub."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator, Sequence
from typing import Any

import pytest
from pydantic import ValidationError

from orchestrator_core import LiteLLMClient, ModelSpec, RunnerServices, advance_run, default_registry
from orchestrator_core.engine.context import RunContext
from orchestrator_core.errors import ErrorCode, NodeError
from orchestrator_core.nodes.builtin.llm_classify import LLM_CLASSIFY
from orchestrator_core.nodes.builtin.llm_prompt import LLM_PROMPT, parse_json_answer
from orchestrator_core.ports import Event, RunStatus
from orchestrator_core.testing import FakeClock, FakeMailer, InMemoryRunStore
from orchestrator_core.testing.llm_stub import StubServer

ANSWER = "Dear customer, thank you for writing. We have refunded your order and it arrives in 3 days."


@pytest.fixture
def stub() -> Iterator[StubServer]:
    with StubServer(ANSWER) as server:
        yield server


def _client(*stubs: tuple[str, StubServer], **kwargs: Any) -> LiteLLMClient:
    specs = [
        ModelSpec(
            name=name,
            litellm_model=f"openai/{name}-model",
            api_base=server.base_url,
            api_key="sk-test",
            input_cost_per_token=1e-6,
            output_cost_per_token=2e-6,
            tier=2,
        )
        for name, server in stubs
    ]
    return LiteLLMClient(specs, backoff=0, sleep=lambda _: None, stream_flush_chars=10, **kwargs)


def _ctx(client: LiteLLMClient, store: InMemoryRunStore | None = None) -> RunContext:
    return RunContext(
        run_id="r1",
        node_id="n",
        context={"trigger": {"body": "Refund please"}, "steps": {}, "run": {"id": "r1"}, "vars": {}},
        store=store or InMemoryRunStore(),
        llm_client=client,
        mailer=FakeMailer(),
    )


def test_config_defaults_and_bounds() -> None:
    config = LLM_PROMPT.config_model.model_validate({"prompt": "hi"})
    assert (config.fallbacks, config.min_tier, config.redact_pii, config.output_schema) == (
        [],
        1,
        False,
        None,
    )
    for bad in ({"min_tier": 0}, {"min_tier": 4}, {"fallbacks": ["auto"]}, {"fallbacks": ["a", "a"]}):
        with pytest.raises(ValidationError):
            LLM_PROMPT.config_model.model_validate({"prompt": "hi", **bad})
    with pytest.raises(ValidationError, match="not a valid JSON Schema"):
        LLM_PROMPT.config_model.model_validate({"prompt": "hi", "output_schema": {"type": "nope"}})
    classify = LLM_CLASSIFY.config_model.model_validate(
        {"input": "x", "categories": ["a", "b"], "fallbacks": ["b2"], "min_tier": 3, "redact_pii": True}
    )
    assert (classify.fallbacks, classify.min_tier, classify.redact_pii) == (["b2"], 3, True)


def test_prompt_streams_deltas_whose_concatenation_is_the_text(stub: StubServer) -> None:
    ctx = _ctx(_client(("main", stub)))
    config = LLM_PROMPT.config_model.model_validate({"model": "main", "prompt": "{{ trigger.body }}"})
    result = LLM_PROMPT.execute(ctx, config)
    assert result.output == {"text": ANSWER, "model": "main"}
    deltas = [e for e in ctx.events if e.type == "step.delta"]
    assert len(deltas) > 1
    assert all(e.node_id == "n" for e in deltas)
    assert "".join(e.data["text"] for e in deltas) == ANSWER
    assert stub.requests[0]["stream"] is True
    meta = result.meta
    assert meta["model"] == "main"
    assert meta["calls"] == 1
    assert meta["tokens_in"] > 0
    assert meta["tokens_out"] == len(ANSWER.split())
    assert meta["cost_usd"] == pytest.approx(meta["tokens_in"] * 1e-6 + meta["tokens_out"] * 2e-6)
    assert meta["attempts"] == [dict(meta["attempts"][0], model="main", outcome="ok", http_status=200)]
    assert meta["reason"] == "model set on the node"


def test_fallbacks_redaction_and_attempts_in_meta(stub: StubServer) -> None:
    with StubServer(status=503) as broken:
        ctx = _ctx(_client(("main", broken), ("backup", stub), retries=1))
        config = LLM_PROMPT.config_model.model_validate(
            {
                "model": "main",
                "prompt": "Mail me at jane@example.com",
                "fallbacks": ["backup"],
                "redact_pii": True,
            }
        )
        result = LLM_PROMPT.execute(ctx, config)
    assert result.output["model"] == "backup"
    assert [(a["model"], a["outcome"]) for a in result.meta["attempts"]] == [
        ("main", "error"),
        ("main", "error"),
        ("backup", "ok"),
    ]
    assert "fell back to backup" in result.meta["reason"]
    sent = json.dumps(stub.requests[0]["messages"])
    assert "jane@example.com" not in sent
    # ctx.meta (kept on failed steps too) saw the same attempts
    assert len(ctx.meta["attempts"]) == 3


def test_auto_honours_min_tier(stub: StubServer) -> None:
    with StubServer("small answer") as small:
        client = _client(("big", stub))
        client.models["small"] = ModelSpec(
            "small",
            "openai/small-model",
            api_base=small.base_url,
            api_key="k",
            tier=1,
            input_cost_per_token=0,
        )
        config = LLM_CLASSIFY.config_model.model_validate(
            {"model": "auto", "input": "refund please", "categories": ["refund", "other"], "min_tier": 2}
        )
        ctx = _ctx(client)
        with pytest.raises(NodeError):  # big answers a letter, not a category
            LLM_CLASSIFY.execute(ctx, config)
        assert "skipped demo: tier 1 < 2" in ctx.meta["reason"]
        assert ctx.meta["model"] == "big"
        assert not small.requests
        cheap = LLM_CLASSIFY.config_model.model_validate(
            {"model": "auto", "input": "refund please", "categories": ["refund", "other"]}
        )
        result = LLM_CLASSIFY.execute(_ctx(client), cheap)
    assert result.meta["model"] == "demo"  # free and tier 1
    assert result.output["label"] == "refund"


SCHEMA = {
    "type": "object",
    "properties": {"intent": {"type": "string"}, "urgent": {"type": "boolean"}},
    "required": ["intent", "urgent"],
}


def test_output_schema_parses_valid_json_without_streaming() -> None:
    with StubServer('```json\n{"intent": "refund", "urgent": true}\n```') as server:
        ctx = _ctx(_client(("main", server)))
        config = LLM_PROMPT.config_model.model_validate(
            {"model": "main", "prompt": "Classify", "output_schema": SCHEMA}
        )
        result = LLM_PROMPT.execute(ctx, config)
    assert result.output["data"] == {"intent": "refund", "urgent": True}
    assert not server.requests[0].get("stream")
    assert "JSON Schema" in server.requests[0]["messages"][0]["content"]
    assert not [e for e in ctx.events if e.type == "step.delta"]


def test_output_schema_repairs_once_with_the_validation_error() -> None:
    script: Sequence[Any] = ['{"intent": "refund"}', '{"intent": "refund", "urgent": false}']
    with StubServer(script=script) as server:
        ctx = _ctx(_client(("main", server)))
        config = LLM_PROMPT.config_model.model_validate(
            {"model": "main", "prompt": "Classify", "output_schema": SCHEMA}
        )
        result = LLM_PROMPT.execute(ctx, config)
    assert result.output["data"] == {"intent": "refund", "urgent": False}
    assert result.meta["calls"] == 2
    assert len(result.meta["attempts"]) == 2
    repair = server.requests[1]["messages"]
    assert repair[-2] == {"role": "assistant", "content": '{"intent": "refund"}'}
    assert "'urgent' is a required property" in repair[-1]["content"]


def test_output_schema_fails_after_one_repair() -> None:
    with StubServer(script=["not json", "still not json", "never asked"]) as server:
        ctx = _ctx(_client(("main", server)))
        config = LLM_PROMPT.config_model.model_validate(
            {"model": "main", "prompt": "Classify", "output_schema": SCHEMA}
        )
        with pytest.raises(NodeError) as info:
            LLM_PROMPT.execute(ctx, config)
    assert info.value.code == ErrorCode.LLM_OUTPUT_INVALID
    assert len(server.requests) == 2
    assert ctx.meta["tokens_out"] > 0  # usage of both calls is kept on the failed step


def test_parse_json_answer() -> None:
    assert parse_json_answer("[1, 2]", {"type": "array"}) == ([1, 2], None)
    value, error = parse_json_answer('{"a": 1}', {"type": "array"})
    assert value is None
    assert error is not None
    assert "(root)" in error


class _PublishingStore(InMemoryRunStore):
    """A store with the optional ``publish_transient`` capability; records when it was called."""

    def __init__(self, clock: FakeClock) -> None:
        super().__init__(clock)
        self.published: list[tuple[str, int, list[Event]]] = []
        self.threads: set[str] = set()

    def publish_transient(self, run_id: str, fence: int, events: list[Event]) -> None:
        self.published.append((run_id, fence, list(events)))
        self.threads.add(threading.current_thread().name)
        with self._lock:
            self._append(self._fenced(run_id, fence), events)


def _prompt_doc() -> dict[str, Any]:
    return {
        "schema_version": 1,
        "nodes": [
            {"id": "t", "type": "trigger.manual", "type_version": 1, "config": {"fields": []}},
            {
                "id": "draft",
                "type": "llm.prompt",
                "type_version": 1,
                "config": {"model": "main", "prompt": "Hi"},
            },
        ],
        "edges": [{"id": "e1", "source": "t", "source_port": "out", "target": "draft", "target_port": "in"}],
    }


@pytest.mark.parametrize("publishing", [False, True])
def test_runner_saves_deltas_in_order_before_the_step(stub: StubServer, publishing: bool) -> None:
    clock = FakeClock()
    store = _PublishingStore(clock) if publishing else InMemoryRunStore(clock)
    services = RunnerServices(
        store=store,
        registry=default_registry(),
        llm=_client(("main", stub)),
        mailer=FakeMailer(),
        clock=clock,
    )
    run_id = store.create_run(_prompt_doc(), {})
    assert advance_run(run_id, services) == RunStatus.SUCCEEDED
    events = [e for _, e in store.events(run_id)]
    seqs = [s for s, _ in store.events(run_id)]
    assert seqs == sorted(seqs)
    deltas = [e.data["text"] for e in events if e.type == "step.delta"]
    assert "".join(deltas) == store.steps(run_id)["draft"].output["text"] == ANSWER
    final = max(i for i, e in enumerate(events) if e.type == "step.status" and e.node_id == "draft")
    assert max(i for i, e in enumerate(events) if e.type == "step.delta") < final
    if isinstance(store, _PublishingStore):
        assert len(store.published) == len(deltas)  # one call per batch, as it arrived
        assert {fence for _, fence, _ in store.published} == {1}
