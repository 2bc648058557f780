"""Budgets enforced before each LLM call: stop, downgrade, approve; per run, workflow-day, user-month."""

from __future__ import annotations

from typing import Any

import pytest

from orchestrator_core import RunnerServices, advance_run
from orchestrator_core.engine.context import RunContext
from orchestrator_core.errors import ErrorCode, NodeError
from orchestrator_core.llm import budget
from orchestrator_core.nodes.base import Interrupt
from orchestrator_core.policy import Budget, BudgetLimits, OnBudget, RunPolicy
from orchestrator_core.ports import LLMRequest, RunStatus, Spend, StepStatus
from orchestrator_core.testing import FakeLLM, FakeMailer, InMemoryRunStore
from orchestrator_core.testing.fakes import fake_services_kwargs
from orchestrator_core.testing.usage import FakeModel, InMemoryUsageLedger, PricedFakeLLM
from tests.core.core_helpers import make_doc

# A prompt of 4 words + max_tokens 100: big costs $0.0001 x 4 + $0.0002 x 100 = $0.0204,
# mid $0.000204, small $0.0000204.
MODELS = {
    "big": FakeModel(tier=3, input_cost_per_token=1e-4, output_cost_per_token=2e-4),
    "mid": FakeModel(tier=2, input_cost_per_token=1e-6, output_cost_per_token=2e-6),
    "small": FakeModel(tier=1, input_cost_per_token=1e-7, output_cost_per_token=2e-7),
    "demo": FakeModel(tier=1, input_cost_per_token=0.0, output_cost_per_token=0.0),
}
REQUEST = LLMRequest(
    model="big", messages=[{"role": "user", "content": "one two three four"}], max_tokens=100
)


def _policy(on: OnBudget = OnBudget.STOP, **scopes: Budget) -> RunPolicy:
    return RunPolicy(budgets=BudgetLimits(**scopes), on_budget=on)


def _ctx(
    policy: RunPolicy,
    *,
    llm: Any = None,
    spend: Spend | None = None,
    resume: Any = None,
) -> RunContext:
    class Ledger:
        def spent(self, run_id: str, *, exclude_node: str | None = None) -> Spend:
            return spend or Spend()

    return RunContext(
        run_id="r1",
        node_id="n",
        context={"trigger": {}, "steps": {}, "run": {"id": "r1"}, "vars": {}},
        store=InMemoryRunStore(),
        llm_client=llm or PricedFakeLLM(MODELS),
        mailer=FakeMailer(),
        policy=policy,
        usage=Ledger(),
        resume=resume,
    )


def test_no_budget_no_check_and_within_budget_passes() -> None:
    llm = PricedFakeLLM(MODELS)
    ctx = _ctx(RunPolicy(), llm=llm)
    assert ctx.llm(REQUEST).model == "big"
    ctx = _ctx(_policy(per_run=Budget(max_usd=0.03)), llm=llm)
    reply = ctx.llm(REQUEST)
    assert reply.model == "big"
    assert ctx.meta["cost_usd"] == pytest.approx(4 * 1e-4 + 1 * 2e-4)  # real usage, not the estimate


@pytest.mark.parametrize(
    ("scope", "spend", "label"),
    [
        ("per_run", Spend(), "per run"),
        ("per_workflow_day", Spend(workflow_day_usd=0.0095), "per workflow per day"),
        ("per_user_month", Spend(user_month_usd=0.0099), "per user per month"),
    ],
)
def test_stop_names_the_scope_limit_and_spend(scope: str, spend: Spend, label: str) -> None:
    llm = PricedFakeLLM(MODELS)
    limit = 0.01 if scope != "per_run" else 0.001
    ctx = _ctx(_policy(**{scope: Budget(max_usd=limit)}), llm=llm, spend=spend)
    with pytest.raises(NodeError) as info:
        ctx.llm(REQUEST)
    err = info.value
    assert err.code == ErrorCode.BUDGET_EXCEEDED
    assert err.message.startswith(f"Budget {label} ${limit:.6f} would be exceeded")
    assert "this call to big est $0.020400" in err.message
    assert isinstance(err.details, dict)
    assert err.details["scope"] == scope
    assert err.details["limit"] == limit
    assert err.details["estimate"] == pytest.approx(0.0204)
    assert llm.requests == []  # nothing was sent


