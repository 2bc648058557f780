"""``flow.subworkflow`` and ``logic.loop`` end to end: child runs, approvals inside them, cancel."""

from __future__ import annotations

from typing import Any

import pytest

from backend.approvals.models import Approval
from backend.runs.models import Run, StepRun
from backend.runs.subruns import subruns_wake_stale
from backend.workflows.models import Workflow
from backend.workflows.services import workflow_create, workflow_publish
from tests.backend.conftest import load_fixture

pytestmark = pytest.mark.django_db


def _document(name: str, **refs: Workflow) -> dict[str, Any]:
    """A fixture with the symbolic workflow names of its caller nodes replaced by real ids."""
    document = load_fixture(name)
    for node in document["nodes"]:
        if node["type"] in ("flow.subworkflow", "logic.loop"):
            node["config"]["workflow"] = str(refs[node["config"]["workflow"]].id)
    return document


def _published(user: Any, name: str, fixture: str, **refs: Workflow) -> Workflow:
    workflow = workflow_create(user=user, name=name, document=_document(fixture, **refs))
    workflow_publish(workflow=workflow, user=user)
    return workflow


@pytest.fixture
def bodies(personas: dict[str, Any]) -> dict[str, Workflow]:
    alice = personas["alice"]
    return {
        "greet": _published(alice, "Greet", "subworkflow_body_greet.json"),
        "review": _published(alice, "Review a greeting", "subworkflow_body_review.json"),
    }


def _start(client_for: Any, captured: Any, workflow: Workflow, inputs: dict[str, Any]) -> Run:
    with captured(execute=True):
        response = client_for("alice").post(
            f"/api/workflows/{workflow.id}/runs/", {"inputs": inputs}, format="json"
        )
    assert response.status_code == 201, response.content
    return Run.objects.get(id=response.json()["id"])


def _decide(client_for: Any, captured: Any, approval: Approval, **body: Any) -> None:
    rey = client_for("rey")
    detail = rey.post(f"/api/approvals/{approval.id}/claim/").json()
    with captured(execute=True):
        response = rey.post(
            f"/api/approvals/{approval.id}/decision/",
            {"decision": "approve", "payload_hash": detail["payload_hash"], **body},
            format="json",
        )
    assert response.status_code == 200, response.content


def test_golden_subworkflow_runs_the_child_and_uses_its_outputs(
    personas, bodies, client_for, django_capture_on_commit_callbacks
):
    parent_wf = _published(personas["alice"], "Call greet", "subworkflow_call.json", greet=bodies["greet"])
    run = _start(client_for, django_capture_on_commit_callbacks, parent_wf, {"name": "Ada"})
    run.refresh_from_db()
    assert run.status == "succeeded", run.error
    child = Run.objects.get(parent_run=run)
    assert (child.workflow_id, child.parent_node_id, child.parent_key, child.depth) == (
        bodies["greet"].id,
        "call",
        "0",
        1,
    )
    assert child.status == "succeeded"
    steps = {s.node_id: s for s in run.steps.all()}
    assert steps["call"].output == {
        "run_id": str(child.id),
        "version": 1,
        "outputs": {"greet": {"text": "Hello Ada"}},
    }
    assert steps["say"].output == {"text": "The child said: Hello Ada"}
    detail = client_for("alice").get(f"/api/runs/{run.id}/").json()
    assert detail["status"] == "succeeded"


def test_golden_loop_runs_one_child_per_item(
    personas, bodies, client_for, django_capture_on_commit_callbacks
):
    loop_wf = _published(personas["alice"], "Greet each", "loop_greet_each.json", greet=bodies["greet"])
    run = _start(
        client_for, django_capture_on_commit_callbacks, loop_wf, {"names": ["Ada", "Bo", "Cy", "Di", "Ed"]}
    )
    run.refresh_from_db()
    assert run.status == "succeeded", run.error
    children = list(Run.objects.filter(parent_run=run).order_by("id"))
    assert sorted(c.parent_key for c in children) == ["0", "1", "2", "3", "4"]
    assert all(c.status == "succeeded" for c in children)
    steps = {s.node_id: s for s in run.steps.all()}
    assert steps["all"].output == {"result": [f"Hello {n}" for n in ["Ada", "Bo", "Cy", "Di", "Ed"]]}
    assert steps["each"].output["run_ids"] == [
        str(c.id) for c in sorted(children, key=lambda c: int(c.parent_key))
    ]
    # Concurrency 2: the node parked and was woken as children ended (attempts > 1).
    assert steps["each"].attempts >= 3


