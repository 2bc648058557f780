from __future__ import annotations

from core_helpers import make_doc

from orchestrator_core import RunStatus, StepRecord, StepStatus, parse_workflow
from orchestrator_core.engine.step import ready_nodes, run_outcome

S = StepStatus
WF = parse_workflow(
    make_doc(
        [
            ("t", "trigger.manual", {}),
            ("if", "logic.if", {"condition": "x"}),
            ("yes", "data.template", {"template": "y"}),
            ("no", "data.template", {"template": "n"}),
            ("join", "data.template", {"template": "j"}),
        ],
        [
            ("t", "out", "if", "in"),
            ("if", "true", "yes", "in"),
            ("if", "false", "no", "in"),
            ("yes", "out", "join", "in"),
            ("no", "out", "join", "in"),
        ],
    )
)


def ok(node_id: str, *ports: str) -> StepRecord:
    return StepRecord(node_id, S.SUCCEEDED, 1, ports=ports or ("out",))


def test_trigger_first() -> None:
    assert ready_nodes(WF, {}) == (["t"], [])
    assert run_outcome(WF, {}) is None


def test_branch_taken_and_skipped() -> None:
    steps = {"t": ok("t"), "if": ok("if", "true")}
    assert ready_nodes(WF, steps) == (["yes"], ["no"])
    steps |= {"yes": ok("yes"), "no": StepRecord("no", S.SKIPPED)}
    assert ready_nodes(WF, steps) == (["join"], [])  # one active input is enough
    steps["join"] = ok("join")
    assert ready_nodes(WF, steps) == ([], [])
    assert run_outcome(WF, steps) == RunStatus.SUCCEEDED


def test_skip_propagates() -> None:
    steps = {
        "t": ok("t"),
        "if": ok("if", "true"),
        "yes": StepRecord("yes", S.SKIPPED),
        "no": StepRecord("no", S.SKIPPED),
    }
    assert ready_nodes(WF, steps) == ([], ["join"])


def test_undecided_waits_for_all_inputs() -> None:
    steps = {"t": ok("t"), "if": ok("if", "true", "false"), "yes": ok("yes")}
    assert ready_nodes(WF, steps) == (["no"], [])


def test_waiting_and_resume() -> None:
    steps = {"t": ok("t"), "if": StepRecord("if", S.WAITING, 1, request={"q": 1})}
    assert ready_nodes(WF, steps) == ([], [])
    assert run_outcome(WF, steps) == RunStatus.WAITING
    steps["if"] = StepRecord("if", S.WAITING, 1, request={"q": 1}, resume={"a": 1})
    assert ready_nodes(WF, steps) == (["if"], [])
    assert run_outcome(WF, steps) is None


def test_leftovers_of_a_crash_are_ready_again() -> None:
    for status in (S.RUNNING, S.QUEUED, S.RETRYING):
        assert ready_nodes(WF, {"t": ok("t"), "if": StepRecord("if", status, 1)}) == (["if"], [])


def test_failure_outcomes() -> None:
    assert run_outcome(WF, {"t": ok("t"), "if": StepRecord("if", S.FAILED, 1)}) == RunStatus.FAILED
    assert run_outcome(WF, {"t": ok("t"), "if": StepRecord("if", S.OUTCOME_UNKNOWN, 1)}) == RunStatus.FAILED
