"""Conversation memory of ``llm.prompt``: read the last N turns, append this exchange once."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from orchestrator_core import RunnerServices, advance_run
from orchestrator_core.engine.context import RunContext
from orchestrator_core.errors import ErrorCode, NodeError
from orchestrator_core.nodes.builtin.llm_prompt import LLM_PROMPT
from orchestrator_core.policy import RunPolicy
from orchestrator_core.ports import RunStatus, Turn
from orchestrator_core.testing import FakeLLM, FakeMailer, InMemoryRunStore
from orchestrator_core.testing.fakes import fake_services_kwargs
from orchestrator_core.testing.usage import InMemoryConversationMemory
from tests.core.core_helpers import make_doc
from tests.core.node_harness import run_node


def _doc(**memory: Any) -> dict[str, Any]:
    config = {
        "model": "demo",
        "system": "Be brief.",
        "prompt": "{{ trigger.text }}",
        "memory": {"session_key": "{{ trigger.user }}", **memory},
    }
    return make_doc(
        [("t", "trigger.manual", {}), ("chat", "llm.prompt", config)],
        [("t", "out", "chat", "in")],
    )


def _run(
    store: InMemoryRunStore,
    memory: InMemoryConversationMemory,
    llm: FakeLLM,
    trigger: dict[str, Any],
    policy: RunPolicy | None = None,
    **memory_config: Any,
) -> str:
    run_id = store.create_run(_doc(**memory_config), trigger)
    services = RunnerServices(
        **fake_services_kwargs(store=store, llm=llm, memory=memory, policy=policy or RunPolicy())
    )
    assert advance_run(run_id, services) == RunStatus.SUCCEEDED
    return run_id


def test_second_run_sees_the_first_exchange_and_sessions_are_separate() -> None:
    store, memory = InMemoryRunStore(), InMemoryConversationMemory()
    llm = FakeLLM(["Hi Ann.", "You said hello.", "Hi Bo."])
    first = _run(store, memory, llm, {"user": "ann", "text": "hello"})
    _run(store, memory, llm, {"user": "ann", "text": "what did I say?"})
    _run(store, memory, llm, {"user": "bo", "text": "hey"})
    assert [dict(m) for m in llm.requests[1].messages] == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "hello"},
        {"role": "assistant", "content": "Hi Ann."},
        {"role": "user", "content": "what did I say?"},
    ]
    assert [m["content"] for m in llm.requests[2].messages] == ["Be brief.", "hey"]  # another session
    assert memory.turns("ann") == [
        Turn("user", "hello"),
        Turn("assistant", "Hi Ann."),
        Turn("user", "what did I say?"),
        Turn("assistant", "You said hello."),
    ]
    assert store.steps(first)["chat"].meta["memory"] == {"session": "ann", "turns_read": 0, "kept": True}


def test_only_the_last_n_turns_are_read() -> None:
    store, memory = InMemoryRunStore(), InMemoryConversationMemory()
    llm = FakeLLM(["a1", "a2", "a3"])
    for text in ("q1", "q2", "q3"):
        _run(store, memory, llm, {"user": "u", "text": text}, turns=3)
    assert [m["content"] for m in llm.requests[2].messages] == ["Be brief.", "a1", "q2", "a2", "q3"]


def test_appending_is_idempotent_per_run_and_node() -> None:
    memory = InMemoryConversationMemory()
    memory.append("r1", "n", "s", [Turn("user", "x"), Turn("assistant", "y")])
    memory.append("r1", "n", "s", [Turn("user", "x"), Turn("assistant", "y")])
    assert len(memory.turns("s")) == 2
    # A re-run of the same node does not see its own earlier exchange.
    assert memory.read("r1", "n", "s", limit=10) == []
    assert memory.read("r2", "n", "s", limit=10) == [Turn("user", "x"), Turn("assistant", "y")]


def test_a_node_re_run_after_a_crash_sends_the_same_prompt_and_appends_once() -> None:
    memory = InMemoryConversationMemory()
    memory.append("r0", "chat", "u", [Turn("user", "earlier"), Turn("assistant", "reply")])
    llm = FakeLLM(["first answer", "second answer"])
    config = LLM_PROMPT.config_model.model_validate(
        {"prompt": "{{ trigger.text }}", "memory": {"session_key": "{{ trigger.user }}"}}
    )
    for _ in range(2):  # the worker died after the first execution, before the step was saved
        ctx = RunContext(
            run_id="r1",
            node_id="chat",
            context={"trigger": {"user": "u", "text": "hello"}, "steps": {}, "run": {"id": "r1"}, "vars": {}},
            store=InMemoryRunStore(),
            llm_client=llm,
            mailer=FakeMailer(),
            memory=memory,
        )
        LLM_PROMPT.execute(ctx, config)
    assert llm.requests[0].messages == llm.requests[1].messages
    assert memory.turns("u") == [
        Turn("user", "earlier"),
        Turn("assistant", "reply"),
        Turn("user", "hello"),
        Turn("assistant", "first answer"),
    ]


def test_policy_redaction_applies_to_stored_turns() -> None:
    store, memory = InMemoryRunStore(), InMemoryConversationMemory()
    llm = FakeLLM(["Mail sent to bob@example.com"])
    _run(
        store,
        memory,
        llm,
        {"user": "u", "text": "write to bob@example.com"},
        policy=RunPolicy(redact_pii=True),
    )
    assert memory.turns("u") == [Turn("user", "write to [EMAIL]"), Turn("assistant", "Mail sent to [EMAIL]")]


def test_without_a_memory_port_nothing_is_kept_and_bad_keys_fail() -> None:
    config = {"prompt": "hi", "memory": {"session_key": "{{ trigger.user }}"}}
    result, _ctx = run_node(LLM_PROMPT, config, trigger={"user": "ann"})
    assert result.meta["memory"] == {"session": "ann", "turns_read": 0, "kept": False}
    with pytest.raises(NodeError) as info:
        run_node(LLM_PROMPT, config, trigger={})
    assert info.value.code == ErrorCode.INPUT_INVALID
    for bad in ({"session_key": ""}, {"session_key": "k", "turns": 0}, {"session_key": "k", "turns": 51}):
        with pytest.raises(ValidationError):
            LLM_PROMPT.config_model.model_validate({"prompt": "hi", "memory": bad})
    assert (
        LLM_PROMPT.config_model.model_validate({"prompt": "hi", "memory": {"session_key": "k"}}).memory.turns
        == 10
    )  # type: ignore[union-attr]
