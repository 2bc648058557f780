"""``logic.loop`` and ``flow.subworkflow``: child runs through the `SubRuns` port (in memory)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from core_helpers import load_fixture, make_doc

from orchestrator_core import ErrorCode, RunnerServices, RunStatus, StepStatus, advance_run, validate_workflow
from orchestrator_core.nodes.builtin.flow_subworkflow import MAX_SUBWORKFLOW_DEPTH, terminal_outputs
from orchestrator_core.nodes.registry import NodeRegistry
from orchestrator_core.ports import JSON, ChildRun, StepRecord
from orchestrator_core.testing import FakeClock, InMemoryRunStore
from orchestrator_core.testing.subruns import InMemorySubRuns

# A body that parks on a timer, so that children stay active until a test resumes them.
SLOW_BODY = make_doc(
    [
        ("t", "trigger.manual", {}),
        ("wait", "flow.delay", {"seconds": 60}),
        ("echo", "data.transform", {"expression": "trigger.n"}),
    ],
    [("t", "out", "wait", "in"), ("wait", "out", "echo", "in")],
)
# A body that fails for a non-number n (abs() of a string is a JMESPath type error).
FRAGILE_BODY = make_doc(
    [("t", "trigger.manual", {}), ("abs", "data.transform", {"expression": "abs(trigger.n)"})],
    [("t", "out", "abs", "in")],
)


def loop_doc(**config: Any) -> dict[str, Any]:
    return make_doc(
        [("t", "trigger.manual", {}), ("each", "logic.loop", {"items": "trigger.items", **config})],
        [("t", "out", "each", "in")],
    )


@pytest.fixture
def subruns(store: InMemoryRunStore) -> InMemorySubRuns:
    return InMemorySubRuns(
        store,
        {
            "greet": load_fixture("subworkflow_body_greet.json"),
            "review": load_fixture("subworkflow_body_review.json"),
            "slow": SLOW_BODY,
            "fragile": FRAGILE_BODY,
        },
    )


@pytest.fixture
def sub_services(services: RunnerServices, subruns: InMemorySubRuns) -> RunnerServices:
    return replace(services, subruns=subruns)


def drive(subruns: InMemorySubRuns, services: RunnerServices, run_id: str) -> RunStatus:
    subruns.drive(lambda rid: advance_run(rid, services), [run_id])
    return subruns.store.run_status(run_id)


def resume_timers(store: InMemoryRunStore, subruns: InMemorySubRuns, limit: int) -> int:
    """Fire the timers of up to ``limit`` waiting children, lowest run first."""
    fired = 0
    for run_id in subruns.started:
        step = store.steps(run_id).get("wait")
        if fired < limit and step is not None and step.status == StepStatus.WAITING and step.resume is None:
            store.resume_step(run_id, "wait", {"kind": "delay"})
            fired += 1
    return fired


# --- flow.subworkflow ------------------------------------------------------------------------------


def test_subworkflow_golden_runs_the_child_and_maps_its_outputs(
    store: InMemoryRunStore, subruns: InMemorySubRuns, sub_services: RunnerServices
) -> None:
    run_id = store.create_run(load_fixture("subworkflow_call.json"), {"name": "Ada"})
    assert advance_run(run_id, sub_services) == RunStatus.WAITING
    call = store.steps(run_id)["call"]
    assert call.status == StepStatus.WAITING
    assert call.request["kind"] == "children"
    assert call.request["runs"] == {"0": subruns.started[0]}

    assert drive(subruns, sub_services, run_id) == RunStatus.SUCCEEDED
    steps = store.steps(run_id)
    child_id = subruns.started[0]
    assert steps["call"].output == {
        "run_id": child_id,
        "version": 1,
        "outputs": {"greet": {"text": "Hello Ada"}},
    }
    assert steps["say"].output == {"text": "The child said: Hello Ada"}
    assert store.run_status(child_id) == RunStatus.SUCCEEDED
    assert len(subruns.started) == 1


def test_subworkflow_inputs_keep_their_type_and_check_the_trigger_fields(
    store: InMemoryRunStore, subruns: InMemorySubRuns, sub_services: RunnerServices
) -> None:
    doc = make_doc(
        [
            ("t", "trigger.manual", {}),
            ("call", "flow.subworkflow", {"workflow": "slow", "inputs": {"n": "{{ trigger.n }}"}}),
        ],
        [("t", "out", "call", "in")],
    )
    run_id = store.create_run(doc, {"n": [1, 2]})
    assert drive(subruns, sub_services, run_id) == RunStatus.WAITING
    child = subruns.started[0]
    assert resume_timers(store, subruns, 1) == 1
    assert drive(subruns, sub_services, run_id) == RunStatus.SUCCEEDED
    assert store.steps(child)["echo"].output == {"result": [1, 2]}

    missing = make_doc(
        [("t", "trigger.manual", {}), ("call", "flow.subworkflow", {"workflow": "greet"})],
        [("t", "out", "call", "in")],
    )
    bad = store.create_run(missing, {})
    assert advance_run(bad, sub_services) == RunStatus.FAILED
    assert store.steps(bad)["call"].error["code"] == "INPUT_INVALID"


def test_a_failed_child_fails_the_subworkflow_node(
    store: InMemoryRunStore, subruns: InMemorySubRuns, sub_services: RunnerServices
) -> None:
    doc = make_doc(
        [
            ("t", "trigger.manual", {}),
            ("call", "flow.subworkflow", {"workflow": "fragile", "inputs": {"n": "x"}}),
        ],
        [("t", "out", "call", "in")],
    )
    run_id = store.create_run(doc, {})
    assert drive(subruns, sub_services, run_id) == RunStatus.FAILED
    error = store.steps(run_id)["call"].error
    assert error["code"] == "SUBWORKFLOW_FAILED"
    assert error["details"]["run_id"] == subruns.started[0]
    assert error["details"]["error"]["code"] == "EXPRESSION_INVALID"


def test_unknown_workflow_and_missing_runtime(
    store: InMemoryRunStore, subruns: InMemorySubRuns, sub_services: RunnerServices, services: RunnerServices
) -> None:
    doc = make_doc(
        [("t", "trigger.manual", {}), ("call", "flow.subworkflow", {"workflow": "nope"})],
        [("t", "out", "call", "in")],
    )
    run_id = store.create_run(doc, {})
    assert advance_run(run_id, sub_services) == RunStatus.FAILED
    assert store.steps(run_id)["call"].error["code"] == "SUBWORKFLOW_NOT_FOUND"
    pinned = store.create_run(
        make_doc(
            [("t", "trigger.manual", {}), ("call", "flow.subworkflow", {"workflow": "greet", "version": 7})],
            [("t", "out", "call", "in")],
        ),
        {},
    )
    assert advance_run(pinned, sub_services) == RunStatus.FAILED
    assert store.steps(pinned)["call"].error["code"] == "SUBWORKFLOW_NOT_PUBLISHED"
    bare = store.create_run(load_fixture("subworkflow_call.json"), {"name": "Ada"})
    assert advance_run(bare, services) == RunStatus.FAILED  # no SubRuns in this runtime
    assert store.steps(bare)["call"].error["code"] == "NODE_FAILED"


def test_depth_limit_stops_a_workflow_that_calls_itself(
    store: InMemoryRunStore, subruns: InMemorySubRuns, sub_services: RunnerServices
) -> None:
    recursive = make_doc(
        [("t", "trigger.manual", {}), ("again", "flow.subworkflow", {"workflow": "rec"})],
        [("t", "out", "again", "in")],
    )
    subruns.publish("rec", recursive)
    run_id = store.create_run(recursive, {})
    assert drive(subruns, sub_services, run_id) == RunStatus.FAILED
    assert len(subruns.started) == MAX_SUBWORKFLOW_DEPTH
    deepest = subruns.started[-1]
    assert subruns.depth(deepest) == MAX_SUBWORKFLOW_DEPTH
    assert store.steps(deepest)["again"].error["code"] == "SUBWORKFLOW_DEPTH"
    assert store.steps(run_id)["again"].error["code"] == "SUBWORKFLOW_FAILED"


# --- logic.loop ------------------------------------------------------------------------------------


def test_loop_golden_greets_each_name_in_order(
    store: InMemoryRunStore, subruns: InMemorySubRuns, sub_services: RunnerServices
) -> None:
    run_id = store.create_run(load_fixture("loop_greet_each.json"), {"names": ["Ada", "Bo", "Cy"]})
    assert drive(subruns, sub_services, run_id) == RunStatus.SUCCEEDED
    steps = store.steps(run_id)
    assert steps["all"].output == {"result": ["Hello Ada", "Hello Bo", "Hello Cy"]}
    assert steps["each"].output["errors"] == []
    assert steps["each"].output["run_ids"] == subruns.started
    assert subruns.max_active <= 2


def test_loop_of_five_items_never_runs_more_than_two_at_once(
    store: InMemoryRunStore, subruns: InMemorySubRuns, sub_services: RunnerServices
) -> None:
    doc = loop_doc(workflow="slow", item_inputs={"n": "{{ item }}"}, concurrency=2)
    run_id = store.create_run(doc, {"items": [10, 20, 30, 40, 50]})
    assert drive(subruns, sub_services, run_id) == RunStatus.WAITING
    assert len(subruns.started) == 2
    rounds = 0
    while store.run_status(run_id) == RunStatus.WAITING:
        rounds += 1
        assert rounds < 10
        assert resume_timers(store, subruns, 1) == 1  # one child at a time finishes
        drive(subruns, sub_services, run_id)
        active = [r for r in subruns.started if not store.run_status(r).is_final]
        assert len(active) <= 2
    assert store.run_status(run_id) == RunStatus.SUCCEEDED
    assert subruns.max_active == 2
    assert len(subruns.started) == 5
    output = store.steps(run_id)["each"].output
    assert [r["echo"]["result"] for r in output["results"]] == [10, 20, 30, 40, 50]


ITEMS = [{"n": 1}, {"n": "x"}, {"n": -3}]


def test_loop_on_item_error_stop_fails_and_starts_no_more(
    store: InMemoryRunStore, subruns: InMemorySubRuns, sub_services: RunnerServices
) -> None:
    run_id = store.create_run(
        loop_doc(workflow="fragile", concurrency=1, on_item_error="stop"), {"items": ITEMS}
    )
    assert drive(subruns, sub_services, run_id) == RunStatus.FAILED
    error = store.steps(run_id)["each"].error
    assert error["code"] == "LOOP_ITEM_FAILED"
    assert error["details"]["index"] == 1
    assert error["details"]["error"]["code"] == "EXPRESSION_INVALID"
    assert len(subruns.started) == 2  # item 2 never started


def test_loop_on_item_error_skip_leaves_failed_items_out(
    store: InMemoryRunStore, subruns: InMemorySubRuns, sub_services: RunnerServices
) -> None:
    run_id = store.create_run(loop_doc(workflow="fragile", on_item_error="skip"), {"items": ITEMS})
    assert drive(subruns, sub_services, run_id) == RunStatus.SUCCEEDED
    output = store.steps(run_id)["each"].output
    assert output["results"] == [{"abs": {"result": 1}}, {"abs": {"result": 3}}]
    assert output["errors"] == []
    assert (output["count"], output["failed"]) == (3, 1)


def test_loop_on_item_error_collect_keeps_places_and_lists_errors(
    store: InMemoryRunStore, subruns: InMemorySubRuns, sub_services: RunnerServices
) -> None:
    run_id = store.create_run(loop_doc(workflow="fragile", on_item_error="collect"), {"items": ITEMS})
    assert drive(subruns, sub_services, run_id) == RunStatus.SUCCEEDED
    output = store.steps(run_id)["each"].output
    assert output["results"] == [{"abs": {"result": 1}}, None, {"abs": {"result": 3}}]
    assert [(e["index"], e["status"], e["error"]["code"]) for e in output["errors"]] == [
        (1, "failed", "EXPRESSION_INVALID")
    ]
    assert output["errors"][0]["run_id"] == subruns.started[1]


class _Crash(BaseException):
    """A worker dying in the middle of a node (not an Exception: the runner does not catch it)."""


class CrashAfterFirstStart:
    def __init__(self, inner: InMemorySubRuns) -> None:
        self.inner = inner
        self.armed = True

    def start(
        self, parent_run_id: str, node_id: str, key: str, *, workflow: str, version: int | None, inputs: JSON
    ) -> ChildRun:
        child = self.inner.start(
            parent_run_id, node_id, key, workflow=workflow, version=version, inputs=inputs
        )
        if self.armed:
            self.armed = False
            raise _Crash
        return child

    def children(self, parent_run_id: str, node_id: str) -> Any:
        return self.inner.children(parent_run_id, node_id)


def test_re_executing_the_loop_never_starts_an_item_twice(
    store: InMemoryRunStore, subruns: InMemorySubRuns, sub_services: RunnerServices
) -> None:
    crashing = replace(sub_services, subruns=CrashAfterFirstStart(subruns))
    run_id = store.create_run(
        loop_doc(workflow="slow", item_inputs={"n": "{{ index }}"}, concurrency=3), {"items": [0] * 4}
    )
    with pytest.raises(_Crash):
        advance_run(run_id, crashing)
    assert store.steps(run_id)["each"].status == StepStatus.RUNNING
    assert len(subruns.started) == 1
    store.expire_lease(run_id)
    assert advance_run(run_id, sub_services) == RunStatus.WAITING  # the restart starts the rest
    assert len(subruns.started) == 3
    # A wake-up with nothing new (or a duplicate wake-up) starts nothing.
    store.resume_step(run_id, "each", {"kind": "children"})
    assert advance_run(run_id, sub_services) == RunStatus.WAITING
    assert len(subruns.started) == 3
    resume_timers(store, subruns, 10)
    resume_timers(store, subruns, 10)
    for _ in range(3):
        drive(subruns, sub_services, run_id)
        resume_timers(store, subruns, 10)
    assert store.run_status(run_id) == RunStatus.SUCCEEDED
    keys = [subruns._links[r].key for r in subruns.started]
    assert sorted(keys) == ["0", "1", "2", "3"]
    output = store.steps(run_id)["each"].output
    assert [r["echo"]["result"] for r in output["results"]] == [0, 1, 2, 3]


def test_an_approval_in_each_item_parks_the_parent_until_all_are_decided(
    store: InMemoryRunStore, subruns: InMemorySubRuns, sub_services: RunnerServices
) -> None:
    run_id = store.create_run(load_fixture("loop_review_each.json"), {"names": ["Ada", "Bo"]})
    assert drive(subruns, sub_services, run_id) == RunStatus.WAITING
    children = list(subruns.started)
    assert [store.steps(c)["approve"].status for c in children] == [StepStatus.WAITING] * 2
    store.resume_step(children[0], "approve", {"decision": "approve", "edited": {"text": "Hi Ada!"}})
    assert drive(subruns, sub_services, run_id) == RunStatus.WAITING
    store.resume_step(children[1], "approve", {"decision": "approve"})
    assert drive(subruns, sub_services, run_id) == RunStatus.SUCCEEDED
    assert store.steps(run_id)["all"].output == {"result": ["Hi Ada!", "Hello Bo"]}


def test_loop_items_must_be_a_short_list(
    store: InMemoryRunStore, subruns: InMemorySubRuns, sub_services: RunnerServices
) -> None:
    not_list = store.create_run(loop_doc(workflow="greet"), {"items": "Ada"})
    assert advance_run(not_list, sub_services) == RunStatus.FAILED
    assert store.steps(not_list)["each"].error["code"] == "LOOP_ITEMS_INVALID"
    too_many = store.create_run(loop_doc(workflow="greet", max_items=2), {"items": [1, 2, 3]})
    assert advance_run(too_many, sub_services) == RunStatus.FAILED
    assert store.steps(too_many)["each"].error["code"] == "LOOP_ITEMS_INVALID"
    empty = store.create_run(loop_doc(workflow="greet"), {"items": []})
    assert advance_run(empty, sub_services) == RunStatus.SUCCEEDED
    assert store.steps(empty)["each"].output["results"] == []


@pytest.mark.parametrize(
    "config",
    [
        {"workflow": "greet", "concurrency": 0},
        {"workflow": "greet", "concurrency": 21},
        {"workflow": "greet", "on_item_error": "ignore"},
        {"workflow": "greet", "items": "trigger.[", "max_items": 5},
        {"workflow": "", "items": "x"},
        {"workflow": "greet", "version": 0},
        {"workflow": "greet", "extra": 1},
    ],
)
def test_loop_config_is_validated(registry: NodeRegistry, config: dict[str, Any]) -> None:
    doc = make_doc(
        [("t", "trigger.manual", {}), ("each", "logic.loop", {"items": "trigger.items", **config})],
        [("t", "out", "each", "in")],
    )
    codes = {i.code for i in validate_workflow(doc, registry)}
    assert codes
    assert codes <= {ErrorCode.NODE_CONFIG_INVALID, ErrorCode.EXPRESSION_INVALID}


def test_subworkflow_config_is_validated(registry: NodeRegistry) -> None:
    for config in ({}, {"workflow": "w", "version": "newest"}, {"workflow": "w", "inputs": {"a": "{{ ["}}):
        doc = make_doc(
            [("t", "trigger.manual", {}), ("call", "flow.subworkflow", config)], [("t", "out", "call", "in")]
        )
        assert validate_workflow(doc, registry), config
    ok = make_doc(
        [("t", "trigger.manual", {}), ("call", "flow.subworkflow", {"workflow": 12, "version": 3})],
        [("t", "out", "call", "in")],
    )
    assert validate_workflow(ok, registry) == []


def test_workflow_fields_carry_the_workflow_picker_hint(registry: NodeRegistry) -> None:
    for key in ("flow.subworkflow", "logic.loop"):
        schema = registry.get(key).describe()["config_schema"]
        assert schema["properties"]["workflow"]["ui"] == {"widget": "workflow-picker"}


def test_terminal_outputs_are_the_succeeded_nodes_without_outgoing_edges() -> None:
    doc = load_fixture("subworkflow_body_review.json")
    steps = {
        "trigger": StepRecord("trigger", StepStatus.SUCCEEDED, output={"name": "A"}),
        "approve": StepRecord("approve", StepStatus.SUCCEEDED, output={"decision": "rejected"}),
        "final": StepRecord("final", StepStatus.SKIPPED),
    }
    assert terminal_outputs(doc, steps) == {}
    steps["final"] = StepRecord("final", StepStatus.SUCCEEDED, output={"text": "Hi"})
    assert terminal_outputs(doc, steps) == {"final": {"text": "Hi"}}


def test_clock_is_unused_by_parked_parents(
    clock: FakeClock, store: InMemoryRunStore, subruns: InMemorySubRuns, sub_services: RunnerServices
) -> None:
    run_id = store.create_run(load_fixture("loop_review_each.json"), {"names": ["Ada"]})
    drive(subruns, sub_services, run_id)
    assert clock.sleeps == []  # a parked parent holds no worker
