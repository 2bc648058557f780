"""The golden ``llm.agent`` workflow end to end on the demo model: a high-impact tool call waits
in the review inbox, and the run completes after the decision."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from backend.approvals.models import Approval
from backend.connectors.models import OutboxMessage
from backend.runs.models import Run
from backend.workflows.services import workflow_create, workflow_publish
from tests.backend.conftest import load_fixture

pytestmark = pytest.mark.django_db

ORDER = {"from": "ada@example.com", "order_id": "A-17", "message": "Where is my order? It has not arrived."}


def _start(client_for, personas, captured, document: dict[str, Any]) -> Run:
    workflow = workflow_create(user=personas["alice"], name="Support agent", document=document)
    workflow_publish(workflow=workflow, user=personas["alice"], note="v1")
    with captured(execute=True):
        response = client_for("alice").post(
            f"/api/workflows/{workflow.id}/runs/", {"inputs": ORDER}, format="json"
        )
    assert response.status_code == 201, response.content
    return Run.objects.get(id=response.json()["id"])


def _decide(client, approval_id: int, captured, **body: Any) -> Any:
    detail = client.get(f"/api/approvals/{approval_id}/").json()
    with captured(execute=True):
        return client.post(
            f"/api/approvals/{approval_id}/decision/",
            {**body, "payload_hash": detail["payload_hash"]},
            format="json",
        )


def _steps(client, run: Run) -> dict[str, Any]:
    body = client.get(f"/api/runs/{run.id}/").json()
    return {"status": body["status"], **{s["node_id"]: s for s in body["steps"]}}


def test_the_agent_waits_for_approval_then_sends_the_edited_email(
    client_for, personas, django_capture_on_commit_callbacks
):
    captured = django_capture_on_commit_callbacks
    run = _start(client_for, personas, captured, load_fixture("agent_order_support.json"))
    steps = _steps(client_for("alice"), run)
    assert steps["status"] == "waiting"
    assert steps["agent"]["status"] == "waiting"
    assert OutboxMessage.objects.filter(run_id=run.id).count() == 0

    rey = client_for("rey")
    inbox = rey.get("/api/approvals/").json()
    assert inbox["count"] == 1
    item = rey.get(f"/api/approvals/{inbox['results'][0]['id']}/").json()
    assert item["title"] == "Agent wants to run send_email"
    assert item["queue"] == "Support"
    assert item["fields"]["subject"] == "Re: Order A-17"
    assert item["fields"]["body"].startswith("Hello Ada,")
    assert item["context"]["Earlier tool calls"] == "lookup_order: ok"

    response = _decide(rey, item["id"], captured, decision="approve", edited={"subject": "Your order A-17"})
    assert response.status_code == 200, response.content

    steps = _steps(client_for("alice"), run)
    assert steps["status"] == "succeeded"
    output = steps["agent"]["output"]
    assert [(t["tool"], t["status"]) for t in output["tool_calls"]] == [
        ("lookup_order", "ok"),
        ("send_email", "ok"),
    ]
    assert output["tool_calls"][1]["approved_by"] == "rey"
    assert output["steps"] == 2
    assert "demo model" in output["text"]
    assert steps["log"]["output"]["text"].startswith("Agent finished in 2 steps")
    mail = OutboxMessage.objects.get(run_id=run.id)
    assert (mail.to, mail.subject) == ("ada@example.com", "Your order A-17")


def test_a_rejected_call_is_not_sent_and_the_run_still_completes(
    client_for, personas, django_capture_on_commit_callbacks
):
    captured = django_capture_on_commit_callbacks
    run = _start(client_for, personas, captured, load_fixture("agent_order_support.json"))
    approval = Approval.objects.get(run=run)
    response = _decide(client_for("rey"), approval.id, captured, decision="reject", comment="Not yet")
    assert response.status_code == 200, response.content
    steps = _steps(client_for("alice"), run)
    assert steps["status"] == "succeeded"
    assert steps["agent"]["output"]["tool_calls"][1]["status"] == "rejected"
    assert OutboxMessage.objects.filter(run_id=run.id).count() == 0


def test_two_high_impact_calls_get_two_approvals(client_for, personas, django_capture_on_commit_callbacks):
    captured = django_capture_on_commit_callbacks
    document = copy.deepcopy(load_fixture("agent_order_support.json"))
    agent = next(n for n in document["nodes"] if n["id"] == "agent")
    agent["config"]["tools"].append(
        {"name": "notify_team", "node_type": "email.send", "fixed": {"to": "team@example.com"}}
    )
    agent["config"]["prompt"] += "\n\nThen notify_team."
    run = _start(client_for, personas, captured, document)
    rey = client_for("rey")
    first = Approval.objects.get(run=run)
    assert _decide(rey, first.id, captured, decision="approve").status_code == 200
    second = Approval.objects.exclude(id=first.id).get(run=run)
    assert second.status == Approval.Status.PENDING
    assert second.title == "Agent wants to run notify_team"
    assert _decide(rey, second.id, captured, decision="approve").status_code == 200
    assert _steps(client_for("alice"), run)["status"] == "succeeded"
    sent = OutboxMessage.objects.filter(run_id=run.id).order_by("id")
    assert [m.to for m in sent] == ["ada@example.com", "team@example.com"]


def test_a_workflow_tool_runs_a_child_run_and_the_agent_resumes(
    client_for, personas, django_capture_on_commit_callbacks
):
    captured = django_capture_on_commit_callbacks
    greet = workflow_create(
        user=personas["alice"], name="Greet", document=load_fixture("subworkflow_body_greet.json")
    )
    workflow_publish(workflow=greet, user=personas["alice"])
    document = copy.deepcopy(load_fixture("agent_order_support.json"))
    agent = next(n for n in document["nodes"] if n["id"] == "agent")
    agent["config"]["tools"] = [
        {"name": "greet", "workflow": str(greet.id), "fixed": {"name": "{{ trigger.order_id }}"}},
    ]
    agent["config"]["prompt"] = "Please greet the customer."
    run = _start(client_for, personas, captured, document)
    run.refresh_from_db()
    assert run.status == "succeeded", run.error
    child = Run.objects.get(parent_run=run)
    assert (child.status, child.parent_node_id, child.parent_key) == ("succeeded", "agent", "agent-1")
    output = _steps(client_for("alice"), run)["agent"]["output"]
    entry = output["tool_calls"][0]
    assert (entry["tool"], entry["status"], entry["run_id"]) == ("greet", "ok", str(child.id))
    assert '"greet": {"text": "Hello A-17"}' in entry["result"]
