"""``logic.switch``, ``logic.merge``, ``data.transform`` and ``flow.delay``."""

from __future__ import annotations

from typing import Any

import pytest
from core_helpers import load_fixture, make_doc
from node_harness import run_node

from orchestrator_core import (
    ErrorCode,
    ExpressionError,
    Interrupt,
    RunnerServices,
    RunStatus,
    StepRecord,
    StepStatus,
    advance_run,
    parse_workflow,
    validate_workflow,
)
from orchestrator_core.engine.step import ready_nodes, run_outcome
from orchestrator_core.expressions import MAX_RESULT_BYTES
from orchestrator_core.nodes.builtin.data_transform import DATA_TRANSFORM
from orchestrator_core.nodes.builtin.flow_delay import FLOW_DELAY
from orchestrator_core.nodes.builtin.logic_switch import LOGIC_SWITCH
from orchestrator_core.nodes.registry import NodeRegistry
from orchestrator_core.testing import FakeClock, InMemoryRunStore

CASES = {
    "cases": [
        {"name": "big", "condition": "trigger.amount > `100`"},
        {"name": "medium", "condition": "trigger.amount > `10`"},
    ]
}


# --- logic.switch --------------------------------------------------------------------------------


def test_switch_first_matching_case_fires() -> None:
    result, ctx = run_node(LOGIC_SWITCH, CASES, trigger={"amount": 500})
    assert (result.output, result.ports) == ({"case": "big"}, ("big",))
    assert ctx.inputs == {"cases[0].condition": True}
    result, _ = run_node(LOGIC_SWITCH, CASES, trigger={"amount": 50})
    assert result.ports == ("medium",)
    result, _ = run_node(LOGIC_SWITCH, CASES, trigger={"amount": 1})
    assert (result.output, result.ports) == ({"case": "default"}, ("default",))


def test_switch_ports_follow_the_cases() -> None:
    assert [p.name for p in LOGIC_SWITCH.output_ports(CASES)] == ["big", "medium", "default"]
    assert [p.name for p in LOGIC_SWITCH.output_ports({"cases": "junk"})] == ["default"]


@pytest.mark.parametrize(
    "cases",
    [
        [],
        [{"name": f"c{i}", "condition": "`true`"} for i in range(21)],
        [{"name": "a", "condition": "x"}, {"name": "a", "condition": "y"}],
        [{"name": "default", "condition": "x"}],
        [{"name": "error", "condition": "x"}],
        [{"name": "9lives", "condition": "x"}],
        [{"name": "a", "condition": "trigger.[["}],
    ],
)
def test_switch_bad_config(cases: list[dict[str, Any]], registry: NodeRegistry) -> None:
    doc = make_doc(
        [("t", "trigger.manual", {}), ("s", "logic.switch", {"cases": cases})], [("t", "out", "s", "in")]
    )
    issues = validate_workflow(doc, registry)
    assert issues
    assert {(i.code, i.node_id) for i in issues} == {(ErrorCode.NODE_CONFIG_INVALID, "s")}


def test_switch_edge_to_an_unknown_case(registry: NodeRegistry) -> None:
    doc = make_doc(
        [("t", "trigger.manual", {}), ("s", "logic.switch", CASES), ("x", "data.template", {"template": ""})],
        [("t", "out", "s", "in"), ("s", "small", "x", "in")],
    )
    issues = validate_workflow(doc, registry)
    assert issues[0].code == ErrorCode.PORT_UNKNOWN
    assert "big, medium, default" in issues[0].message


@pytest.mark.parametrize(("amount", "route"), [(500, "big"), (50, "medium"), (1, "default")])
def test_switch_fixture(amount: int, route: str, store: InMemoryRunStore, services: RunnerServices) -> None:
    run_id = store.create_run(load_fixture("switch_route.json"), {"amount": amount})
    assert advance_run(run_id, services) == RunStatus.SUCCEEDED
    steps = store.steps(run_id)
    ran = {n for n in ("big", "medium", "default") if steps[n].status == StepStatus.SUCCEEDED}
    assert ran == {route}
    assert steps["done"].output["inputs"] == {route: steps[route].output}


