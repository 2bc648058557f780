"""Webhook trigger: secret URL, deliveries, idempotency, wait-for-response."""

from __future__ import annotations

import json

import pytest
from rest_framework.test import APIClient

from backend.audit.models import AuditEvent
from backend.runs.models import Run, WebhookEndpoint
from backend.workflows.services import workflow_create, workflow_publish
from tests.backend.conftest import CUSTOMER_EMAIL, load_fixture

pytestmark = pytest.mark.django_db


def _immediate_doc() -> dict:
    doc = load_fixture("webhook_echo.json")
    doc["nodes"][0]["config"] = {"respond": "immediately", "fields": []}
    return doc


@pytest.fixture
def hook_workflow(personas):
    workflow = workflow_create(user=personas["alice"], name="Hook", document=_immediate_doc())
    workflow_publish(workflow=workflow, user=personas["alice"])
    return workflow


def _hook_path(client_for, workflow) -> str:
    response = client_for("alice").get(f"/api/workflows/{workflow.id}/webhook/")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["enabled"] is True
    assert body["url"].endswith(body["path"])
    return body["path"]


def test_only_editors_see_the_webhook_url(client_for, hook_workflow):
    assert client_for("bob").get(f"/api/workflows/{hook_workflow.id}/webhook/").status_code == 404
    assert client_for("alice").get(f"/api/workflows/{hook_workflow.id}/webhook/").status_code == 200
    # Created once, stable across reads.
    assert WebhookEndpoint.objects.filter(workflow=hook_workflow).count() == 1


def test_wrong_token_is_404_and_starts_nothing(client_for, hook_workflow):
    _hook_path(client_for, hook_workflow)
    response = APIClient().post("/api/hooks/not-the-token/", {"a": 1}, format="json")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "NOT_FOUND"
    assert Run.objects.count() == 0


def test_right_token_starts_a_run(client_for, hook_workflow, django_capture_on_commit_callbacks):
    path = _hook_path(client_for, hook_workflow)
    with django_capture_on_commit_callbacks(execute=True):
        response = APIClient().post(f"{path}?source=crm", {"name": "Ann"}, format="json")
    assert response.status_code == 202, response.content
    run = Run.objects.get(id=response.json()["run_id"])
    assert run.started_by is None
    assert run.inputs == {"body": {"name": "Ann"}, "query": {"source": "crm"}}
    run.refresh_from_db()
    assert run.status == "succeeded"
    assert run.steps.get(node_id="reply").output["text"].startswith("Hello Ann")
    audit = AuditEvent.objects.get(action="run.start", target_id=str(run.id))
    assert audit.data["via"] == "webhook"


def test_duplicate_deliveries_start_one_run(client_for, hook_workflow):
    path = _hook_path(client_for, hook_workflow)
    ids = {
        APIClient().post(path, {"n": i}, format="json", HTTP_IDEMPOTENCY_KEY="order-42").json()["run_id"]
        for i in range(5)
    }
    assert len(ids) == 1
    assert Run.objects.count() == 1
    other = APIClient().post(path, {}, format="json", HTTP_IDEMPOTENCY_KEY="order-43")
    assert other.status_code == 202
    assert Run.objects.count() == 2
    too_long = APIClient().post(path, {}, format="json", HTTP_IDEMPOTENCY_KEY="k" * 201)
    assert too_long.status_code == 400
    assert too_long.json()["error"]["code"] == "IDEMPOTENCY_KEY_INVALID"


def test_malformed_json_is_400(client_for, hook_workflow):
    path = _hook_path(client_for, hook_workflow)
    response = APIClient().post(path, data="{not json", content_type="application/json")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "PARSE_ERROR"
    assert Run.objects.count() == 0


def test_rotated_token_stops_working(client_for, hook_workflow):
    old = _hook_path(client_for, hook_workflow)
    rotated = client_for("alice").post(f"/api/workflows/{hook_workflow.id}/webhook/rotate/")
    assert rotated.status_code == 200
    assert rotated.json()["path"] != old
    assert rotated.json()["rotated_at"] is not None
    assert APIClient().post(old, {}, format="json").status_code == 404
    assert APIClient().post(rotated.json()["path"], {}, format="json").status_code == 202


def test_workflow_without_webhook_trigger_is_404(client_for, support_workflow):
    response = client_for("alice").get(f"/api/workflows/{support_workflow.id}/webhook/")
    assert response.json()["enabled"] is False
    assert APIClient().post(response.json()["path"], {}, format="json").status_code == 404
    assert Run.objects.count() == 0


@pytest.mark.django_db(transaction=True)
def test_wait_mode_returns_the_response_nodes_output(client_for, personas):
    workflow = workflow_create(
        user=personas["alice"], name="Echo", document=load_fixture("webhook_echo.json")
    )
    workflow_publish(workflow=workflow, user=personas["alice"])
    path = _hook_path(client_for, workflow)
    response = APIClient().post(path, {"name": "Bea"}, format="json")
    assert response.status_code == 200, response.content
    run = Run.objects.get()
    assert response.json() == {"text": f"Hello Bea from run {run.id}."}
    # The body is checked against the trigger's fields.
    bad = APIClient().post(path, {"nom": "Bea"}, format="json")
    assert bad.status_code == 400
    assert bad.json()["error"]["code"] == "INPUT_INVALID"


@pytest.mark.django_db(transaction=True)
def test_wait_mode_answers_202_when_the_run_outlasts_the_timeout(client_for, personas):
    doc = load_fixture("support_reply.json")  # waits for a review
    doc["nodes"][0] = {
        "id": "trigger",
        "type": "trigger.webhook",
        "type_version": 1,
        "config": {"respond": "wait", "response_node": "send", "timeout_seconds": 1},
    }
    for node in doc["nodes"]:  # the manual trigger's fields were trigger.<name>; now trigger.body.<name>
        node["config"] = json.loads(json.dumps(node["config"]).replace("trigger.", "trigger.body."))
    workflow = workflow_create(user=personas["alice"], name="Slow", document=doc)
    workflow_publish(workflow=workflow, user=personas["alice"])
    path = _hook_path(client_for, workflow)
    response = APIClient().post(path, CUSTOMER_EMAIL, format="json")
    assert response.status_code == 202, response.content
    run = Run.objects.get(id=response.json()["run_id"])
    assert run.status == "waiting"
