"""The walking skeleton's journey through the API: run, wait for review, edit, approve, send."""

from __future__ import annotations

import pytest

from backend.approvals.models import Approval
from backend.audit.models import AuditEvent
from backend.connectors.models import OutboxMessage
from backend.runs.models import Run, RunEvent
from tests.backend.conftest import CUSTOMER_EMAIL

pytestmark = pytest.mark.django_db


@pytest.fixture
def waiting_run(client_for, support_workflow, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for("alice").post(
            f"/api/workflows/{support_workflow.id}/runs/", {"inputs": CUSTOMER_EMAIL}, format="json"
        )
    assert response.status_code == 201, response.content
    return Run.objects.get(id=response.json()["id"])


def _decide(client, approval_id, captured, **body):
    with captured(execute=True):
        return client.post(f"/api/approvals/{approval_id}/decision/", body, format="json")


def test_run_waits_for_review_with_the_draft(client_for, waiting_run):
    run = client_for("alice").get(f"/api/runs/{waiting_run.id}/").json()
    assert run["status"] == "waiting"
    steps = {s["node_id"]: s for s in run["steps"]}
    assert [steps[n]["status"] for n in ("trigger", "classify", "draft", "review")] == [
        "succeeded",
        "succeeded",
        "succeeded",
        "waiting",
    ]
    assert steps["classify"]["output"]["label"] == "refund"
    assert steps["draft"]["model"] == "demo"
    assert "demo model" in steps["draft"]["output"]["text"]
    assert "send" not in steps

    inbox = client_for("rey").get("/api/approvals/").json()
    assert inbox["count"] == 1
    item = client_for("rey").get(f"/api/approvals/{inbox['results'][0]['id']}/").json()
    assert item["queue"] == "Support"
    assert item["context"]["Customer e-mail"] == CUSTOMER_EMAIL["body"]
    assert item["fields"]["reply"] == steps["draft"]["output"]["text"]


def test_edited_approval_resumes_and_sends_the_edited_text(
    client_for, waiting_run, django_capture_on_commit_callbacks
):
    rey = client_for("rey")
    approval = Approval.objects.get(run=waiting_run)
    detail = rey.post(f"/api/approvals/{approval.id}/claim/").json()
    assert detail["claimed_by"] == "rey"
    edited = "Dear Carol, we refunded the second charge. Sorry! — Rey"
    response = _decide(
        rey,
        approval.id,
        django_capture_on_commit_callbacks,
        decision="approve",
        edited={"reply": edited},
        comment="tone",
        payload_hash=detail["payload_hash"],
    )
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "approved"

    run = client_for("alice").get(f"/api/runs/{waiting_run.id}/").json()
    assert run["status"] == "succeeded"
    mail = OutboxMessage.objects.get(run_id=waiting_run.id)
    assert (mail.to, mail.subject, mail.body) == (CUSTOMER_EMAIL["from"], "Re: Refund for order 1234", edited)
    outbox = client_for("alice").get("/api/outbox/").json()
    assert outbox["results"][0]["body"] == edited
    assert AuditEvent.objects.filter(action="approval.approved").exists()

    statuses = list(
        RunEvent.objects.filter(run=waiting_run, type="run.status").values_list("data__status", flat=True)
    )
    assert statuses[0] == "queued"
    assert statuses[-1] == "succeeded"
    assert "waiting" in statuses
    seqs = list(RunEvent.objects.filter(run=waiting_run).values_list("seq", flat=True))
    assert seqs == list(range(1, len(seqs) + 1))


def test_rejection_ends_the_run_without_sending(client_for, waiting_run, django_capture_on_commit_callbacks):
    rey = client_for("rey")
    approval = Approval.objects.get(run=waiting_run)
    detail = rey.get(f"/api/approvals/{approval.id}/").json()
    response = _decide(
        rey,
        approval.id,
        django_capture_on_commit_callbacks,
        decision="reject",
        comment="no",
        payload_hash=detail["payload_hash"],
    )
    assert response.status_code == 200
    run = client_for("alice").get(f"/api/runs/{waiting_run.id}/").json()
    assert run["status"] == "succeeded"
    assert {s["node_id"]: s["status"] for s in run["steps"]}["send"] == "skipped"
    assert not OutboxMessage.objects.exists()


def test_second_decision_is_409_and_nothing_is_sent_twice(
    client_for, personas, waiting_run, django_capture_on_commit_callbacks
):
    approval = Approval.objects.get(run=waiting_run)
    admin = client_for("admin")
    digest = admin.get(f"/api/approvals/{approval.id}/").json()["payload_hash"]
    first = _decide(
        admin, approval.id, django_capture_on_commit_callbacks, decision="approve", payload_hash=digest
    )
    assert first.status_code == 200
    second = _decide(
        client_for("rey"),
        approval.id,
        django_capture_on_commit_callbacks,
        decision="reject",
        payload_hash=digest,
    )
    assert second.status_code == 409
    assert second.json()["error"]["code"] == "APPROVAL_DECIDED"
    assert OutboxMessage.objects.count() == 1


def test_decision_against_another_payload_is_409(client_for, waiting_run, django_capture_on_commit_callbacks):
    approval = Approval.objects.get(run=waiting_run)
    response = _decide(
        client_for("rey"),
        approval.id,
        django_capture_on_commit_callbacks,
        decision="approve",
        payload_hash="0" * 64,
    )
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "PAYLOAD_CHANGED"
    assert Run.objects.get(id=waiting_run.id).status == "waiting"


def test_claimed_item_cannot_be_claimed_by_another_reviewer(client_for, personas, waiting_run):
    approval = Approval.objects.get(run=waiting_run)
    assert client_for("rey").post(f"/api/approvals/{approval.id}/claim/").status_code == 200
    other = client_for("admin").post(f"/api/approvals/{approval.id}/claim/")
    assert other.status_code == 409
    assert other.json()["error"]["code"] == "APPROVAL_CLAIMED"


@pytest.mark.parametrize("edited", [["list"], {"not_a_field": "x"}, {"reply": 42}])
def test_bad_edits_are_400_and_the_item_stays_pending(client_for, waiting_run, edited):
    rey = client_for("rey")
    approval = Approval.objects.get(run=waiting_run)
    digest = rey.get(f"/api/approvals/{approval.id}/").json()["payload_hash"]
    response = rey.post(
        f"/api/approvals/{approval.id}/decision/",
        {"decision": "approve", "edited": edited, "payload_hash": digest},
        format="json",
    )
    assert response.status_code == 400
    assert Approval.objects.get(id=approval.id).status == "pending"


def test_approvals_are_visible_only_to_queue_members(client_for, waiting_run):
    approval = Approval.objects.get(run=waiting_run)
    for outsider in ("otto", "vic", "bob"):
        client = client_for(outsider)
        assert client.get("/api/approvals/").json()["count"] == 0
        assert client.get(f"/api/approvals/{approval.id}/").status_code == 404
        response = client.post(
            f"/api/approvals/{approval.id}/decision/",
            {"decision": "approve", "payload_hash": approval.payload_hash},
            format="json",
        )
        assert response.status_code == 404


def test_someone_elses_run_is_404(client_for, waiting_run):
    for outsider in ("bob", "rey"):
        client = client_for(outsider)
        assert client.get(f"/api/runs/{waiting_run.id}/").status_code == 404
        assert client.post(f"/api/runs/{waiting_run.id}/cancel/").status_code == 404
        assert client.get("/api/runs/").json()["count"] == 0


@pytest.mark.parametrize(
    "inputs",
    [{}, {"from": "a@b.c", "subject": "s"}, "not an object", {"from": 5, "subject": "s", "body": "b"}],
)
def test_bad_trigger_input_is_400_and_starts_nothing(client_for, support_workflow, inputs):
    response = client_for("alice").post(
        f"/api/workflows/{support_workflow.id}/runs/", {"inputs": inputs}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "INPUT_INVALID"
    assert not Run.objects.exists()


def test_cancel_a_waiting_run(client_for, waiting_run):
    response = client_for("alice").post(f"/api/runs/{waiting_run.id}/cancel/")
    assert response.status_code == 200
    assert response.json()["status"] == "cancelled"
    assert Approval.objects.get(run=waiting_run).status == "cancelled"
    again = client_for("alice").post(f"/api/runs/{waiting_run.id}/cancel/")
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "RUN_FINISHED"


def test_running_the_draft_snapshots_it(client_for, support_workflow, django_capture_on_commit_callbacks):
    client = client_for("alice")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            f"/api/workflows/{support_workflow.id}/runs/",
            {"inputs": CUSTOMER_EMAIL, "source": "draft"},
            format="json",
        )
    assert response.status_code == 201
    # identical to the published v1: reused, not copied again
    assert response.json()["version"] == 1


def test_unpublished_workflow_cannot_run_published(client_for):
    client = client_for("alice")
    wf = client.post("/api/workflows/", {"name": "empty"}, format="json").json()
    response = client.post(f"/api/workflows/{wf['id']}/runs/", {"inputs": {}}, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "WORKFLOW_NOT_PUBLISHED"
