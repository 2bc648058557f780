"""Publish review: with the policy on, a version waits for another builder before going live."""

from __future__ import annotations

import pytest

from backend.audit.models import AuditEvent
from backend.policies.models import Policy
from backend.workflows.models import VersionReview, Workflow, WorkflowShare
from backend.workflows.selectors import workflow_published_number

pytestmark = pytest.mark.django_db


@pytest.fixture
def reviewed(support_workflow: Workflow, personas) -> Workflow:
    """alice's workflow (v1 live), publish review on, bob may edit it."""
    Policy.objects.create(workflow=support_workflow, publish_review=True)
    WorkflowShare.objects.create(workflow=support_workflow, user=personas["bob"], permission="edit")
    return support_workflow


def _publish(client, workflow: Workflow, note: str = "v2") -> dict:
    response = client.post(f"/api/workflows/{workflow.id}/publish/", {"note": note}, format="json")
    assert response.status_code == 201, response.json()
    return response.json()


def _decide(client, review_id: int, decision: str, comment: str = ""):
    return client.post(
        f"/api/version-reviews/{review_id}/decision/",
        {"decision": decision, "comment": comment},
        format="json",
    )


def test_without_the_policy_publish_goes_live_at_once(support_workflow, client_for):
    body = _publish(client_for("alice"), support_workflow)
    assert body["published"] is True
    assert body["review"] is None
    assert workflow_published_number(workflow=support_workflow) == body["number"]


def test_publish_creates_a_pending_review_and_keeps_the_old_version_live(reviewed, client_for):
    body = _publish(client_for("alice"), reviewed)
    assert body["published"] is False
    assert body["review"]["status"] == "pending"
    assert workflow_published_number(workflow=reviewed) == 1
    review = VersionReview.objects.get(id=body["review"]["id"])
    assert (review.base_number, review.version.number, review.requested_by.username) == (1, 2, "alice")
    assert AuditEvent.objects.filter(action="workflow.publish_requested").count() == 1
    # The runs of the workflow still use v1.
    detail = client_for("alice").get(f"/api/workflows/{reviewed.id}/").json()
    assert detail["published_version"] == 1


def test_another_builder_approves_and_the_version_goes_live(reviewed, client_for):
    review_id = _publish(client_for("alice"), reviewed)["review"]["id"]
    inbox = client_for("bob").get("/api/version-reviews/").json()
    assert [r["id"] for r in inbox["results"]] == [review_id]
    assert inbox["results"][0]["can_decide"] is True
    assert inbox["results"][0]["base_number"] == 1

    response = _decide(client_for("bob"), review_id, "approve", "Looks good")
    assert response.status_code == 200, response.json()
    assert response.json()["status"] == "approved"
    assert response.json()["decided_by"] == "bob"
    assert workflow_published_number(workflow=reviewed) == 2
    event = AuditEvent.objects.get(action="workflow.publish_approved")
    assert event.data["version"] == 2
    assert client_for("bob").get("/api/version-reviews/").json()["results"] == []


def test_reject_leaves_the_previous_version_live(reviewed, client_for):
    review_id = _publish(client_for("alice"), reviewed)["review"]["id"]
    response = _decide(client_for("admin"), review_id, "reject", "Not yet")
    assert response.status_code == 200
    assert response.json()["status"] == "rejected"
    assert response.json()["comment"] == "Not yet"
    assert workflow_published_number(workflow=reviewed) == 1
    assert AuditEvent.objects.filter(action="workflow.publish_rejected").count() == 1


def test_the_author_may_not_approve_their_own_version(reviewed, client_for):
    # Even an admin author needs someone else.
    review_id = _publish(client_for("admin"), reviewed)["review"]["id"]
    response = _decide(client_for("admin"), review_id, "approve")
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "FOUR_EYES"
    detail = client_for("admin").get(f"/api/version-reviews/{review_id}/").json()
    assert detail["can_decide"] is False
    assert workflow_published_number(workflow=reviewed) == 1


def test_a_second_decision_is_a_conflict(reviewed, client_for):
    review_id = _publish(client_for("alice"), reviewed)["review"]["id"]
    assert _decide(client_for("bob"), review_id, "approve").status_code == 200
    again = _decide(client_for("admin"), review_id, "reject")
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "REVIEW_DECIDED"
    assert workflow_published_number(workflow=reviewed) == 2


def test_view_only_builders_and_strangers_cannot_decide(reviewed, client_for, personas):
    review_id = _publish(client_for("alice"), reviewed)["review"]["id"]
    WorkflowShare.objects.filter(user=personas["bob"]).update(permission="view")
    assert _decide(client_for("bob"), review_id, "approve").status_code == 403
    WorkflowShare.objects.filter(user=personas["bob"]).delete()
    assert _decide(client_for("bob"), review_id, "approve").status_code == 404
    assert client_for("bob").get("/api/version-reviews/").json()["results"] == []
    assert client_for("vic").get(f"/api/version-reviews/{review_id}/").status_code == 404


def test_a_newer_publish_supersedes_the_pending_review(reviewed, client_for):
    first = _publish(client_for("alice"), reviewed, "v2")["review"]["id"]
    second = _publish(client_for("alice"), reviewed, "v3")["review"]["id"]
    assert VersionReview.objects.get(id=first).status == "superseded"
    assert _decide(client_for("bob"), first, "approve").status_code == 409
    assert _decide(client_for("bob"), second, "approve").status_code == 200
    assert workflow_published_number(workflow=reviewed) == 3


def test_the_version_list_shows_the_review_state(reviewed, client_for):
    _publish(client_for("alice"), reviewed)
    versions = client_for("alice").get(f"/api/workflows/{reviewed.id}/versions/").json()["results"]
    assert versions[0]["review"]["status"] == "pending"
    assert versions[0]["published"] is False
    assert versions[1]["review"] is None


@pytest.mark.parametrize("body", [{}, {"decision": "maybe"}, {"decision": ["approve"]}, "nope"])
def test_bad_decisions_are_400(reviewed, client_for, body):
    review_id = _publish(client_for("alice"), reviewed)["review"]["id"]
    response = client_for("bob").post(f"/api/version-reviews/{review_id}/decision/", body, format="json")
    assert response.status_code == 400
    assert VersionReview.objects.get(id=review_id).status == "pending"
