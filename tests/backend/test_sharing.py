"""Per-workflow sharing with users and queues: issue 8."""

from __future__ import annotations

import pytest

from backend.audit.models import AuditEvent
from backend.workflows.models import WorkflowShare
from tests.backend.conftest import CUSTOMER_EMAIL

pytestmark = pytest.mark.django_db


def _share(client, workflow_id, **body):
    return client.post(f"/api/workflows/{workflow_id}/shares/", body, format="json")


def _names(client):
    return [w["name"] for w in client.get("/api/workflows/").json()["results"]]


def test_bob_sees_nothing_until_shared(client_for, support_workflow):
    bob = client_for("bob")
    wid = support_workflow.id
    assert _names(bob) == []
    response = bob.get(f"/api/workflows/{wid}/")
    assert response.status_code == 404
    assert support_workflow.name not in response.content.decode()
    assert bob.get(f"/api/workflows/{wid}/shares/").status_code == 404
    assert _share(bob, wid, username="bob", permission="edit").status_code == 404


def test_view_share_lets_bob_read_but_not_save_run_or_share(client_for, support_workflow):
    wid = support_workflow.id
    created = _share(client_for("alice"), wid, username="bob", permission="view")
    assert created.status_code == 201, created.json()
    assert created.json()["user"] == "bob"
    assert created.json()["queue"] is None
    bob = client_for("bob")
    assert _names(bob) == [support_workflow.name]
    detail = bob.get(f"/api/workflows/{wid}/")
    assert detail.status_code == 200
    assert detail.json()["can_edit"] is False
    assert detail.json()["can_run"] is False
    assert bob.patch(f"/api/workflows/{wid}/", {"name": "hijack"}, format="json").status_code == 403
    run = bob.post(f"/api/workflows/{wid}/runs/", {"inputs": CUSTOMER_EMAIL}, format="json")
    assert run.status_code == 403
    assert bob.get(f"/api/workflows/{wid}/shares/").status_code == 403
    assert _share(bob, wid, username="vic", permission="view").status_code == 403


def test_run_share_lets_bob_start_a_run(client_for, support_workflow, django_capture_on_commit_callbacks):
    wid = support_workflow.id
    _share(client_for("alice"), wid, username="bob", permission="run")
    bob = client_for("bob")
    with django_capture_on_commit_callbacks(execute=True):
        run = bob.post(f"/api/workflows/{wid}/runs/", {"inputs": CUSTOMER_EMAIL}, format="json")
    assert run.status_code == 201, run.json()
    assert bob.patch(f"/api/workflows/{wid}/", {"name": "hijack"}, format="json").status_code == 403


def test_edit_share_lets_bob_save_and_share(client_for, support_workflow):
    wid = support_workflow.id
    _share(client_for("alice"), wid, username="bob", permission="edit")
    bob = client_for("bob")
    revision = bob.get(f"/api/workflows/{wid}/").json()["revision"]
    saved = bob.patch(
        f"/api/workflows/{wid}/", {"name": "Renamed by bob", "revision": revision}, format="json"
    )
    assert saved.status_code == 200, saved.json()
    assert _share(bob, wid, username="vic", permission="view").status_code == 201
    assert len(bob.get(f"/api/workflows/{wid}/shares/").json()["results"]) == 2


def test_edit_for_a_viewer_or_reviewer_is_capped_at_run(client_for, support_workflow):
    wid = support_workflow.id
    alice = client_for("alice")
    for who in ("vic", "rey"):
        assert _share(alice, wid, username=who, permission="edit").status_code == 201
        client = client_for(who)
        detail = client.get(f"/api/workflows/{wid}/").json()
        assert detail["can_run"] is True
        assert detail["can_edit"] is False
        assert client.patch(f"/api/workflows/{wid}/", {"name": "x"}, format="json").status_code == 403


def test_queue_share_reaches_members_only(client_for, support_workflow):
    wid = support_workflow.id
    response = _share(client_for("alice"), wid, queue="Support", permission="run")
    assert response.status_code == 201, response.json()
    assert response.json()["queue"] == "Support"
    assert response.json()["user"] is None
    rey = client_for("rey")  # in Support
    assert _names(rey) == [support_workflow.name]
    assert rey.get(f"/api/workflows/{wid}/").json()["can_run"] is True
    otto = client_for("otto")  # in Billing
    assert _names(otto) == []
    assert otto.get(f"/api/workflows/{wid}/").status_code == 404


def test_strongest_of_user_and_queue_share_wins(client_for, support_workflow, personas):
    from backend.approvals.models import Queue

    Queue.objects.get(name="Support").members.add(personas["bob"])
    wid = support_workflow.id
    alice = client_for("alice")
    _share(alice, wid, username="bob", permission="view")
    _share(alice, wid, queue="Support", permission="edit")
    assert client_for("bob").get(f"/api/workflows/{wid}/").json()["can_edit"] is True
    assert _names(client_for("bob")) == [support_workflow.name]  # no duplicates


def test_sharing_again_changes_the_permission(client_for, support_workflow):
    wid = support_workflow.id
    alice = client_for("alice")
    first = _share(alice, wid, username="bob", permission="view")
    second = _share(alice, wid, username="bob", permission="run")
    assert second.status_code == 200
    assert second.json()["id"] == first.json()["id"]
    assert second.json()["permission"] == "run"
    assert WorkflowShare.objects.filter(workflow=support_workflow).count() == 1
    events = AuditEvent.objects.filter(action="workflow.share").order_by("id")
    assert [(e.data["before"], e.data["after"]) for e in events] == [(None, "view"), ("view", "run")]


def test_delete_share_revokes_access(client_for, support_workflow):
    wid = support_workflow.id
    alice = client_for("alice")
    share_id = _share(alice, wid, username="bob", permission="view").json()["id"]
    assert client_for("bob").delete(f"/api/workflows/{wid}/shares/{share_id}/").status_code == 403
    assert alice.delete(f"/api/workflows/{wid}/shares/{share_id}/").status_code == 204
    assert client_for("bob").get(f"/api/workflows/{wid}/").status_code == 404
    assert alice.delete(f"/api/workflows/{wid}/shares/{share_id}/").status_code == 404
    assert AuditEvent.objects.filter(action="workflow.unshare").count() == 1


def test_admin_may_manage_shares(client_for, support_workflow):
    response = _share(client_for("admin"), support_workflow.id, username="bob", permission="view")
    assert response.status_code == 201


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"permission": "view"}, "SHARE_TARGET_INVALID"),
        ({"username": "bob", "queue": "Support", "permission": "view"}, "SHARE_TARGET_INVALID"),
        ({"username": "alice", "permission": "view"}, "SHARE_TARGET_INVALID"),
        ({"username": "nobody", "permission": "view"}, "SHARE_TARGET_NOT_FOUND"),
        ({"queue": "Nope", "permission": "view"}, "SHARE_TARGET_NOT_FOUND"),
        ({"username": "bob", "permission": "own"}, "BAD_REQUEST"),
    ],
)
def test_bad_share_requests_are_400(client_for, support_workflow, body, code):
    response = _share(client_for("alice"), support_workflow.id, **body)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == code