# --- logic.merge ----------------------------------------------------------------------------------

BRANCHES = parse_workflow(
    make_doc(
        [
            ("t", "trigger.manual", {}),
            ("if", "logic.if", {"condition": "x"}),
            ("yes", "data.template", {"template": "y"}),
            ("no", "data.template", {"template": "n"}),
            ("all", "logic.merge", {"mode": "all"}),
            ("first", "logic.merge", {"mode": "first"}),
        ],
        [
            ("t", "out", "if", "in"),
            ("if", "true", "yes", "in"),
            ("if", "false", "no", "in"),
            ("yes", "out", "all", "in"),
            ("no", "out", "all", "in"),
            ("yes", "out", "first", "in"),
            ("no", "out", "first", "in"),
        ],
    )
)


def ok(node_id: str, *ports: str) -> StepRecord:
    return StepRecord(node_id, StepStatus.SUCCEEDED, 1, output={"n": node_id}, ports=ports or ("out",))


def test_merge_first_does_not_wait_but_all_does() -> None:
    steps = {"t": ok("t"), "if": ok("if", "true", "false"), "yes": ok("yes")}
    assert ready_nodes(BRANCHES, steps) == (["first", "no"], [])
    steps |= {"first": ok("first"), "no": ok("no")}
    assert ready_nodes(BRANCHES, steps) == (["all"], [])  # first is not run again


def test_merge_after_a_branch_not_taken_still_completes() -> None:
    steps = {"t": ok("t"), "if": ok("if", "false"), "yes": StepRecord("yes", StepStatus.SKIPPED)}
    assert ready_nodes(BRANCHES, steps) == (["no"], [])
    steps["no"] = ok("no")
    assert ready_nodes(BRANCHES, steps) == (["all", "first"], [])
    steps |= {"all": ok("all"), "first": ok("first")}
    assert run_outcome(BRANCHES, steps) == RunStatus.SUCCEEDED


def test_merge_with_every_branch_skipped_is_skipped() -> None:
    steps = {
        "t": ok("t"),
        "if": ok("if", "true"),
        "yes": StepRecord("yes", StepStatus.SKIPPED),
        "no": StepRecord("no", StepStatus.SKIPPED),
    }
    assert ready_nodes(BRANCHES, steps) == ([], ["all", "first"])


def test_merge_runs_end_to_end(store: InMemoryRunStore, services: RunnerServices) -> None:
    doc = BRANCHES.to_document()
    doc["nodes"][1]["config"]["condition"] = "trigger.yes"
    run_id = store.create_run(doc, {"yes": False})
    assert advance_run(run_id, services) == RunStatus.SUCCEEDED
    steps = store.steps(run_id)
    assert steps["yes"].status == StepStatus.SKIPPED
    assert steps["all"].output == {"inputs": {"no": {"text": "n"}}}
    assert steps["first"].output == {"inputs": {"no": {"text": "n"}}, "first": "no"}


def test_merge_fixture(store: InMemoryRunStore, services: RunnerServices) -> None:
    run_id = store.create_run(load_fixture("merge_branches.json"), {"name": "Ada", "vip": True})
    assert advance_run(run_id, services) == RunStatus.SUCCEEDED
    steps = store.steps(run_id)
    assert steps["regular"].status == StepStatus.SKIPPED
    assert steps["join"].output == {
        "inputs": {"greeting": {"text": "Hello Ada"}, "vip_note": {"text": "Ada is a VIP"}}
    }
    assert steps["reply"].output == {"text": "Hello Ada / Ada is a VIP"}


# --- data.transform ---------------------------------------------------------------------------------


def test_transform_evaluates() -> None:
    trigger = {"items": [{"price": 2}, {"price": 3}], "name": "Bo"}
    result, ctx = run_node(
        DATA_TRANSFORM,
        {"expression": "{who: trigger.name, total: sum(trigger.items[].price)}"},
        trigger=trigger,
    )
    assert result.output == {"result": {"who": "Bo", "total": 5}}
    assert ctx.inputs == {"expression": {"who": "Bo", "total": 5}}


