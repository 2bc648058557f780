"""Budgets on real runs: an llm.prompt on a priced model behind the local stub (litellm's HTTP path).

The connector's models take litellm's local cost-map prices (``openai/gpt-4o``: $2.50 / $10 per
1M tokens, tier 3; ``openai/gpt-4o-mini``: $0.15 / $0.60, tier 2). With ``max_tokens`` 512 a call
to gpt-4o is estimated above $0.005, gpt-4o-mini at about $0.0003: a $0.001 per-run cap stops,
downgrades or asks for approval.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from backend.approvals.models import Approval
from backend.connectors.models import Connector
from backend.runs import services as run_services
from backend.runs.budget import DjangoUsageLedger, day_start, month_start
from backend.runs.models import Run, StepRun
from backend.runs.services import run_advance, run_start
from backend.workflows.selectors import workflow_published_version
from backend.workflows.services import workflow_create, workflow_publish
from orchestrator_core.policy import Budget, BudgetLimits, OnBudget, RunPolicy
from orchestrator_core.testing.llm_stub import StubServer, answer

USAGE = {"prompt_tokens": 1000, "completion_tokens": 200, "total_tokens": 1200}
TEXT = "Dear Carol, your refund is on its way."


def _litellm_cost(model: str, prompt_tokens: int, completion_tokens: int) -> float:
    import litellm

    prompt, completion = litellm.cost_per_token(
        model=model, prompt_tokens=prompt_tokens, completion_tokens=completion_tokens
    )
    return float(prompt) + float(completion)


@pytest.fixture
def stub():
    with StubServer(script=lambda body: answer(TEXT, usage=USAGE)) as server:
        yield server


@pytest.fixture
def priced_models(personas, stub):
    return Connector.objects.create(
        name="Priced",
        kind="model",
        config={
            "provider": "openai_compatible",
            "base_url": stub.base_url,
            "models": [{"name": "gpt-4o", "tier": 3}, {"name": "gpt-4o-mini", "tier": 2}],
        },
        secret={"api_key": "sk-test"},
    )


def _doc() -> dict[str, Any]:
    return {
        "schema_version": 1,
        "nodes": [
            {"id": "t", "type": "trigger.manual", "type_version": 1, "config": {"fields": []}},
            {
                "id": "draft",
                "type": "llm.prompt",
                "type_version": 1,
                "config": {"model": "gpt-4o", "prompt": "Write to Carol about her refund", "max_tokens": 512},
            },
        ],
        "edges": [{"id": "e1", "source": "t", "source_port": "out", "target": "draft", "target_port": "in"}],
    }


@pytest.fixture
def use_policy(monkeypatch):
    def set_policy(on_budget: OnBudget, **scopes: Budget) -> None:
        policy = RunPolicy(budgets=BudgetLimits(**scopes), on_budget=on_budget)
        monkeypatch.setattr(run_services, "_run_policy", lambda run_id: policy)

    return set_policy


def _run(personas) -> Run:
    workflow = workflow_create(user=personas["alice"], name="Budgeted", document=_doc())
    workflow_publish(workflow=workflow, user=personas["alice"], note="v1")
    run = run_start(
        version=workflow_published_version(workflow=workflow), started_by=personas["alice"], inputs={}
    )
    run_advance(run_id=run.id)
    return Run.objects.get(id=run.id)


@pytest.mark.django_db(transaction=True)
def test_stop_fails_the_run_before_calling_the_model(personas, priced_models, stub, use_policy):
    use_policy(OnBudget.STOP, per_run=Budget(max_usd=0.001))
    run = _run(personas)
    assert run.status == Run.Status.FAILED
    assert run.error["code"] == "BUDGET_EXCEEDED"
    assert run.error["node_id"] == "draft"
    assert run.error["message"].startswith("Budget per run $0.001000 would be exceeded (spent $0.000000")
    assert run.error["details"]["scope"] == "per_run"
    assert run.error["details"]["limit"] == 0.001
    assert run.error["details"]["estimate"] > 0.005
    assert stub.requests == []
    assert run.cost_usd == 0.0


@pytest.mark.django_db(transaction=True)
def test_downgrade_uses_the_cheaper_tier_and_records_litellms_price(
    personas, priced_models, stub, use_policy
):
    use_policy(OnBudget.DOWNGRADE, per_run=Budget(max_usd=0.001))
    run = _run(personas)
    assert run.status == Run.Status.SUCCEEDED, run.error
    step = StepRun.objects.get(run=run, node_id="draft")
    assert step.output["model"] == "gpt-4o-mini"
    assert [r["model"] for r in stub.requests] == ["gpt-4o-mini"]
    assert step.meta["reason"].startswith(
        "downgraded from gpt-4o to gpt-4o-mini: budget per run $0.001000 would be exceeded"
    )
    expected = _litellm_cost("openai/gpt-4o-mini", 1000, 200)
    assert expected > 0
    assert step.meta["cost_usd"] == pytest.approx(expected, rel=1e-9)
    assert (step.meta["tokens_in"], step.meta["tokens_out"]) == (1000, 200)
    assert run.cost_usd == pytest.approx(expected, rel=1e-9)


@pytest.mark.django_db(transaction=True)
def test_approve_waits_then_an_approval_lets_the_call_proceed(
    personas, priced_models, stub, use_policy, client_for
):
    use_policy(OnBudget.APPROVE, per_run=Budget(max_usd=0.001))
    run = _run(personas)
    assert run.status == Run.Status.WAITING
    assert stub.requests == []
    approval = Approval.objects.get(run=run, node_id="draft")
    assert approval.title == "Budget exceeded: approve spending more?"
    assert approval.context["limit"] == "$0.001000"
    assert approval.context["model"] == "gpt-4o"
    response = client_for("admin").post(
        f"/api/approvals/{approval.id}/decision/",
        {"decision": "approve", "payload_hash": approval.payload_hash},
        format="json",
    )
    assert response.status_code == 200, response.json()
    run.refresh_from_db()
    assert run.status == Run.Status.SUCCEEDED, run.error
    step = StepRun.objects.get(run=run, node_id="draft")
    assert step.output["model"] == "gpt-4o"
    assert [r["model"] for r in stub.requests] == ["gpt-4o"]
    assert step.meta["budget_allowance"]["per_run"]["usd"] > 0.004
    assert step.meta["reason"] == "over budget, approved by admin"
    expected = _litellm_cost("openai/gpt-4o", 1000, 200)
    assert step.meta["cost_usd"] == pytest.approx(expected, rel=1e-9)
    assert run.cost_usd == pytest.approx(expected, rel=1e-9)


@pytest.mark.django_db(transaction=True)
def test_approve_rejected_fails_with_budget_exceeded(personas, priced_models, stub, use_policy, client_for):
    use_policy(OnBudget.APPROVE, per_run=Budget(max_usd=0.001))
    run = _run(personas)
    approval = Approval.objects.get(run=run, node_id="draft")
    response = client_for("admin").post(
        f"/api/approvals/{approval.id}/decision/",
        {"decision": "reject", "payload_hash": approval.payload_hash, "comment": "too dear"},
        format="json",
    )
    assert response.status_code == 200, response.json()
    run.refresh_from_db()
    assert run.status == Run.Status.FAILED
    assert run.error["code"] == "BUDGET_EXCEEDED"
    assert "not approved (reject by admin)" in run.error["message"]
    assert stub.requests == []


@pytest.mark.django_db(transaction=True)
def test_workflow_day_budget_counts_earlier_runs(personas, priced_models, stub, use_policy):
    # The first run spends about $0.0045 on gpt-4o; a $0.008 daily cap then refuses the second.
    use_policy(OnBudget.STOP, per_workflow_day=Budget(max_usd=0.008))
    workflow = workflow_create(user=personas["alice"], name="Daily", document=_doc())
    workflow_publish(workflow=workflow, user=personas["alice"], note="v1")
    version = workflow_published_version(workflow=workflow)
    first = run_start(version=version, started_by=personas["alice"], inputs={})
    run_advance(run_id=first.id)
    assert Run.objects.get(id=first.id).status == Run.Status.SUCCEEDED
    second = run_start(version=version, started_by=personas["alice"], inputs={})
    run_advance(run_id=second.id)
    second.refresh_from_db()
    assert second.status == Run.Status.FAILED
    assert second.error["details"]["scope"] == "per_workflow_day"
    assert second.error["details"]["spent"] == pytest.approx(_litellm_cost("openai/gpt-4o", 1000, 200))
    assert len(stub.requests) == 1


def _step(run: Run, node_id: str, started_at: datetime, **meta: Any) -> StepRun:
    return StepRun.objects.create(
        run=run, node_id=node_id, status="succeeded", started_at=started_at, meta={"model": "m", **meta}
    )


def test_ledger_scopes_and_boundaries(personas, support_workflow):
    now = datetime(2026, 3, 15, 12, 0, tzinfo=UTC)
    assert day_start(now) == datetime(2026, 3, 15, tzinfo=UTC)
    assert month_start(now) == datetime(2026, 3, 1, tzinfo=UTC)
    version = workflow_published_version(workflow=support_workflow)
    mine = Run.objects.create(workflow=support_workflow, version=version, started_by=personas["alice"])
    today = Run.objects.create(workflow=support_workflow, version=version, started_by=personas["alice"])
    bob = Run.objects.create(workflow=support_workflow, version=version, started_by=personas["bob"])
    _step(mine, "a", now, cost_usd=0.001, tokens_in=10, tokens_out=5)
    _step(
        mine, "self", now, cost_usd=5.0, tokens_in=1, tokens_out=1, budget_allowance={"per_run": {"usd": 9}}
    )
    _step(mine, "b", now, cost_usd=0.002, budget_allowance={"per_run": {"usd": 0.5}})
    _step(today, "a", now.replace(hour=1), cost_usd=0.01, tokens_in=100, tokens_out=50)
    _step(today, "old", datetime(2026, 3, 14, 23, 59, tzinfo=UTC), cost_usd=0.1)  # yesterday: month only
    _step(bob, "a", now, cost_usd=1.0)  # same workflow today, another user
    StepRun.objects.create(run=mine, node_id="no-llm", status="succeeded", started_at=now, meta={"x": 1})
    spend = DjangoUsageLedger(now=now).spent(str(mine.id), exclude_node="self")
    assert spend.run_usd == pytest.approx(0.003)
    assert spend.run_tokens == 15
    assert spend.workflow_day_usd == pytest.approx(0.003 + 0.01 + 1.0)
    assert spend.workflow_day_tokens == 165
    assert spend.user_month_usd == pytest.approx(0.003 + 0.01 + 0.1)
    assert spend.allowances == {"per_run": {"usd": 0.5, "tokens": 0.0}}
    assert DjangoUsageLedger(now=now).spent(str(mine.id)).run_usd == pytest.approx(5.003)
    assert DjangoUsageLedger(now=now).spent("999999").run_usd == 0.0


@pytest.mark.django_db(transaction=True)
def test_the_global_policy_set_through_the_api_is_enforced(personas, priced_models, stub, client_for):
    response = client_for("admin").put(
        "/api/policies/global/", {"run_max_usd": "0.001", "on_budget": "downgrade"}, format="json"
    )
    assert response.status_code == 200, response.json()
    run = _run(personas)
    assert run.status == Run.Status.SUCCEEDED, run.error
    assert StepRun.objects.get(run=run, node_id="draft").output["model"] == "gpt-4o-mini"
    assert [r["model"] for r in stub.requests] == ["gpt-4o-mini"]