def test_token_budget_and_the_running_steps_own_usage() -> None:
    llm = PricedFakeLLM(MODELS)
    ctx = _ctx(_policy(per_run=Budget(max_tokens=110)), llm=llm)
    ctx.llm(REQUEST)  # 0 spent + 104 estimated tokens: fits; records 5 real tokens
    ctx.llm(REQUEST)  # 5 + 104 = 109: fits
    with pytest.raises(NodeError) as info:
        ctx.llm(REQUEST)  # 10 + 104 > 110
    assert info.value.code == ErrorCode.BUDGET_EXCEEDED
    assert info.value.details["measure"] == "tokens"  # type: ignore[index]
    assert "110 tokens would be exceeded (spent 10 tokens" in info.value.message
    assert len(llm.requests) == 2


def test_the_step_usage_counts_towards_the_next_call() -> None:
    llm = PricedFakeLLM(MODELS)
    ctx = _ctx(_policy(per_run=Budget(max_usd=0.0300)), llm=llm)
    ctx.llm(REQUEST)  # est 0.0204 fits; costs 0.0006
    ctx.llm(REQUEST)  # 0.0006 + 0.0204 fits; costs 0.0006
    ctx.meta["cost_usd"] = 0.01  # as if this step had spent more
    with pytest.raises(NodeError) as info:
        ctx.llm(REQUEST)
    assert info.value.details["spent"] == pytest.approx(0.01)  # type: ignore[index]


def test_downgrade_goes_to_the_cheapest_lower_tier_that_fits() -> None:
    llm = PricedFakeLLM(MODELS)
    ctx = _ctx(_policy(OnBudget.DOWNGRADE, per_run=Budget(max_usd=0.001)), llm=llm)
    reply = ctx.llm(REQUEST)
    # mid ($0.000204) and small ($0.0000204) fit; small is the cheapest; demo never counts.
    assert reply.model == "small"
    assert llm.requests[-1].model == "small"
    assert reply.reason.startswith("downgraded from big to small: budget per run $0.001000 would be exceeded")
    assert ctx.meta["reason"] == reply.reason


def test_downgrade_stops_when_no_lower_tier_fits() -> None:
    llm = PricedFakeLLM(MODELS)
    ctx = _ctx(_policy(OnBudget.DOWNGRADE, per_run=Budget(max_usd=0.00001)), llm=llm)
    with pytest.raises(NodeError) as info:
        ctx.llm(REQUEST)
    assert info.value.code == ErrorCode.BUDGET_EXCEEDED
    assert info.value.message.endswith("; no model of a lower tier fits.")
    assert llm.requests == []
    ctx = _ctx(_policy(OnBudget.DOWNGRADE, per_run=Budget(max_usd=0.00001)), llm=llm)
    with pytest.raises(NodeError):  # already the lowest tier
        ctx.llm(LLMRequest(model="small", messages=REQUEST.messages, max_tokens=1000))


def test_approve_parks_then_an_approval_raises_the_limit_for_this_run() -> None:
    policy = _policy(OnBudget.APPROVE, per_run=Budget(max_usd=0.001))
    ctx = _ctx(policy)
    with pytest.raises(Interrupt) as parked:
        ctx.llm(REQUEST)
    request = parked.value.request
    assert request["kind"] == "approval"
    assert request["title"] == "Budget exceeded: approve spending more?"
    assert request["context"]["limit"] == "$0.001000"
    assert request["fields"] == {}
    llm = PricedFakeLLM(MODELS)
    ctx = _ctx(policy, llm=llm, resume={"decision": "approve", "decided_by": "admin"})
    reply = ctx.llm(REQUEST)
    assert reply.model == "big"
    allowance = ctx.meta[budget.ALLOWANCE_KEY]["per_run"]["usd"]
    assert allowance == pytest.approx(0.0204 - 0.001)
    assert reply.reason == "over budget, approved by admin"
    # A second overrun in the same step cannot ask again: it stops.
    with pytest.raises(NodeError) as info:
        ctx.llm(REQUEST)
    assert info.value.code == ErrorCode.BUDGET_EXCEEDED


def test_approve_rejected_stops() -> None:
    ctx = _ctx(
        _policy(OnBudget.APPROVE, per_run=Budget(max_usd=0.001)),
        resume={"decision": "reject", "decided_by": "rey"},
    )
    with pytest.raises(NodeError) as info:
        ctx.llm(REQUEST)
    assert info.value.code == ErrorCode.BUDGET_EXCEEDED
    assert "not approved (reject by rey)" in info.value.message