def test_transform_errors_name_node_field_and_position() -> None:
    with pytest.raises(ExpressionError) as info:
        run_node(DATA_TRANSFORM, {"expression": "length(trigger.n)"}, trigger={"n": 5})
    assert info.value.code == ErrorCode.EXPRESSION_INVALID
    assert info.value.message.startswith("Node 'n', field 'expression': invalid expression at position 0")
    with pytest.raises(ExpressionError) as info:
        run_node(DATA_TRANSFORM, {"expression": "trigger.big"}, trigger={"big": "x" * (MAX_RESULT_BYTES + 1)})
    assert info.value.code == ErrorCode.EXPRESSION_LIMIT
    assert "Node 'n', field 'expression'" in info.value.message


def test_transform_syntax_is_checked_by_validation(registry: NodeRegistry) -> None:
    doc = make_doc(
        [("t", "trigger.manual", {}), ("x", "data.transform", {"expression": "trigger.[["})],
        [("t", "out", "x", "in")],
    )
    issues = validate_workflow(doc, registry)
    assert [(i.code, i.node_id) for i in issues] == [(ErrorCode.EXPRESSION_INVALID, "x")]
    assert "field 'expression'" in issues[0].message


def test_transform_fixture(store: InMemoryRunStore, services: RunnerServices) -> None:
    trigger = {"customer": "Ada", "items": [{"sku": "a", "price": 2}, {"sku": "b", "price": 5}]}
    run_id = store.create_run(load_fixture("transform_order.json"), trigger)
    assert advance_run(run_id, services) == RunStatus.SUCCEEDED
    assert store.steps(run_id)["summary"].output == {
        "result": {"customer": "Ada", "skus": ["a", "b"], "total": 7}
    }


# --- flow.delay ---------------------------------------------------------------------------------------


def test_delay_interrupts_with_until_then_continues() -> None:
    with pytest.raises(Interrupt) as info:
        run_node(FLOW_DELAY, {"seconds": 90})
    request = info.value.request
    assert request["kind"] == "delay"
    assert request["seconds"] == 90
    result, _ = run_node(FLOW_DELAY, {"seconds": 90}, resume={"kind": "delay"})
    assert result.output["seconds"] == 90


def test_delay_bounds(registry: NodeRegistry) -> None:
    for seconds in (0, 2_592_001):
        doc = make_doc(
            [("t", "trigger.manual", {}), ("d", "flow.delay", {"seconds": seconds})],
            [("t", "out", "d", "in")],
        )
        assert [i.code for i in validate_workflow(doc, registry)] == [ErrorCode.NODE_CONFIG_INVALID]


def test_delay_fixture_parks_the_run_until_resumed(
    store: InMemoryRunStore, services: RunnerServices, clock: FakeClock
) -> None:
    run_id = store.create_run(load_fixture("delay_followup.json"), {"email": "ada@example.com"})
    assert advance_run(run_id, services) == RunStatus.WAITING
    wait = store.steps(run_id)["wait"]
    assert wait.status == StepStatus.WAITING
    assert wait.request == {"kind": "delay", "until": "2026-01-02T09:00:00+00:00", "seconds": 86400}
    assert "followup" not in store.steps(run_id)
    assert clock.sleeps == []  # no worker was held
    assert advance_run(run_id, services) is None  # nothing to do until resumed

    clock.advance(86400)
    store.resume_step(run_id, "wait", {"kind": "delay", "fired_at": clock.now().isoformat()})
    assert advance_run(run_id, services) == RunStatus.SUCCEEDED
    steps = store.steps(run_id)
    assert steps["wait"].output == {"seconds": 86400, "resumed_at": "2026-01-02T09:00:00+00:00"}
    assert steps["wait"].attempts == 2
    assert steps["followup"].output == {"text": "Following up with ada@example.com"}
