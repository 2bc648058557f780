"""Review queues: who sees them, and admin-only management."""

from __future__ import annotations

import pytest

from backend.approvals.models import Queue
from backend.audit.models import AuditEvent
from tests.backend.test_approvals_review import start_waiting

pytestmark = pytest.mark.django_db


def test_admins_see_every_queue_with_members_others_their_own(client_for):
    admin = client_for("admin").get("/api/queues/")
    assert admin.status_code == 200
    assert {q["name"]: q["members"] for q in admin.json()} == {"Billing": ["otto"], "Support": ["rey"]}
    assert [q["name"] for q in client_for("rey").get("/api/queues/").json()] == ["Support"]
    assert client_for("vic").get("/api/queues/").json() == []


def test_admin_creates_updates_and_deletes_a_queue(client_for):
    admin = client_for("admin")
    created = admin.post(
        "/api/queues/",
        {"name": "Legal", "description": "Contracts", "members": ["rey", "otto"]},
        format="json",
    )
    assert created.status_code == 201, created.content
    body = created.json()
    assert (body["name"], body["members"], body["pending"]) == ("Legal", ["otto", "rey"], 0)
    queue_id = body["id"]
    assert [q["name"] for q in client_for("otto").get("/api/queues/").json()] == ["Billing", "Legal"]

    duplicate = admin.post("/api/queues/", {"name": "Legal"}, format="json")
    assert (duplicate.status_code, duplicate.json()["error"]["code"]) == (409, "QUEUE_EXISTS")
    unknown = admin.post("/api/queues/", {"name": "X", "members": ["ghost", "rey"]}, format="json")
    assert unknown.status_code == 400
    assert "ghost" in unknown.json()["error"]["message"]
    assert not Queue.objects.filter(name="X").exists()

    patched = admin.patch(f"/api/queues/{queue_id}/", {"members": ["vic"]}, format="json")
    assert patched.status_code == 200
    assert (patched.json()["members"], patched.json()["description"]) == (["vic"], "Contracts")
    renamed = admin.patch(f"/api/queues/{queue_id}/", {"name": "Law"}, format="json").json()
    assert (renamed["name"], renamed["members"]) == ("Law", ["vic"])
    assert admin.patch(f"/api/queues/{queue_id}/", {"members": ["nobody"]}, format="json").status_code == 400
    assert admin.patch(f"/api/queues/{queue_id}/", {"name": "Support"}, format="json").status_code == 409

    assert admin.delete(f"/api/queues/{queue_id}/").status_code == 204
    assert not Queue.objects.filter(id=queue_id).exists()
    assert admin.delete(f"/api/queues/{queue_id}/").status_code == 404
    assert {"queue.create", "queue.update", "queue.delete"} <= set(
        AuditEvent.objects.values_list("action", flat=True)
    )


@pytest.mark.parametrize("who", ["alice", "rey", "vic", "otto"])
def test_only_admins_manage_queues(who, client_for):
    client = client_for(who)
    support = Queue.objects.get(name="Support")
    assert client.post("/api/queues/", {"name": "Mine"}, format="json").status_code == 403
    assert client.patch(f"/api/queues/{support.id}/", {"members": []}, format="json").status_code == 403
    assert client.delete(f"/api/queues/{support.id}/").status_code == 403
    assert list(support.members.values_list("username", flat=True)) == ["rey"]


def test_a_queue_with_pending_items_cannot_be_deleted(personas, client_for, support_workflow):
    start_waiting(support_workflow, personas["alice"])
    support = Queue.objects.get(name="Support")
    listed = {q["name"]: q["pending"] for q in client_for("admin").get("/api/queues/").json()}
    assert listed["Support"] == 1
    response = client_for("admin").delete(f"/api/queues/{support.id}/")
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "QUEUE_IN_USE"
    assert response.json()["error"]["details"]["pending"] == 1


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"name": ""},
        {"name": "x" * 101},
        {"name": "A", "members": "rey"},
        {"name": "A", "members": [1, {}]},
        [],
    ],
)
def test_bad_queue_input_is_400(body, client_for):
    assert client_for("admin").post("/api/queues/", body, format="json").status_code == 400
