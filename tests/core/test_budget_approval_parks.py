"""Budget approvals and other parks of the same step: each answer goes to its own request.

An ``llm.agent`` step may park for a budget approval (``on_budget=approve``) and for a tool
approval; one step has one ``resume`` answer, matched to the request kind it answers
(``approval_key``). Budget approvals go to the queue of the workflow's first ``human.approval``.
"""

from __future__ import annotations

from typing import Any

import pytest
from core_helpers import make_doc
from test_budgets import MODELS, REQUEST
from test_llm_agent import Harness, agent_doc, answer, call

from orchestrator_core import RunnerServices, advance_run
from orchestrator_core.engine.context import RunContext
from orchestrator_core.llm import budget
from orchestrator_core.nodes.base import Interrupt
from orchestrator_core.policy import Budget, BudgetLimits, OnBudget, RunPolicy
from orchestrator_core.ports import RunStatus, StepStatus
from orchestrator_core.testing import FakeMailer, InMemoryRunStore
from orchestrator_core.testing.fakes import fake_services_kwargs
from orchestrator_core.testing.usage import PricedFakeLLM

POLICY = RunPolicy(budgets=BudgetLimits(per_run=Budget(max_usd=0.001)), on_budget=OnBudget.APPROVE)
LOOKUP = ("lookup", {"expression": "trigger.order"})
EMAIL = ("send_email", {"subject": "Your order", "body": "It shipped."})


def test_agent_budget_approval_then_tool_approval_in_one_step() -> None:
    # Call 1 costs $0.002: call 2 would go over the $0.001 run budget -> budget approval.
    h = Harness([call(LOOKUP, cost=0.002), call(EMAIL), answer("Replied.")], policy=POLICY)
    run_id = h.start(agent_doc())
    assert h.status == RunStatus.WAITING
    parked = h.step(run_id).request
    assert parked["title"] == budget.APPROVAL_TITLE
    assert parked["approval_key"].startswith("budget-")
    assert parked["queue"] == "Default"
    assert parked["agent"]["transcript"][0]["tool"] == "lookup"  # progress kept in the request
    assert len(h.llm.requests) == 1

    h.decide(run_id, "approve")  # the budget decision
    assert h.status == RunStatus.WAITING
    tool_park = h.step(run_id).request
    assert tool_park["title"] == "Agent wants to run send_email"  # not taken for the budget answer
    assert h.mailer.sent == []
    assert len(h.llm.requests) == 2  # call 1 was not repeated
    assert h.step(run_id).meta[budget.ALLOWANCE_KEY]["per_run"]["usd"] > 0

    h.decide(run_id, "approve")  # the tool decision
    assert h.status == RunStatus.SUCCEEDED, h.step(run_id).error
    step = h.step(run_id)
    assert [m.subject for m in h.mailer.sent] == ["Your order"]
    assert [t["status"] for t in step.output["tool_calls"]] == ["ok", "ok"]
    assert step.output["text"] == "Replied."
    assert len(h.llm.requests) == 3
    # The granted allowance survived the tool approval's park: no second budget approval.
    assert step.meta[budget.ALLOWANCE_KEY]["per_run"]["usd"] > 0


def test_a_rejected_tool_answer_is_not_a_budget_decision() -> None:
    h = Harness([call(EMAIL, cost=0.002), answer("I did not send it.")], policy=POLICY)
    run_id = h.start(agent_doc())
    assert h.step(run_id).request["title"] == "Agent wants to run send_email"
    h.decide(run_id, "reject", comment="no")
    # The next model call is over budget: it asks for a budget approval, it does not fail
    # BUDGET_EXCEEDED with the tool's rejection as if it were the budget decision.
    assert h.status == RunStatus.WAITING, h.step(run_id).error
    parked = h.step(run_id).request
    assert budget.is_budget_request(parked)
    h.decide(run_id, "approve")
    assert h.status == RunStatus.SUCCEEDED, h.step(run_id).error
    step = h.step(run_id)
    assert h.mailer.sent == []
    assert [t["status"] for t in step.output["tool_calls"]] == ["rejected"]


def test_interrupt_answers_only_the_same_kind_of_request() -> None:
    def ctx(previous: Any) -> RunContext:
        return RunContext(
            run_id="r1",
            node_id="n",
            context={"trigger": {}, "steps": {}, "run": {"id": "r1"}, "vars": {}},
            store=InMemoryRunStore(),
            llm_client=PricedFakeLLM(MODELS),
            mailer=FakeMailer(),
            policy=POLICY,
            resume={"decision": "approve", "decided_by": "rita"},
            previous_request=previous,
        )

    tool_request = {"title": "Agent wants to run x", "approval_key": "agent-call-1-abcd"}
    with pytest.raises(Interrupt) as parked:
        ctx(tool_request).llm(REQUEST)  # a tool's answer does not approve spending
    assert budget.is_budget_request(parked.value.request)
    budget_request = parked.value.request
    reply = ctx(budget_request).llm(REQUEST)
    assert reply.reason == "over budget, approved by rita"
    with pytest.raises(Interrupt):
        ctx(budget_request).interrupt(tool_request)
    assert ctx(tool_request).interrupt(tool_request) == {"decision": "approve", "decided_by": "rita"}
    # A step that parks again on the same budget approval keeps its key (one inbox item).
    unanswered = RunContext(
        run_id="r1",
        node_id="n",
        context={"trigger": {}, "steps": {}, "run": {"id": "r1"}, "vars": {}},
        store=InMemoryRunStore(),
        llm_client=PricedFakeLLM(MODELS),
        mailer=FakeMailer(),
        policy=POLICY,
        previous_request=budget_request,
    )
    with pytest.raises(Interrupt) as again:
        unanswered.llm(REQUEST)
    assert again.value.request["approval_key"] == budget_request["approval_key"]


def _prompt_doc(*, approval_queue: str | None) -> dict[str, Any]:
    nodes: list[tuple[str, str, dict[str, Any]]] = [
        ("t", "trigger.manual", {}),
        ("a", "llm.prompt", {"model": "big", "prompt": "one two three four", "max_tokens": 100}),
    ]
    edges = [("t", "out", "a", "in")]
    if approval_queue is not None:
        nodes.append(
            ("ok", "human.approval", {"queue": approval_queue, "title": "Check", "fields": {"note": ""}})
        )
        edges.append(("a", "out", "ok", "in"))
    return make_doc(nodes, edges)


@pytest.mark.parametrize(
    ("approval_queue", "fallback", "expected"),
    [("Finance", "Ops", "Finance"), (None, "Ops", "Ops"), (None, "Default", "Default")],
    ids=["first-approval-node", "setting", "default"],
)
def test_budget_approvals_go_to_the_workflows_approval_queue(
    approval_queue: str | None, fallback: str, expected: str
) -> None:
    store = InMemoryRunStore()
    run_id = store.create_run(_prompt_doc(approval_queue=approval_queue), {})
    services = RunnerServices(
        **fake_services_kwargs(store=store, llm=PricedFakeLLM(MODELS), policy=POLICY),
        budget_queue=fallback,
    )
    assert advance_run(run_id, services) == RunStatus.WAITING
    step = store.steps(run_id)["a"]
    assert step.status == StepStatus.WAITING
    assert step.request["queue"] == expected