def test_an_approval_in_each_item_parks_the_parent_until_every_one_is_decided(
    personas, bodies, client_for, django_capture_on_commit_callbacks
):
    loop_wf = _published(personas["alice"], "Review each", "loop_review_each.json", review=bodies["review"])
    run = _start(client_for, django_capture_on_commit_callbacks, loop_wf, {"names": ["Ada", "Bo"]})
    run.refresh_from_db()
    assert run.status == "waiting"
    assert run.steps.get(node_id="each").request["kind"] == "children"
    approvals = list(Approval.objects.filter(run__parent_run=run).order_by("run_id"))
    assert len(approvals) == 2  # one request per item, in the inbox like any other
    assert Approval.objects.filter(run=run).count() == 0
    inbox = client_for("rey").get("/api/approvals/?status=pending").json()
    assert {a["id"] for a in inbox["results"]} >= {a.id for a in approvals}

    _decide(client_for, django_capture_on_commit_callbacks, approvals[0], edited={"text": "Hi Ada!"})
    run.refresh_from_db()
    assert run.status == "waiting"
    _decide(client_for, django_capture_on_commit_callbacks, approvals[1])
    run.refresh_from_db()
    assert run.status == "succeeded", run.error
    assert run.steps.get(node_id="all").output == {"result": ["Hi Ada!", "Hello Bo"]}


def test_an_approval_inside_a_subworkflow_makes_the_parent_wait_then_resume(
    personas, bodies, client_for, django_capture_on_commit_callbacks
):
    document = _document("subworkflow_call.json", greet=bodies["review"])
    document["nodes"][2]["config"]["template"] = "Approved: {{ steps.call.outputs.final.text }}"
    parent_wf = workflow_create(user=personas["alice"], name="Call review", document=document)
    workflow_publish(workflow=parent_wf, user=personas["alice"])
    run = _start(client_for, django_capture_on_commit_callbacks, parent_wf, {"name": "Ada"})
    run.refresh_from_db()
    assert run.status == "waiting"
    approval = Approval.objects.get(run__parent_run=run)
    _decide(client_for, django_capture_on_commit_callbacks, approval)
    run.refresh_from_db()
    assert run.status == "succeeded", run.error
    assert run.steps.get(node_id="say").output == {"text": "Approved: Hello Ada"}


def test_cancelling_the_parent_cancels_its_children_and_their_approvals(
    personas, bodies, client_for, django_capture_on_commit_callbacks
):
    loop_wf = _published(personas["alice"], "Review each", "loop_review_each.json", review=bodies["review"])
    run = _start(client_for, django_capture_on_commit_callbacks, loop_wf, {"names": ["Ada", "Bo"]})
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for("alice").post(f"/api/runs/{run.id}/cancel/")
    assert response.status_code == 200, response.content
    run.refresh_from_db()
    assert run.status == "cancelled"
    children = Run.objects.filter(parent_run=run)
    assert children.count() == 2
    assert set(children.values_list("status", flat=True)) == {"cancelled"}
    assert set(Approval.objects.filter(run__parent_run=run).values_list("status", flat=True)) == {"cancelled"}


def test_a_child_that_ended_unnoticed_is_picked_up_by_the_sweep(
    personas, bodies, client_for, django_capture_on_commit_callbacks
):
    parent_wf = _published(personas["alice"], "Call greet", "subworkflow_call.json", greet=bodies["review"])
    run = _start(client_for, django_capture_on_commit_callbacks, parent_wf, {"name": "Ada"})
    child = Run.objects.get(parent_run=run)
    # The child ends, but its wake-up is lost (as if the process died right after the commit).
    Run.objects.filter(id=child.id).update(status="failed", error={"code": "NODE_FAILED", "message": "boom"})
    with django_capture_on_commit_callbacks(execute=True):
        woken = subruns_wake_stale()
    assert woken == 1
    run.refresh_from_db()
    assert run.status == "failed"
    assert run.steps.get(node_id="call").error["code"] == "SUBWORKFLOW_FAILED"
    with django_capture_on_commit_callbacks(execute=True):
        assert subruns_wake_stale() == 0


