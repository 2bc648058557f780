"""Review options of ``human.approval`` in the inbox: N of M, four eyes, change requests, deadlines."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from backend.accounts.models import User
from backend.accounts.services import user_upsert
from backend.approvals.models import Approval, ApprovalVote, Queue
from backend.approvals.services import approvals_handle_due
from backend.audit.models import AuditEvent
from backend.connectors.models import OutboxMessage
from backend.runs.models import Run, StepRun
from backend.runs.services import run_advance, run_start
from backend.workflows.models import Workflow
from backend.workflows.selectors import workflow_published_version
from backend.workflows.services import workflow_create, workflow_publish
from tests.backend.conftest import CUSTOMER_EMAIL, PASSWORD, load_fixture

pytestmark = pytest.mark.django_db


def make_workflow(owner: User, name: str = "Reviewed reply", **review: Any) -> Workflow:
    """The support-reply workflow with extra ``human.approval`` options on its review step."""
    document = load_fixture("support_reply.json")
    for node in document["nodes"]:
        if node["id"] == "review":
            node["config"].update(review)
    workflow = workflow_create(user=owner, name=name, document=document)
    workflow_publish(workflow=workflow, user=owner, note="v1")
    return workflow


def start_waiting(workflow: Workflow, starter: User) -> Approval:
    run = run_start(
        version=workflow_published_version(workflow=workflow), started_by=starter, inputs=CUSTOMER_EMAIL
    )
    run_advance(run_id=run.id)
    return Approval.objects.get(run=run)


def decide(client: Any, approval: Approval, captured: Any, **body: Any) -> Any:
    body.setdefault("payload_hash", approval.payload_hash)
    with captured(execute=True):
        return client.post(f"/api/approvals/{approval.id}/decision/", body, format="json")


def review_step(approval: Approval) -> StepRun:
    return StepRun.objects.get(run_id=approval.run_id, node_id="review")


@pytest.fixture
def reviewers(personas: dict[str, User]) -> dict[str, User]:
    """Three Support reviewers: rey, ria and ray."""
    support = Queue.objects.get(name="Support")
    extra = {n: user_upsert(username=n, password=PASSWORD, role=User.Role.REVIEWER) for n in ("ria", "ray")}
    support.members.add(*extra.values())
    return {"rey": personas["rey"], **extra}


@pytest.fixture
def client_of(reviewers: dict[str, User], client_for: Any) -> Any:
    from rest_framework.test import APIClient

    def make(name: str) -> APIClient:
        if name in ("ria", "ray"):
            client = APIClient()
            client.force_authenticate(reviewers[name])
            return client
        return client_for(name)

    return make


def test_defaults_keep_one_approver_and_no_deadline(personas, support_workflow):
    approval = start_waiting(support_workflow, personas["alice"])
    assert (approval.approvals_required, approval.allow_starter, approval.due_at, approval.escalate_to) == (
        1,
        True,
        None,
        "",
    )


def test_two_of_three_waits_after_one_and_resumes_after_two_distinct(
    personas, reviewers, client_of, django_capture_on_commit_callbacks
):
    workflow = make_workflow(personas["alice"], approvals_required=2)
    approval = start_waiting(workflow, personas["alice"])
    assert approval.approvals_required == 2

    first = decide(
        client_of("rey"),
        approval,
        django_capture_on_commit_callbacks,
        decision="approve",
        edited={"reply": "From Rey"},
    )
    assert first.status_code == 200, first.content
    assert (first.json()["status"], first.json()["approvals_count"]) == ("pending", 1)
    assert Run.objects.get(id=approval.run_id).status == "waiting"

    again = decide(client_of("rey"), approval, django_capture_on_commit_callbacks, decision="approve")
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "ALREADY_VOTED"
    assert ApprovalVote.objects.filter(approval=approval).count() == 1
    assert Run.objects.get(id=approval.run_id).status == "waiting"

    second = decide(
        client_of("ria"),
        approval,
        django_capture_on_commit_callbacks,
        decision="approve",
        edited={"reply": "From Ria"},
    )
    assert second.status_code == 200, second.content
    body = second.json()
    assert (body["status"], body["approvals_count"], body["decided_by"]) == ("approved", 2, "ria")
    assert body["edited"] == {"reply": "From Ria"}  # the last approver's edits win
    assert [v["user"] for v in body["votes"]] == ["rey", "ria"]
    run = Run.objects.get(id=approval.run_id)
    assert run.status == "succeeded"
    assert [m.body for m in OutboxMessage.objects.filter(run=run)] == ["From Ria"]

    late = decide(client_of("ray"), approval, django_capture_on_commit_callbacks, decision="approve")
    assert late.json()["error"]["code"] == "APPROVAL_DECIDED"
    assert AuditEvent.objects.filter(action="approval.voted").count() == 1


def test_earlier_edits_survive_when_the_last_approver_edits_nothing(
    personas, reviewers, client_of, django_capture_on_commit_callbacks
):
    workflow = make_workflow(personas["alice"], approvals_required=2)
    approval = start_waiting(workflow, personas["alice"])
    decide(
        client_of("rey"),
        approval,
        django_capture_on_commit_callbacks,
        decision="approve",
        edited={"reply": "R"},
    )
    done = decide(client_of("ria"), approval, django_capture_on_commit_callbacks, decision="approve")
    assert done.json()["edited"] == {"reply": "R"}
    assert review_step(approval).output["values"] == {"reply": "R"}


def test_one_rejection_rejects_even_after_an_approval(
    personas, reviewers, client_of, django_capture_on_commit_callbacks
):
    workflow = make_workflow(personas["alice"], approvals_required=3)
    approval = start_waiting(workflow, personas["alice"])
    decide(client_of("rey"), approval, django_capture_on_commit_callbacks, decision="approve")
    no = decide(
        client_of("ria"), approval, django_capture_on_commit_callbacks, decision="reject", comment="no"
    )
    assert no.json()["status"] == "rejected"
    assert review_step(approval).output["decision"] == "rejected"
    assert not OutboxMessage.objects.filter(run_id=approval.run_id).exists()


def test_four_eyes_forbids_the_starter(personas, client_for, django_capture_on_commit_callbacks):
    Queue.objects.get(name="Support").members.add(personas["alice"])
    workflow = make_workflow(personas["alice"], allow_starter=False)
    approval = start_waiting(workflow, personas["alice"])
    assert approval.allow_starter is False
    claim = client_for("alice").post(f"/api/approvals/{approval.id}/claim/")
    assert claim.status_code == 403
    assert claim.json()["error"]["code"] == "FOUR_EYES"
    assert "someone else" in claim.json()["error"]["message"]
    assert Approval.objects.get(id=approval.id).claimed_by_id is None
    own = decide(client_for("alice"), approval, django_capture_on_commit_callbacks, decision="approve")
    assert own.status_code == 403
    assert own.json()["error"]["code"] == "FOUR_EYES"
    other = decide(client_for("rey"), approval, django_capture_on_commit_callbacks, decision="approve")
    assert other.status_code == 200
    # Without the option the starter may decide.
    plain = start_waiting(make_workflow(personas["alice"], name="Plain"), personas["alice"])
    assert (
        decide(client_for("alice"), plain, django_capture_on_commit_callbacks, decision="approve").status_code
        == 200
    )


def test_request_changes_needs_a_comment_and_fires_the_changes_port(
    personas, client_for, django_capture_on_commit_callbacks
):
    # Without redraft_from the 'changes' port fires (with it, see test_review_rounds.py).
    workflow = make_workflow(personas["alice"], name="No rounds", redraft_from=None)
    approval = start_waiting(workflow, personas["alice"])
    rey = client_for("rey")
    bare = decide(rey, approval, django_capture_on_commit_callbacks, decision="request_changes", comment=" ")
    assert bare.status_code == 400
    assert bare.json()["error"]["details"][0]["field"] == "comment"
    asked = decide(
        rey,
        approval,
        django_capture_on_commit_callbacks,
        decision="request_changes",
        comment="Mention the refund delay.",
    )
    assert asked.status_code == 200, asked.content
    assert (asked.json()["status"], asked.json()["decision"]) == ("changes_requested", "request_changes")
    step = review_step(approval)
    assert step.output["decision"] == "changes_requested"
    assert step.output["feedback"] == "Mention the refund delay."
    run = Run.objects.get(id=approval.run_id)
    assert run.status == "succeeded"
    assert not OutboxMessage.objects.filter(run=run).exists()  # only "approved" leads to the e-mail
    assert AuditEvent.objects.filter(action="approval.changes_requested").exists()


def test_due_time_out_resumes_on_the_timeout_port(
    personas, support_workflow, django_capture_on_commit_callbacks
):
    workflow = make_workflow(personas["alice"], due_in_minutes=10)
    before = timezone.now()
    approval = start_waiting(workflow, personas["alice"])
    assert before + timedelta(minutes=10) <= approval.due_at <= timezone.now() + timedelta(minutes=10)
    assert approvals_handle_due(now=approval.due_at - timedelta(seconds=1)) == {
        "escalated": 0,
        "timed_out": 0,
    }
    with django_capture_on_commit_callbacks(execute=True):
        assert approvals_handle_due(now=approval.due_at) == {"escalated": 0, "timed_out": 1}
    approval.refresh_from_db()
    assert approval.status == "timed_out"
    assert review_step(approval).output["decision"] == "timed_out"
    assert Run.objects.get(id=approval.run_id).status == "succeeded"
    assert AuditEvent.objects.filter(action="approval.timed_out").exists()
    assert approvals_handle_due(now=approval.due_at + timedelta(days=1)) == {"escalated": 0, "timed_out": 0}


def test_due_escalation_moves_the_item_once_then_times_out(
    personas, client_for, monkeypatch, django_capture_on_commit_callbacks
):
    sent: list[tuple[str, str]] = []
    monkeypatch.setattr(
        "backend.approvals.events.publish_to_group",
        lambda group, msg: sent.append((group, msg["event"]["type"])),
    )
    workflow = make_workflow(personas["alice"], due_in_minutes=30, on_due="escalate", escalate_to="Billing")
    approval = start_waiting(workflow, personas["alice"])
    client_for("rey").post(f"/api/approvals/{approval.id}/claim/")
    support, billing = Queue.objects.get(name="Support"), Queue.objects.get(name="Billing")
    later = approval.due_at + timedelta(seconds=5)
    with django_capture_on_commit_callbacks(execute=True):
        assert approvals_handle_due(now=later) == {"escalated": 1, "timed_out": 0}
    approval.refresh_from_db()
    assert (approval.queue_id, approval.claimed_by, approval.status) == (billing.id, None, "pending")
    assert approval.due_at == later + timedelta(minutes=30)
    assert {g for g, kind in sent if kind == "approval.escalated"} == {
        f"inbox.queue.{support.id}",
        f"inbox.queue.{billing.id}",
        "inbox.admin",
    }
    audit = AuditEvent.objects.get(action="approval.escalated")
    assert (audit.data["from"], audit.data["to"]) == ("Support", "Billing")
    assert client_for("rey").get(f"/api/approvals/{approval.id}/").status_code == 404
    detail = client_for("otto").get(f"/api/approvals/{approval.id}/").json()
    assert (detail["queue"], detail["escalate_to"]) == ("Billing", "Billing")
    assert Run.objects.get(id=approval.run_id).status == "waiting"

    with django_capture_on_commit_callbacks(execute=True):
        assert approvals_handle_due(now=approval.due_at) == {"escalated": 0, "timed_out": 1}
    assert review_step(approval).output["decision"] == "timed_out"


def test_bad_decisions_are_400_not_500(
    personas, client_for, support_workflow, django_capture_on_commit_callbacks
):
    approval = start_waiting(support_workflow, personas["alice"])
    rey = client_for("rey")
    for body in (
        {"decision": "maybe"},
        {"decision": "approve", "edited": ["x"]},
        {"decision": "approve", "edited": {"x": "y"}},
    ):
        response = decide(rey, approval, django_capture_on_commit_callbacks, **body)
        assert response.status_code == 400, body
    assert not ApprovalVote.objects.exists()


# --- Who may do what --------------------------------------------------------------------------

EXPECTED = {
    # role: (sees it in the list, detail, claim, decide)
    "admin": (True, 200, 200, 200),
    "alice": (False, 404, 404, 404),  # builder, owns the workflow, not in the queue
    "rey": (True, 200, 200, 200),  # reviewer in Support
    "otto": (False, 404, 404, 404),  # reviewer in Billing only
    "vic": (False, 404, 404, 404),  # viewer
}


@pytest.mark.parametrize("role", sorted(EXPECTED))
def test_permission_matrix(role, personas, client_for, support_workflow, django_capture_on_commit_callbacks):
    approval = start_waiting(support_workflow, personas["bob"])
    client = client_for(role)
    listed, detail, claim, decision = EXPECTED[role]
    page = client.get("/api/approvals/?status=all")
    assert page.status_code == 200
    assert (approval.id in [a["id"] for a in page.json()["results"]]) is listed
    assert client.get(f"/api/approvals/{approval.id}/").status_code == detail
    assert client.post(f"/api/approvals/{approval.id}/claim/").status_code == claim
    assert (
        decide(client, approval, django_capture_on_commit_callbacks, decision="approve").status_code
        == decision
    )
    stats = client.get("/api/approvals/stats/").json()
    assert bool(stats["queues"]) is listed
    queues = {q["name"] for q in client.get("/api/queues/").json()}
    assert ("Support" in queues) is listed
