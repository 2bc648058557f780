"""POST /api/workflows/{id}/nodes/{node_id}/test/: one node on sample data, no run, no side effects."""

from __future__ import annotations

import pytest

from backend.audit.models import AuditEvent
from backend.connectors.models import OutboxMessage
from backend.runs.models import Run
from tests.backend.conftest import CUSTOMER_EMAIL

pytestmark = pytest.mark.django_db


def _url(workflow_id: int, node_id: str) -> str:
    return f"/api/workflows/{workflow_id}/nodes/{node_id}/test/"


def test_llm_node_runs_on_sample_data_and_reports_cost(client_for, support_workflow):
    sample = {"trigger": CUSTOMER_EMAIL, "steps": {"classify": {"category": "refund", "reason": "money"}}}
    response = client_for("alice").post(_url(support_workflow.id, "draft"), {"inputs": sample}, format="json")
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["status"] == "succeeded", body["error"]
    assert set(body) == {"status", "output", "ports", "inputs", "error", "request", "meta", "duration_ms"}
    assert body["output"]["text"]
    assert body["ports"] == ["out"]
    assert "cost_usd" in body["meta"]
    assert Run.objects.count() == 0
    audit = AuditEvent.objects.filter(action="workflow.node_test").get()
    assert audit.data["node_id"] == "draft"


def test_email_is_blocked_and_nothing_is_sent(client_for, support_workflow):
    sample = {"trigger": CUSTOMER_EMAIL, "steps": {"review": {"values": {"reply": "Refunded."}}}}
    response = client_for("alice").post(_url(support_workflow.id, "send"), {"inputs": sample}, format="json")
    body = response.json()
    assert response.status_code == 200
    assert body["status"] == "failed"
    assert body["error"]["code"] == "SIDE_EFFECT_BLOCKED"
    assert body["inputs"]["to"] == CUSTOMER_EMAIL["from"]
    assert OutboxMessage.objects.count() == 0


def test_approval_node_answers_waiting(client_for, support_workflow):
    sample = {"trigger": CUSTOMER_EMAIL, "steps": {"draft": {"text": "Hello"}}}
    body = (
        client_for("alice")
        .post(_url(support_workflow.id, "review"), {"inputs": sample}, format="json")
        .json()
    )
    assert body["status"] == "waiting", body["error"]
    assert isinstance(body["request"], dict)


def test_config_override_is_used(client_for, support_workflow):
    override = {"to": "{{ trigger.from }}", "subject": "x", "body": ""}
    body = (
        client_for("alice")
        .post(_url(support_workflow.id, "send"), {"inputs": {}, "config": override}, format="json")
        .json()
    )
    assert body["status"] == "failed"
    assert body["error"]["code"] == "NODE_CONFIG_INVALID"


def test_unknown_node_is_404(client_for, support_workflow):
    response = client_for("alice").post(_url(support_workflow.id, "nope"), {}, format="json")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "NOT_FOUND"


@pytest.mark.parametrize(
    "payload",
    [
        {"inputs": []},
        {"inputs": {"steps": []}},
        {"inputs": {"steps": {"a": 1}}},
        {"inputs": {"trigger": {}, "extra": 1}},
        {"inputs": {}, "config": "x"},
    ],
)
def test_bad_sample_is_400(client_for, support_workflow, payload):
    response = client_for("alice").post(_url(support_workflow.id, "draft"), payload, format="json")
    assert response.status_code == 400, response.content
    assert "error" in response.json()


def test_invisible_workflow_is_404_and_viewers_are_refused(client_for, support_workflow):
    assert client_for("bob").post(_url(support_workflow.id, "draft"), {}, format="json").status_code == 404
    assert client_for("vic").post(_url(support_workflow.id, "draft"), {}, format="json").status_code == 404
    assert client_for("alice").post(_url(999999, "draft"), {}, format="json").status_code == 404


# --- Run timeout, node-types settings schema, re-run origin in the run detail --------------------


