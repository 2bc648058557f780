"""Independent ready nodes run concurrently (up to ``max_parallel``); saves stay ordered."""

from __future__ import annotations

import threading
import time
from typing import Any

from core_helpers import make_doc
from pydantic import BaseModel, ConfigDict

from orchestrator_core import (
    NodeRegistry,
    NodeResult,
    NodeType,
    RunnerServices,
    RunStatus,
    StepStatus,
    advance_run,
    default_registry,
)
from orchestrator_core.testing import FakeClock, FakeLLM, FakeMailer, InMemoryRunStore

NAP = 0.2


class _Empty(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _nap(ctx: Any, _config: Any, /) -> NodeResult:
    time.sleep(NAP)
    return NodeResult(output={"node": ctx.node_id, "thread": threading.current_thread().name})


SLEEP = NodeType(
    key="test.sleep", version=1, title="Sleep", category="Test", config_model=_Empty, execute=_nap
)
"""Test-only (never in the default registry): sleeps NAP seconds of real time."""

REGISTRY = NodeRegistry([*default_registry().types(), SLEEP])


def fan_out(width: int = 10) -> dict[str, Any]:
    sleepers = [(f"s{i:02d}", "test.sleep", {}) for i in range(width)]
    return make_doc(
        [("t", "trigger.manual", {}), *sleepers, ("join", "logic.merge", {"mode": "all"})],
        [("t", "out", s[0], "in") for s in sleepers] + [(s[0], "out", "join", "in") for s in sleepers],
    )


def run_fan_out(
    registry: NodeRegistry = REGISTRY, max_parallel: int = 4
) -> tuple[RunStatus | None, InMemoryRunStore, str]:
    """Run the ten-branch fan-out with ``registry``'s ``test.sleep`` node."""
    clock = FakeClock()
    store = InMemoryRunStore(clock)
    services = RunnerServices(
        store=store,
        registry=registry,
        llm=FakeLLM(),
        mailer=FakeMailer(),
        clock=clock,
        max_parallel=max_parallel,
    )
    run_id = store.create_run(fan_out(), {})
    return advance_run(run_id, services), store, run_id


def with_node(node_type: NodeType) -> NodeRegistry:
    return NodeRegistry([*default_registry().types(), node_type])


def timed_run(max_parallel: int) -> tuple[float, InMemoryRunStore, str]:
    began = time.perf_counter()
    status, store, run_id = run_fan_out(max_parallel=max_parallel)
    assert status == RunStatus.SUCCEEDED
    return time.perf_counter() - began, store, run_id


def test_parallel_branches_run_concurrently() -> None:
    serial, _, _ = timed_run(max_parallel=1)
    parallel, store, run_id = timed_run(max_parallel=10)
    assert serial >= 10 * NAP
    assert parallel < 0.6 * serial, (parallel, serial)
    steps = store.steps(run_id)
    assert len({steps[f"s{i:02d}"].output["thread"] for i in range(10)}) > 1
    assert sorted(steps["join"].output["inputs"]) == [f"s{i:02d}" for i in range(10)]


def test_saves_are_ordered_by_node_id() -> None:
    _, store, run_id = timed_run(max_parallel=10)
    saved = [(e.node_id, e.data["status"]) for _, e in store.events(run_id) if e.type == "step.status"]
    sleepers = [f"s{i:02d}" for i in range(10)]
    assert saved[2:12] == [(s, "running") for s in sleepers]
    assert saved[12:22] == [(s, "succeeded") for s in sleepers]
    assert saved[-1] == ("join", "succeeded")


def test_limit_is_respected() -> None:
    active = {"now": 0, "max": 0}
    lock = threading.Lock()

    def counting(ctx: Any, _config: Any, /) -> NodeResult:
        with lock:
            active["now"] += 1
            active["max"] = max(active["max"], active["now"])
        time.sleep(0.05)
        with lock:
            active["now"] -= 1
        return NodeResult(output={})

    counter = NodeType(
        key="test.sleep", version=1, title="Count", category="Test", config_model=_Empty, execute=counting
    )
    status, _, _ = run_fan_out(with_node(counter), max_parallel=3)
    assert status == RunStatus.SUCCEEDED
    assert active["max"] == 3


def test_a_failure_in_a_parallel_round_fails_the_run() -> None:
    def boom(ctx: Any, _config: Any, /) -> NodeResult:
        if ctx.node_id == "s03":
            raise ValueError("nope")
        return NodeResult(output={})

    failing = NodeType(
        key="test.sleep", version=1, title="Boom", category="Test", config_model=_Empty, execute=boom
    )
    status, store, run_id = run_fan_out(with_node(failing))
    assert status == RunStatus.FAILED
    steps = store.steps(run_id)
    assert steps["s03"].status == StepStatus.FAILED
    assert "join" not in steps
    assert store.run_error(run_id) == {
        "code": "INTERNAL_ERROR",
        "message": "ValueError: nope",
        "node_id": "s03",
    }


def test_thread_cleanup_runs_on_every_pool_thread() -> None:
    cleaned: list[str] = []
    clock = FakeClock()
    store = InMemoryRunStore(clock)
    services = RunnerServices(
        store=store,
        registry=REGISTRY,
        llm=FakeLLM(),
        mailer=FakeMailer(),
        clock=clock,
        max_parallel=10,
        thread_cleanup=lambda: cleaned.append(threading.current_thread().name),
    )
    run_id = store.create_run(fan_out(), {})
    assert advance_run(run_id, services) == RunStatus.SUCCEEDED
    assert len(cleaned) == 10
    assert threading.current_thread().name not in cleaned  # never on the runner thread