def test_allowances_from_other_steps_count() -> None:
    spend = Spend(run_usd=0.0005, allowances={"per_run": {"usd": 0.05}})
    ctx = _ctx(_policy(per_run=Budget(max_usd=0.001)), spend=spend)
    assert ctx.llm(REQUEST).model == "big"


def test_without_an_estimator_tokens_are_counted_by_characters() -> None:
    ctx = _ctx(_policy(per_run=Budget(max_tokens=50)), llm=FakeLLM())
    with pytest.raises(NodeError) as info:
        ctx.llm(REQUEST)  # 100 output tokens alone exceed 50
    assert info.value.code == ErrorCode.BUDGET_EXCEEDED
    ctx = _ctx(_policy(per_run=Budget(max_usd=0.0)), llm=FakeLLM())
    assert ctx.llm(REQUEST).text  # an unknown price counts $0


# --- through the runner ----------------------------------------------------------------------


def _doc() -> dict[str, Any]:
    return make_doc(
        [
            ("t", "trigger.manual", {}),
            ("a", "llm.prompt", {"model": "big", "prompt": "one two three four", "max_tokens": 100}),
            ("b", "llm.prompt", {"model": "big", "prompt": "one two three four", "max_tokens": 100}),
        ],
        [("t", "out", "a", "in"), ("a", "out", "b", "in")],
    )


def _services(store: InMemoryRunStore, policy: RunPolicy, **kwargs: Any) -> RunnerServices:
    return RunnerServices(
        **fake_services_kwargs(store=store, llm=PricedFakeLLM(MODELS), policy=policy, **kwargs)
    )


def test_runner_counts_earlier_steps_of_the_run_without_a_ledger() -> None:
    store = InMemoryRunStore()
    run_id = store.create_run(_doc(), {})
    # a costs ~$0.0006 (4 words in, 1 out); b's estimate $0.0204 fits in $0.0205 only without a's spend
    assert advance_run(run_id, _services(store, _policy(per_run=Budget(max_usd=0.0205)))) == RunStatus.FAILED
    steps = store.steps(run_id)
    assert steps["a"].status == StepStatus.SUCCEEDED
    assert steps["b"].error is not None
    assert steps["b"].error["code"] == "BUDGET_EXCEEDED"
    assert store.run_error(run_id)["code"] == "BUDGET_EXCEEDED"  # type: ignore[index]


def test_runner_with_a_ledger_approval_then_success() -> None:
    store = InMemoryRunStore()
    run_id = store.create_run(_doc(), {})
    ledger = InMemoryUsageLedger(store, user_month=(0.5, 0))
    policy = _policy(OnBudget.APPROVE, per_user_month=Budget(max_usd=0.5205))
    services = _services(store, policy, usage=ledger)
    assert advance_run(run_id, services) == RunStatus.WAITING
    waiting = store.steps(run_id)
    assert waiting["a"].status == StepStatus.SUCCEEDED
    assert waiting["b"].status == StepStatus.WAITING
    assert waiting["b"].request["title"] == "Budget exceeded: approve spending more?"
    store.resume_step(run_id, "b", {"decision": "approve", "decided_by": "admin"})
    assert advance_run(run_id, services) == RunStatus.SUCCEEDED
    b = store.steps(run_id)["b"]
    assert b.meta["budget_allowance"]["per_user_month"]["usd"] > 0
    assert b.meta["cost_usd"] == pytest.approx(0.0006)
    assert ledger.calls >= 2


def test_litellm_client_estimates_and_downgrade_options() -> None:
    from orchestrator_core import LiteLLMClient, ModelSpec

    client = LiteLLMClient(
        [
            ModelSpec("mid", "openai/mid-x", input_cost_per_token=1e-6, output_cost_per_token=2e-6, tier=2),
            ModelSpec("big", "openai/big-x", input_cost_per_token=1e-5, output_cost_per_token=3e-5, tier=3),
        ]
    )
    est = client.estimate_cost(REQUEST)
    assert (est.model, est.tier, est.max_output_tokens) == ("big", 3, 100)
    assert est.prompt_tokens > 0
    assert est.usd == pytest.approx(est.prompt_tokens * 1e-5 + 100 * 3e-5)
    down = LLMRequest(
        model="auto", messages=REQUEST.messages, max_tokens=100, options={"max_tier": 2, "exclude": ["demo"]}
    )
    assert client.estimate_cost(down).model == "mid"
    with pytest.raises(NodeError):  # nothing below tier 2 but the excluded demo
        client.estimate_cost(
            LLMRequest(model="auto", messages=REQUEST.messages, options={"max_tier": 1, "exclude": ["demo"]})
        )
