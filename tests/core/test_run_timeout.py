"""Run-level timeout: `RunnerServices.run_deadline` fails a run with RUN_TIMEOUT at a step boundary."""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import Any

from core_helpers import make_doc
from pydantic import BaseModel, ConfigDict

from orchestrator_core import (
    ErrorCode,
    NodeRegistry,
    NodeResult,
    NodeType,
    RunnerServices,
    RunStatus,
    StepStatus,
    advance_run,
    default_registry,
    validate_workflow,
)
from orchestrator_core.engine.runner import run_timeout_seconds
from orchestrator_core.testing import FakeClock, FakeLLM, FakeMailer, InMemoryRunStore


class _Empty(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def slow_type(clock: FakeClock, seconds: float) -> NodeType:
    """A node whose execution takes ``seconds`` of fake time."""
    lock = threading.Lock()

    def execute(_ctx: Any, _config: Any, /) -> NodeResult:
        with lock:
            clock.advance(seconds)
        return NodeResult(output={"ok": True})

    return NodeType(
        key="test.slow", version=1, title="Slow", category="Test", config_model=_Empty, execute=execute
    )


def _services(store: InMemoryRunStore, clock: FakeClock, **kwargs: Any) -> RunnerServices:
    registry = NodeRegistry([*default_registry().types(), slow_type(clock, 30)])
    return RunnerServices(
        store=store, registry=registry, llm=FakeLLM(), mailer=FakeMailer(), clock=clock, **kwargs
    )


def _chain(timeout: int | None = None) -> dict[str, Any]:
    config: dict[str, Any] = {} if timeout is None else {"run_timeout_seconds": timeout}
    return make_doc(
        [
            ("t", "trigger.manual", config),
            ("a", "test.slow", {}),
            ("b", "test.slow", {}),
            ("c", "test.slow", {}),
        ],
        [("t", "out", "a", "in"), ("a", "out", "b", "in"), ("b", "out", "c", "in")],
    )


def test_trigger_config_carries_the_timeout():
    assert run_timeout_seconds(_chain(45)) == 45.0
    assert run_timeout_seconds(_chain()) is None
    assert run_timeout_seconds({"nodes": "junk"}) is None
    registry = NodeRegistry([*default_registry().types(), slow_type(FakeClock(), 1)])
    assert validate_workflow(_chain(86400), registry) == []
    issues = validate_workflow(_chain(0), registry)
    assert [i.code for i in issues] == [ErrorCode.NODE_CONFIG_INVALID]


def test_run_past_its_deadline_fails_with_run_timeout():
    clock = FakeClock()
    store = InMemoryRunStore(clock)
    run_id = store.create_run(_chain(45), {})
    deadline = clock.now() + timedelta(seconds=45)
    status = advance_run(run_id, _services(store, clock, run_deadline=deadline))
    assert status == RunStatus.FAILED
    error = store.run_error(run_id)
    assert error is not None
    assert error["code"] == ErrorCode.RUN_TIMEOUT
    steps = store.steps(run_id)
    # a (0-30 s) and b (30-60 s) ran; c was never started once the deadline had passed.
    assert steps["a"].status == StepStatus.SUCCEEDED
    assert steps["b"].status == StepStatus.SUCCEEDED
    assert "c" not in steps


def test_run_within_its_deadline_succeeds():
    clock = FakeClock()
    store = InMemoryRunStore(clock)
    run_id = store.create_run(_chain(), {})
    status = advance_run(run_id, _services(store, clock, run_deadline=clock.now() + timedelta(seconds=91)))
    assert status == RunStatus.SUCCEEDED


def test_finished_run_is_not_failed_by_a_deadline_reached_on_the_last_step():
    clock = FakeClock()
    store = InMemoryRunStore(clock)
    run_id = store.create_run(_chain(), {})
    status = advance_run(run_id, _services(store, clock, run_deadline=clock.now() + timedelta(seconds=90)))
    assert status == RunStatus.SUCCEEDED


def test_waiting_run_resumed_after_its_deadline_fails():
    clock = FakeClock()
    store = InMemoryRunStore(clock)
    doc = make_doc(
        [("t", "trigger.manual", {}), ("d", "flow.delay", {"seconds": 600}), ("a", "test.slow", {})],
        [("t", "out", "d", "in"), ("d", "out", "a", "in")],
    )
    run_id = store.create_run(doc, {})
    deadline = clock.now() + timedelta(seconds=300)
    assert advance_run(run_id, _services(store, clock, run_deadline=deadline)) == RunStatus.WAITING
    clock.advance(600)
    store.resume_step(run_id, "d", {"kind": "delay", "woke_at": clock.now().isoformat()})
    assert advance_run(run_id, _services(store, clock, run_deadline=deadline)) == RunStatus.FAILED
    error = store.run_error(run_id)
    assert error is not None
    assert error["code"] == ErrorCode.RUN_TIMEOUT
