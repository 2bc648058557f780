"""Gaps closed after the child-runs round: the policy when testing one node, deleting a called
workflow, children's cost for the parent, agent workflow tools at publish, budget approval queue."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from backend.policies.models import Policy
from backend.runs.budget import DjangoUsageLedger, DryRunUsageLedger
from backend.runs.models import Run, StepRun
from backend.runs.services import _run_policy, run_advance, run_start
from backend.runs.subruns import DjangoSubRuns, subruns_wake_stale
from backend.workflows.models import Workflow
from backend.workflows.selectors import workflow_published_version
from backend.workflows.services import workflow_create, workflow_publish
from tests.backend.conftest import CUSTOMER_EMAIL, load_fixture

pytestmark = pytest.mark.django_db

SAMPLE = {"trigger": CUSTOMER_EMAIL, "steps": {"classify": {"label": "refund"}}}


def _node_test(client: Any, workflow: Workflow, node_id: str = "draft", **body: Any) -> dict[str, Any]:
    response = client.post(
        f"/api/workflows/{workflow.id}/nodes/{node_id}/test/", {"inputs": SAMPLE, **body}, format="json"
    )
    assert response.status_code == 200, response.content
    result: dict[str, Any] = response.json()
    return result


def _global(**values: Any) -> Policy:
    return Policy.objects.create(is_global=True, **values)


# --- 1. testing one node follows the workflow's policy ------------------------------------------


def test_node_test_refuses_a_model_the_policy_does_not_allow(client_for, support_workflow):
    _global(allowed_models=["gpt-4o"])
    body = _node_test(client_for("alice"), support_workflow)
    assert body["status"] == "failed"
    assert body["error"]["code"] == "MODEL_NOT_ALLOWED"


def test_node_test_redacts_pii_in_what_it_returns(client_for, support_workflow):
    assert "carol@example.com" in str(_node_test(client_for("alice"), support_workflow)["inputs"])
    Policy.objects.create(workflow=support_workflow, redact_pii=True)
    body = _node_test(client_for("alice"), support_workflow)
    assert body["status"] == "succeeded", body["error"]
    assert "carol@example.com" not in str(body["inputs"])
    assert "carol@example.com" not in str(body["output"])


def test_node_test_applies_the_per_run_budget_to_the_call(client_for, support_workflow):
    _global(run_max_tokens=5, on_budget="stop")
    body = _node_test(client_for("alice"), support_workflow)
    assert body["status"] == "failed"
    assert body["error"]["code"] == "BUDGET_EXCEEDED"
    assert body["error"]["details"]["scope"] == "per_run"


def test_node_test_counts_the_workflows_day(client_for, personas, support_workflow):
    _global(workflow_day_max_usd=Decimal("1.00"), on_budget="stop")
    version = workflow_published_version(workflow=support_workflow)
    run = Run.objects.create(workflow=support_workflow, version=version, started_by=personas["bob"])
    StepRun.objects.create(
        run=run,
        node_id="x",
        status="succeeded",
        started_at=datetime.now(UTC),
        meta={"model": "m", "cost_usd": 2},
    )
    body = _node_test(client_for("alice"), support_workflow)
    assert body["status"] == "failed"
    assert body["error"]["details"]["scope"] == "per_workflow_day"
    spend = DryRunUsageLedger(workflow_id=support_workflow.id, user_id=personas["alice"].id).spent("test")
    assert (spend.run_usd, spend.workflow_day_usd, spend.user_month_usd) == (0.0, 2.0, 0.0)


def test_node_test_budget_approval_names_the_workflows_approval_queue(client_for, support_workflow):
    _global(run_max_tokens=5, on_budget="approve")
    body = _node_test(client_for("alice"), support_workflow)
    assert body["status"] == "waiting", body["error"]
    approval_queue = next(
        n["config"].get("queue", "Support")
        for n in support_workflow.draft["nodes"]
        if n["type"] == "human.approval"
    )
    assert body["request"]["queue"] == approval_queue
    assert body["request"]["approval_key"].startswith("budget-")


# --- 6. budget approvals' queue -----------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_budget_approval_without_an_approval_node_uses_the_setting(personas, settings):
    from backend.approvals.models import Approval

    settings.BATON_BUDGET_QUEUE = "Finance"
    _global(run_max_tokens=5, on_budget="approve")
    doc = {
        "schema_version": 1,
        "nodes": [
            {"id": "t", "type": "trigger.manual", "type_version": 1, "config": {"fields": []}},
            {"id": "p", "type": "llm.prompt", "type_version": 1, "config": {"model": "demo", "prompt": "Hi"}},
        ],
        "edges": [{"id": "e1", "source": "t", "source_port": "out", "target": "p", "target_port": "in"}],
    }
    workflow = workflow_create(user=personas["alice"], name="Budgeted", document=doc)
    workflow_publish(workflow=workflow, user=personas["alice"])
    run = run_start(
        version=workflow_published_version(workflow=workflow), started_by=personas["alice"], inputs={}
    )
    run_advance(run_id=run.id)
    approval = Approval.objects.get(run=run)
    assert approval.queue.name == "Finance"
    assert approval.key.startswith(f"{run.id}:p:budget-")


# --- 4. agent workflow tools are validated at publish -------------------------------------------


def _agent_doc(tool: dict[str, Any]) -> dict[str, Any]:
    return {
        "schema_version": 1,
        "nodes": [
            {"id": "t", "type": "trigger.manual", "type_version": 1, "config": {"fields": []}},
            {
                "id": "agent",
                "type": "llm.agent",
                "type_version": 1,
                "config": {"model": "demo", "prompt": "Help", "tools": [{"name": "greet", **tool}]},
            },
        ],
        "edges": [{"id": "e1", "source": "t", "source_port": "out", "target": "agent", "target_port": "in"}],
    }


@pytest.fixture
def greet(personas) -> Workflow:
    workflow = workflow_create(
        user=personas["alice"], name="Greet", document=load_fixture("subworkflow_body_greet.json")
    )
    workflow_publish(workflow=workflow, user=personas["alice"])
    return workflow


def _publish_issues(client: Any, workflow: Workflow) -> list[dict[str, Any]]:
    response = client.post(f"/api/workflows/{workflow.id}/publish/", {}, format="json")
    if response.status_code in (200, 201):
        return []
    assert response.status_code == 400, response.content
    assert response.json()["error"]["code"] == "WORKFLOW_INVALID"
    details: list[dict[str, Any]] = response.json()["error"]["details"]
    return details


def test_agent_workflow_tools_are_checked_at_publish(client_for, personas, greet):
    alice = client_for("alice")
    unpublished = workflow_create(
        user=personas["alice"], name="Draft only", document=load_fixture("subworkflow_body_greet.json")
    )
    cases = [
        ({"workflow": "999999"}, "SUBWORKFLOW_NOT_FOUND"),
        ({"workflow": str(unpublished.id)}, "SUBWORKFLOW_NOT_PUBLISHED"),
        ({"workflow": str(greet.id), "version": 7}, "SUBWORKFLOW_NOT_PUBLISHED"),
        ({"workflow": str(greet.id), "fixed": {"nick": "x"}}, "NODE_CONFIG_INVALID"),
    ]
    for tool, code in cases:
        workflow = workflow_create(user=personas["alice"], name=f"Agent {code}", document=_agent_doc(tool))
        issues = _publish_issues(alice, workflow)
        assert [i["code"] for i in issues] == [code], (tool, issues)
        assert issues[0]["node_id"] == "agent"
        assert "tool 'greet'" in issues[0]["message"]
    caller = workflow_create(user=personas["alice"], name="Agent", document=_agent_doc({"workflow": "0"}))
    caller.draft = _agent_doc({"workflow": str(caller.id)})
    caller.save()
    assert [i["code"] for i in _publish_issues(alice, caller)] == ["SUBWORKFLOW_RECURSIVE"]
    # Bob cannot run Alice's workflow: the same as a missing one.
    bobs = workflow_create(
        user=personas["bob"], name="Bob's agent", document=_agent_doc({"workflow": str(greet.id)})
    )
    assert [i["code"] for i in _publish_issues(client_for("bob"), bobs)] == ["SUBWORKFLOW_NOT_FOUND"]
    ok = workflow_create(
        user=personas["alice"],
        name="Fine",
        document=_agent_doc({"workflow": str(greet.id), "fixed": {"name": "Ada"}}),
    )
    assert _publish_issues(alice, ok) == []


# --- 2. deleting a called workflow --------------------------------------------------------------


def _document(name: str, **refs: Workflow) -> dict[str, Any]:
    document = load_fixture(name)
    for node in document["nodes"]:
        if node["type"] in ("flow.subworkflow", "logic.loop"):
            node["config"]["workflow"] = str(refs[node["config"]["workflow"]].id)
    return document


def _published(user: Any, name: str, fixture: str, **refs: Workflow) -> Workflow:
    workflow = workflow_create(user=user, name=name, document=_document(fixture, **refs))
    workflow_publish(workflow=workflow, user=user)
    return workflow


def test_deleting_a_workflow_that_published_versions_call_is_409(client_for, personas, greet):
    alice = client_for("alice")
    caller = _published(personas["alice"], "Call greet", "subworkflow_call.json", greet=greet)
    agent = workflow_create(
        user=personas["alice"], name="Greeting agent", document=_agent_doc({"workflow": str(greet.id)})
    )
    workflow_publish(workflow=agent, user=personas["alice"])
    response = alice.delete(f"/api/workflows/{greet.id}/")
    assert response.status_code == 409, response.content
    error = response.json()["error"]
    assert error["code"] == "WORKFLOW_IN_USE"
    callers = {(c["workflow"], c["reason"]) for c in error["details"]["callers"]}
    assert callers == {("Call greet", "published_version"), ("Greeting agent", "published_version")}
    assert "Call greet" in error["message"]
    assert Workflow.objects.filter(id=greet.id).exists()
    # Once nothing calls it, it can go.
    for workflow in (caller, agent):
        assert alice.delete(f"/api/workflows/{workflow.id}/").status_code == 204
    assert alice.delete(f"/api/workflows/{greet.id}/").status_code == 204


def _start(client_for: Any, captured: Any, workflow: Workflow, inputs: dict[str, Any]) -> Run:
    with captured(execute=True):
        response = client_for("alice").post(
            f"/api/workflows/{workflow.id}/runs/", {"inputs": inputs}, format="json"
        )
    assert response.status_code == 201, response.content
    return Run.objects.get(id=response.json()["id"])


@pytest.fixture
def review(personas) -> Workflow:
    return _published(personas["alice"], "Review a greeting", "subworkflow_body_review.json")


def test_deleting_a_workflow_with_a_waiting_parent_is_409_naming_the_run(
    client_for, personas, review, django_capture_on_commit_callbacks
):
    loop_wf = _published(personas["alice"], "Review each", "loop_review_each.json", review=review)
    run = _start(client_for, django_capture_on_commit_callbacks, loop_wf, {"names": ["Ada"]})
    run.refresh_from_db()
    assert run.status == "waiting"
    # The caller's published version goes away (a new unpublished draft does not matter).
    loop_wf.versions.update(published=False)
    response = client_for("alice").delete(f"/api/workflows/{review.id}/")
    assert response.status_code == 409, response.content
    callers = response.json()["error"]["details"]["callers"]
    assert callers == [
        {"workflow_id": loop_wf.id, "workflow": "Review each", "reason": "waiting_run", "runs": [run.id]}
    ]


def test_a_parent_whose_child_run_was_deleted_fails_instead_of_waiting(
    client_for, personas, review, django_capture_on_commit_callbacks
):
    loop_wf = _published(personas["alice"], "Review each", "loop_review_each.json", review=review)
    run = _start(client_for, django_capture_on_commit_callbacks, loop_wf, {"names": ["Ada", "Bo"]})
    run.refresh_from_db()
    assert run.status == "waiting"
    first = Run.objects.get(parent_run=run, parent_key="0")
    first_id = first.id
    first.delete()  # e.g. removed by hand or by retention
    with django_capture_on_commit_callbacks(execute=True):
        assert subruns_wake_stale() == 1  # the reaper notices
    run.refresh_from_db()
    assert run.status == "failed"
    step = run.steps.get(node_id="each")
    assert step.error["code"] == "SUBWORKFLOW_FAILED"
    assert step.error["details"]["run_id"] == str(first_id)
    # Its other child does not go on alone.
    assert Run.objects.get(parent_run=run, parent_key="1").status == "cancelled"


def test_a_cancelled_child_fails_the_subworkflow_step(
    client_for, personas, review, django_capture_on_commit_callbacks
):
    doc = load_fixture("subworkflow_call.json")
    for node in doc["nodes"]:
        if node["type"] == "flow.subworkflow":
            node["config"]["workflow"] = str(review.id)
            node["config"]["inputs"] = {"name": "{{ trigger.name }}"}
    caller = workflow_create(user=personas["alice"], name="Call review", document=doc)
    workflow_publish(workflow=caller, user=personas["alice"])
    run = _start(client_for, django_capture_on_commit_callbacks, caller, {"name": "Ada"})
    child = Run.objects.get(parent_run=run)
    assert child.status == "waiting"
    with django_capture_on_commit_callbacks(execute=True):
        assert client_for("alice").post(f"/api/runs/{child.id}/cancel/").status_code == 200
    run.refresh_from_db()
    assert run.status == "failed"
    assert run.steps.get(node_id="call").error["code"] == "SUBWORKFLOW_FAILED"


# --- 3. children's cost counts for the parent ---------------------------------------------------


def _llm_body(user: Any) -> Workflow:
    doc = load_fixture("subworkflow_body_greet.json")
    doc["nodes"][1] = {
        "id": "greet",
        "type": "llm.prompt",
        "type_version": 1,
        "config": {"model": "demo", "prompt": "Greet {{ trigger.name }}"},
    }
    workflow = workflow_create(user=user, name="Greet by LLM", document=doc)
    workflow_publish(workflow=workflow, user=user)
    return workflow


def test_a_loop_step_carries_its_childrens_usage(client_for, personas, django_capture_on_commit_callbacks):
    body = _llm_body(personas["alice"])
    doc = _document("loop_greet_each.json", greet=body)
    doc["nodes"][2]["config"]["expression"] = "steps.each.results"
    loop_wf = workflow_create(user=personas["alice"], name="Greet each by LLM", document=doc)
    workflow_publish(workflow=loop_wf, user=personas["alice"])
    run = _start(client_for, django_capture_on_commit_callbacks, loop_wf, {"names": ["Ada", "Bo", "Cy"]})
    run.refresh_from_db()
    assert run.status == "succeeded", run.error
    children = list(Run.objects.filter(parent_run=run))
    assert {c.root_run_id for c in children} == {run.id}
    tokens_in = sum(s.meta["tokens_in"] for c in children for s in c.steps.filter(node_id="greet"))
    assert tokens_in > 0
    meta = run.steps.get(node_id="each").meta
    assert meta["children_runs"] == 3
    assert meta["children_tokens_in"] == tokens_in
    assert "cost_usd" not in meta or meta["cost_usd"] == 0  # its own spend stays its own


def test_the_per_run_budget_spans_the_run_tree(personas, support_workflow, django_assert_num_queries):
    now = datetime.now(UTC)
    version = workflow_published_version(workflow=support_workflow)
    alice = personas["alice"]
    root = Run.objects.create(workflow=support_workflow, version=version, started_by=alice)
    child = Run.objects.create(
        workflow=support_workflow,
        version=version,
        started_by=alice,
        parent_run=root,
        parent_node_id="each",
        parent_key="0",
        depth=1,
        root_run=root,
    )
    grandchild = Run.objects.create(
        workflow=support_workflow,
        version=version,
        started_by=alice,
        parent_run=child,
        parent_node_id="call",
        parent_key="0",
        depth=2,
        root_run=root,
    )
    other = Run.objects.create(workflow=support_workflow, version=version, started_by=alice)
    for run, cost, tokens in ((root, 0.1, 10), (child, 0.2, 20), (grandchild, 0.4, 40), (other, 5.0, 1)):
        StepRun.objects.create(
            run=run,
            node_id="n",
            status="succeeded",
            started_at=now,
            meta={"model": "m", "cost_usd": cost, "tokens_in": tokens, "tokens_out": 0},
        )
    StepRun.objects.create(
        run=child,
        node_id="ok",
        status="succeeded",
        started_at=now,
        meta={"budget_allowance": {"per_run": {"usd": 1.0}}},
    )
    with django_assert_num_queries(3):
        spend = DjangoUsageLedger().spent(str(grandchild.id))
    assert spend.run_usd == pytest.approx(0.7)
    assert spend.run_tokens == 70
    assert spend.allowances["per_run"]["usd"] == 1.0  # an approval anywhere in the tree counts
    assert DjangoUsageLedger().spent(str(root.id)).run_usd == pytest.approx(0.7)
    assert DjangoUsageLedger().spent(str(root.id), exclude_node="n").run_usd == pytest.approx(0.6)
    usage = DjangoSubRuns().usage(str(root.id), "each")
    assert usage == {"runs": 2, "cost_usd": pytest.approx(0.6), "tokens_in": 60, "tokens_out": 0}
    assert DjangoSubRuns().usage(str(root.id), "other") == {"runs": 0}


def test_children_inherit_the_roots_per_run_budget(personas, support_workflow, greet):
    Policy.objects.create(workflow=support_workflow, run_max_usd=Decimal("0.5"))
    Policy.objects.create(workflow=greet, run_max_usd=Decimal("9"), workflow_day_max_usd=Decimal("3"))
    root = Run.objects.create(
        workflow=support_workflow, version=workflow_published_version(workflow=support_workflow)
    )
    child = Run.objects.create(
        workflow=greet,
        version=workflow_published_version(workflow=greet),
        parent_run=root,
        parent_node_id="x",
        parent_key="0",
        depth=1,
        root_run=root,
    )
    policy = _run_policy(child.id)
    assert policy.budgets.per_run.max_usd == 0.5
    assert policy.budgets.per_workflow_day.max_usd == 3.0  # its own workflow's other limits
    assert _run_policy(root.id).budgets.per_run.max_usd == 0.5


def test_a_runs_cost_includes_its_childrens(personas, support_workflow):
    from backend.runs.store import DjangoRunStore
    from orchestrator_core.ports import RunStatus

    version = workflow_published_version(workflow=support_workflow)
    run = Run.objects.create(workflow=support_workflow, version=version, status="running")
    StepRun.objects.create(
        run=run, node_id="each", status="succeeded", meta={"cost_usd": 0.1, "children_cost_usd": 0.6}
    )
    DjangoRunStore().finish(str(run.id), fence=run.fence, status=RunStatus.SUCCEEDED)
    run.refresh_from_db()
    assert run.cost_usd == pytest.approx(0.7)