def test_run_past_its_timeout_fails_and_cancels_its_approval(
    personas, client_for, django_capture_on_commit_callbacks
):
    from datetime import timedelta

    from django.utils import timezone

    from backend.approvals.models import Approval
    from backend.runs.services import run_advance
    from backend.workflows.services import workflow_create, workflow_publish
    from tests.backend.conftest import load_fixture

    document = load_fixture("support_reply.json")
    document["nodes"][0]["config"]["run_timeout_seconds"] = 60
    workflow = workflow_create(user=personas["alice"], name="Timed", document=document)
    workflow_publish(workflow=workflow, user=personas["alice"], note="v1")
    with django_capture_on_commit_callbacks(execute=True):
        started = client_for("alice").post(
            f"/api/workflows/{workflow.id}/runs/", {"inputs": CUSTOMER_EMAIL}, format="json"
        )
    run = Run.objects.get(id=started.json()["id"])
    assert run.status == Run.Status.WAITING
    assert Approval.objects.get(run=run).status == Approval.Status.PENDING
    # Two minutes later a worker picks the run up again (e.g. the reaper re-dispatched it).
    Run.objects.filter(id=run.id).update(
        status=Run.Status.QUEUED, started_at=timezone.now() - timedelta(minutes=2)
    )
    assert run_advance(run_id=run.id) == "failed"
    run.refresh_from_db()
    assert run.error["code"] == "RUN_TIMEOUT"
    assert Approval.objects.get(run=run).status == Approval.Status.CANCELLED


def test_node_types_carry_the_settings_schema(client_for):
    body = client_for("vic").get("/api/node-types/").json()
    assert {"retry", "timeout_seconds", "on_error"} <= set(body["settings_schema"]["properties"])
    manual = next(t for t in body["results"] if t["key"] == "trigger.manual")
    assert "run_timeout_seconds" in manual["config_schema"]["properties"]


def test_run_detail_shows_its_rerun_origin(client_for, support_workflow, django_capture_on_commit_callbacks):
    alice = client_for("alice")
    with django_capture_on_commit_callbacks(execute=True):
        first = alice.post(
            f"/api/workflows/{support_workflow.id}/runs/", {"inputs": CUSTOMER_EMAIL}, format="json"
        )
    detail = alice.get(f"/api/runs/{first.json()['id']}/").json()
    assert detail["rerun_of"] is None
    assert detail["rerun_from_node"] is None
    with django_capture_on_commit_callbacks(execute=True):
        alice.post(f"/api/runs/{first.json()['id']}/cancel/")
        again = alice.post(f"/api/runs/{first.json()['id']}/rerun/?from_node=draft")
    assert again.status_code == 201, again.json()
    detail = alice.get(f"/api/runs/{again.json()['id']}/").json()
    assert detail["rerun_of"] == first.json()["id"]
    assert detail["rerun_from_node"] == "draft"


def test_responses_match_the_openapi_schema(client_for, support_workflow, django_capture_on_commit_callbacks):
    from drf_spectacular.generators import SchemaGenerator

    from tests.backend.test_openapi_schema import _check

    schema = SchemaGenerator().get_schema(request=None, public=True)
    alice = client_for("alice")
    path = "/api/workflows/{workflow_id}/nodes/{node_id}/test/"
    sample = {"inputs": {"trigger": CUSTOMER_EMAIL, "steps": {}}}
    for node_id in ("trigger", "classify", "review", "send"):
        _check(schema, path, "post", alice.post(_url(support_workflow.id, node_id), sample, format="json"))
    _check(schema, path, "post", alice.post(_url(support_workflow.id, "nope"), sample, format="json"))
    _check(schema, path, "post", alice.post(_url(support_workflow.id, "send"), {"inputs": 1}, format="json"))
    with django_capture_on_commit_callbacks(execute=True):
        run = alice.post(
            f"/api/workflows/{support_workflow.id}/runs/", {"inputs": CUSTOMER_EMAIL}, format="json"
        )
    _check(schema, "/api/runs/{run_id}/", "get", alice.get(f"/api/runs/{run.json()['id']}/"))
    _check(schema, "/api/node-types/", "get", alice.get("/api/node-types/"))
