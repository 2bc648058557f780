"""Decided reviews are kept as examples of the LLM node that wrote the draft."""

from __future__ import annotations

from typing import Any

import pytest
from drf_spectacular.generators import SchemaGenerator

from backend.approvals.examples import source_llm_node
from backend.approvals.models import Approval, Queue, ReviewExample
from backend.runs.services import run_advance, run_start
from backend.workflows.models import WorkflowShare
from backend.workflows.selectors import workflow_published_version
from tests.backend.conftest import CUSTOMER_EMAIL, load_fixture
from tests.backend.test_openapi_schema import _check

pytestmark = pytest.mark.django_db


def start(workflow: Any, starter: Any) -> Approval:
    run = run_start(
        version=workflow_published_version(workflow=workflow), started_by=starter, inputs=CUSTOMER_EMAIL
    )
    run_advance(run_id=run.id)
    return Approval.objects.get(run=run)


def decide(client: Any, approval: Approval, captured: Any, **body: Any) -> Any:
    body.setdefault("payload_hash", approval.payload_hash)
    with captured(execute=True):
        response = client.post(f"/api/approvals/{approval.id}/decision/", body, format="json")
    assert response.status_code == 200, response.json()
    return response


def test_source_llm_node_prefers_the_field_reference_then_the_nearest_upstream_llm():
    document = load_fixture("support_reply.json")
    assert source_llm_node(document, "review") == "draft"  # named by {{ steps.draft... }}
    for node in document["nodes"]:
        if node["id"] == "review":
            node["config"]["fields"] = {"reply": "{{ trigger.body }}"}
    assert source_llm_node(document, "review") == "draft"  # nearest llm.* upstream
    plain = load_fixture("approval_email.json")
    assert source_llm_node(plain, "approve") == ""
    assert source_llm_node({"nodes": "junk"}, "x") == ""


def test_an_edited_approval_becomes_an_example_builders_can_list(
    personas, client_for, support_workflow, django_capture_on_commit_callbacks
):
    approval = start(support_workflow, personas["alice"])
    draft = dict(approval.fields)
    field = next(iter(draft))
    decide(
        client_for("rey"),
        approval,
        django_capture_on_commit_callbacks,
        decision="approve",
        edited={field: "Dear Carol, we refunded the second charge."},
        comment="Shorter and names the action.",
    )
    example = ReviewExample.objects.get(approval=approval)
    assert example.llm_node_id == "draft"
    assert example.approval_node_id == "review"
    assert example.draft == draft
    assert example.edited == {field: "Dear Carol, we refunded the second charge."}
    assert example.decision == "approved"
    assert example.reviewer == personas["rey"]

    rejected = start(support_workflow, personas["alice"])
    decide(
        client_for("rey"),
        rejected,
        django_capture_on_commit_callbacks,
        decision="reject",
        comment="Off topic",
    )

    url = f"/api/workflows/{support_workflow.id}/nodes/draft/examples/"
    response = client_for("alice").get(url)
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 2
    newest, oldest = body["results"]
    assert (newest["decision"], newest["comment"], newest["edited"]) == ("rejected", "Off topic", None)
    assert oldest["draft"] == draft
    assert oldest["edited"] == {field: "Dear Carol, we refunded the second charge."}
    assert oldest["reviewer"] == "rey"
    assert oldest["approval_id"] == approval.id
    # Another node of the workflow has none.
    assert (
        client_for("alice")
        .get(f"/api/workflows/{support_workflow.id}/nodes/classify/examples/")
        .json()["count"]
        == 0
    )


def test_examples_need_edit_access(
    personas, client_for, support_workflow, django_capture_on_commit_callbacks
):
    approval = start(support_workflow, personas["alice"])
    decide(client_for("rey"), approval, django_capture_on_commit_callbacks, decision="approve")
    url = f"/api/workflows/{support_workflow.id}/nodes/draft/examples/"
    assert client_for("admin").get(url).json()["count"] == 1
    assert client_for("bob").get(url).status_code == 404  # cannot see the workflow
    assert client_for("rey").get(url).status_code == 404
    WorkflowShare.objects.create(workflow=support_workflow, user=personas["bob"], permission="view")
    assert client_for("bob").get(url).status_code == 403
    WorkflowShare.objects.filter(user=personas["bob"]).update(permission="edit")
    assert client_for("bob").get(url).status_code == 200


def test_pending_votes_and_time_outs_are_not_examples(
    personas, client_for, support_workflow, django_capture_on_commit_callbacks
):
    approval = start(support_workflow, personas["alice"])
    Approval.objects.filter(id=approval.id).update(approvals_required=2)
    decide(client_for("rey"), approval, django_capture_on_commit_callbacks, decision="approve")
    assert Approval.objects.get(id=approval.id).status == "pending"
    assert not ReviewExample.objects.exists()


def test_new_answers_match_the_openapi_schema(
    personas, client_for, support_workflow, django_capture_on_commit_callbacks
):
    document = SchemaGenerator().get_schema(request=None, public=True)
    support = Queue.objects.get(name="Support")
    support.members.add(personas["alice"])
    workflow = support_workflow
    approval = start(workflow, personas["alice"])
    Approval.objects.filter(id=approval.id).update(allow_starter=False)
    rey, alice, admin = client_for("rey"), client_for("alice"), client_for("admin")
    _check(document, "/api/approvals/{approval_id}/", "get", rey.get(f"/api/approvals/{approval.id}/"))
    four_eyes = alice.post(f"/api/approvals/{approval.id}/claim/")
    assert four_eyes.status_code == 403
    _check(document, "/api/approvals/{approval_id}/claim/", "post", four_eyes)
    _check(document, "/api/queues/", "get", admin.get("/api/queues/"))
    _check(
        document,
        "/api/queues/{queue_id}/",
        "patch",
        admin.patch(f"/api/queues/{support.id}/", {"notify_events": ["created"]}, format="json"),
    )
    decide(rey, approval, django_capture_on_commit_callbacks, decision="approve", edited={"reply": "Hi"})
    url = f"/api/workflows/{workflow.id}/nodes/draft/examples/"
    body = _check(document, "/api/workflows/{workflow_id}/nodes/{node_id}/examples/", "get", alice.get(url))
    assert body["count"] == 1
