"""Review rounds end to end: "request changes" sends the demo run back to its drafting step."""

from __future__ import annotations

from typing import Any

import pytest

from backend.approvals.models import Approval
from backend.audit.models import AuditEvent
from backend.connectors.models import OutboxMessage
from backend.runs.models import RunEvent, StepRun
from backend.runs.services import run_advance, run_start
from backend.workflows.selectors import workflow_published_version
from tests.backend.conftest import CUSTOMER_EMAIL

pytestmark = pytest.mark.django_db


def decide(client: Any, approval: Approval, captured: Any, **body: Any) -> Any:
    body.setdefault("payload_hash", approval.payload_hash)
    with captured(execute=True):
        return client.post(f"/api/approvals/{approval.id}/decision/", body, format="json")


def test_request_changes_redrafts_and_a_second_item_is_approved_and_sent_once(
    personas, client_for, support_workflow, django_capture_on_commit_callbacks
):
    run = run_start(
        version=workflow_published_version(workflow=support_workflow),
        started_by=personas["alice"],
        inputs=CUSTOMER_EMAIL,
    )
    run_advance(run_id=run.id)
    first = Approval.objects.get(run=run)
    rey = client_for("rey")

    asked = decide(
        rey,
        first,
        django_capture_on_commit_callbacks,
        decision="request_changes",
        comment="Mention the refund delay.",
    )
    assert asked.status_code == 200, asked.content
    assert asked.json()["status"] == "changes_requested"

    run.refresh_from_db()
    assert run.status == "waiting"
    # A second inbox item, for round 2; the first stays decided.
    inbox = rey.get("/api/approvals/").json()["results"]
    assert [item["run_id"] for item in inbox] == [run.id]
    second = Approval.objects.get(id=inbox[0]["id"])
    assert second.id != first.id
    assert second.status == "pending"
    assert second.key == f"{run.id}:review:round-2-review"
    assert second.context["Review round"] == "2 of 3"
    assert second.context["Earlier feedback"] == "Mention the refund delay."
    first.refresh_from_db()
    assert (first.status, first.comment) == ("changes_requested", "Mention the refund delay.")
    # The draft ran again with the feedback in its prompt; round 1 stays in its history.
    draft = StepRun.objects.get(run=run, node_id="draft")
    assert "Their feedback: Mention the refund delay." in draft.inputs["prompt"]
    assert draft.meta["review"]["round"] == 2
    assert len(draft.meta["rounds"]) == 1
    assert second.fields == {"reply": draft.output["text"]}
    review = StepRun.objects.get(run=run, node_id="review")
    assert review.meta["rounds"][0]["output"]["feedback"] == "Mention the refund delay."
    assert not OutboxMessage.objects.filter(run=run).exists()
    # The run page's events show round 1's decision.
    decided = [
        e.data for e in RunEvent.objects.filter(run=run, node_id="review", type="step.status").order_by("seq")
    ]
    assert any((d.get("output") or {}).get("decision") == "changes_requested" for d in decided)
    detail = client_for("alice").get(f"/api/runs/{run.id}/")
    assert detail.status_code == 200
    shown = {s["node_id"]: s for s in detail.json()["steps"]}
    assert shown["draft"]["round"] == 2
    assert shown["review"]["rounds"][0]["output"]["feedback"] == "Mention the refund delay."
    assert "round" not in shown["classify"]

    approved = decide(
        rey,
        second,
        django_capture_on_commit_callbacks,
        decision="approve",
        edited={"reply": "Dear Carol, the refund takes 5 days."},
    )
    assert approved.status_code == 200, approved.content
    run.refresh_from_db()
    assert run.status == "succeeded"
    sent = list(OutboxMessage.objects.filter(run=run))
    assert len(sent) == 1
    assert sent[0].body == "Dear Carol, the refund takes 5 days."
    assert StepRun.objects.get(run=run, node_id="send").attempts == 1
    statuses = dict(Approval.objects.filter(run=run).values_list("id", "status"))
    assert statuses == {first.id: "changes_requested", second.id: "approved"}
    assert AuditEvent.objects.filter(action="approval.changes_requested").count() == 1
    assert AuditEvent.objects.filter(action="approval.approved").count() == 1


def test_the_last_round_follows_the_changes_port(personas, client_for, django_capture_on_commit_callbacks):
    from tests.backend.test_approvals_review import make_workflow

    workflow = make_workflow(personas["alice"], name="Two rounds", max_rounds=2)
    run = run_start(
        version=workflow_published_version(workflow=workflow),
        started_by=personas["alice"],
        inputs=CUSTOMER_EMAIL,
    )
    run_advance(run_id=run.id)
    rey = client_for("rey")
    for round_no in (1, 2):
        item = Approval.objects.get(run=run, status="pending")
        response = decide(
            rey,
            item,
            django_capture_on_commit_callbacks,
            decision="request_changes",
            comment=f"No {round_no}",
        )
        assert response.status_code == 200, response.content
    run.refresh_from_db()
    assert run.status == "succeeded"
    assert Approval.objects.filter(run=run).count() == 2
    assert not Approval.objects.filter(run=run, status="pending").exists()
    assert StepRun.objects.get(run=run, node_id="review").ports == ["changes"]
    assert not OutboxMessage.objects.filter(run=run).exists()


def test_a_waiting_side_approval_sent_back_leaves_the_inbox_and_asks_again(
    personas, client_for, django_capture_on_commit_callbacks
):
    from backend.workflows.services import workflow_create, workflow_publish
    from tests.backend.conftest import load_fixture

    document = load_fixture("support_reply.json")
    document["nodes"].append(
        {
            "id": "legal",
            "type": "human.approval",
            "type_version": 1,
            "config": {
                "queue": "Support",
                "title": "Legal check",
                "fields": {"reply": "{{ steps.draft.text }}"},
            },
        }
    )
    document["edges"].append(
        {"id": "e9", "source": "draft", "source_port": "out", "target": "legal", "target_port": "in"}
    )
    workflow = workflow_create(user=personas["alice"], name="Two reviews", document=document)
    workflow_publish(workflow=workflow, user=personas["alice"], note="v1")
    run = run_start(
        version=workflow_published_version(workflow=workflow),
        started_by=personas["alice"],
        inputs=CUSTOMER_EMAIL,
    )
    run_advance(run_id=run.id)
    legal_1 = Approval.objects.get(run=run, node_id="legal")
    review_1 = Approval.objects.get(run=run, node_id="review")
    response = decide(
        client_for("rey"),
        review_1,
        django_capture_on_commit_callbacks,
        decision="request_changes",
        comment="Redo",
    )
    assert response.status_code == 200, response.content
    legal_1.refresh_from_db()
    assert legal_1.status == "cancelled"
    pending = dict(Approval.objects.filter(run=run, status="pending").values_list("node_id", "key"))
    assert pending == {"review": f"{run.id}:review:round-2-review", "legal": f"{run.id}:legal:round-2-review"}