def test_publish_checks_the_called_workflow(personas, bodies, client_for):
    alice = personas["alice"]
    draft_only = workflow_create(
        user=alice, name="Draft only", document=load_fixture("subworkflow_body_greet.json")
    )
    bobs = workflow_create(
        user=personas["bob"], name="Bob's", document=load_fixture("subworkflow_body_greet.json")
    )
    workflow_publish(workflow=bobs, user=personas["bob"])
    cases = {
        "SUBWORKFLOW_NOT_PUBLISHED": str(draft_only.id),
        "SUBWORKFLOW_NOT_FOUND": str(bobs.id),  # exists, but alice may not run it
    }
    for code, ref in cases.items():
        document = load_fixture("subworkflow_call.json")
        document["nodes"][1]["config"]["workflow"] = ref
        workflow = workflow_create(user=alice, name=code, document=document)
        response = client_for("alice").post(f"/api/workflows/{workflow.id}/publish/", {}, format="json")
        assert response.status_code == 400, response.content
        assert [i["code"] for i in response.json()["error"]["details"]] == [code]

    document = load_fixture("subworkflow_call.json")
    document["nodes"][1]["config"]["workflow"] = "99999"
    workflow = workflow_create(user=alice, name="Missing", document=document)
    response = client_for("alice").post(f"/api/workflows/{workflow.id}/validate/", {}, format="json")
    assert [i["code"] for i in response.json()["issues"]] == ["SUBWORKFLOW_NOT_FOUND"]

    # Itself, and inputs that do not fit the callee's trigger fields.
    workflow = workflow_create(user=alice, name="Self", document=load_fixture("subworkflow_call.json"))
    document = load_fixture("subworkflow_call.json")
    document["nodes"][1]["config"]["workflow"] = str(workflow.id)
    response = client_for("alice").post(
        f"/api/workflows/{workflow.id}/validate/", {"document": document}, format="json"
    )
    assert [i["code"] for i in response.json()["issues"]] == ["SUBWORKFLOW_RECURSIVE"]
    document["nodes"][1]["config"].update(workflow=str(bodies["greet"].id), inputs={"nom": "x"})
    response = client_for("alice").post(
        f"/api/workflows/{workflow.id}/validate/", {"document": document}, format="json"
    )
    messages = [i["message"] for i in response.json()["issues"]]
    assert len(messages) == 2
    assert "has no input 'nom'" in messages[0]
    assert "needs the input 'name'" in messages[1]


def test_depth_limit_fails_a_chain_that_is_too_deep(
    personas, bodies, client_for, django_capture_on_commit_callbacks
):
    # Each level calls the previous one: greet <- l1 <- l2 ... <- l6 (6 levels of children).
    alice = personas["alice"]
    callee = bodies["greet"]
    for level in range(6):
        callee = _published(alice, f"Level {level + 1}", "subworkflow_call.json", greet=callee)
    run = _start(client_for, django_capture_on_commit_callbacks, callee, {"name": "Ada"})
    run.refresh_from_db()
    assert run.status == "failed"
    depths = sorted(Run.objects.exclude(depth=0).values_list("depth", flat=True))
    assert max(depths) == 5
    deepest = Run.objects.get(depth=5)
    assert deepest.status == "failed"
    assert StepRun.objects.get(run=deepest, node_id="call").error["code"] == "SUBWORKFLOW_DEPTH"


def test_a_child_ending_while_the_parent_node_runs_is_not_lost(
    personas, bodies, client_for, django_capture_on_commit_callbacks
):
    """The child ended between the parent node's look and its park: finish(waiting) re-queues."""
    from backend.runs.store import DjangoRunStore
    from orchestrator_core.ports import RunStatus

    parent_wf = _published(personas["alice"], "Call greet", "subworkflow_call.json", greet=bodies["review"])
    run = _start(client_for, django_capture_on_commit_callbacks, parent_wf, {"name": "Ada"})
    child = Run.objects.get(parent_run=run)
    # As if the parent's worker still held the run while the child ended (its wake-up found
    # the parent running and changed nothing)...
    Run.objects.filter(id=run.id).update(status="running")
    Run.objects.filter(id=child.id).update(status="failed", error={"code": "NODE_FAILED", "message": "boom"})
    run.refresh_from_db()
    # ...and now the worker parks the run.
    with django_capture_on_commit_callbacks(execute=True):
        DjangoRunStore().finish(str(run.id), fence=run.fence, status=RunStatus.WAITING)
    run.refresh_from_db()
    assert run.status == "failed"
    assert run.steps.get(node_id="call").error["details"]["run_id"] == str(child.id)


def test_an_edit_share_cannot_reach_the_owners_other_workflows(personas, bodies, client_for):
    """bob may edit alice's caller, but not run her private "Greet": he cannot publish a call to it."""
    from backend.workflows.sharing import workflow_share_upsert

    alice = personas["alice"]
    caller = workflow_create(user=alice, name="Caller", document=load_fixture("subworkflow_body_greet.json"))
    workflow_share_upsert(workflow=caller, actor=alice, permission="edit", username="bob")
    document = load_fixture("subworkflow_call.json")
    document["nodes"][1]["config"]["workflow"] = str(bodies["greet"].id)
    Workflow.objects.filter(id=caller.id).update(draft=document)
    response = client_for("bob").post(f"/api/workflows/{caller.id}/publish/", {}, format="json")
    assert response.status_code == 400, response.content
    assert [i["code"] for i in response.json()["error"]["details"]] == ["SUBWORKFLOW_NOT_FOUND"]
    # The owner, who may run "Greet", publishes the same draft.
    assert (
        client_for("alice").post(f"/api/workflows/{caller.id}/publish/", {}, format="json").status_code == 201
    )
