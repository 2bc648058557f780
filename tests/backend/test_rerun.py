"""Re-run a finished run, optionally from a node: upstream steps are copied, not executed again."""

from __future__ import annotations

import pytest

from backend.runs.models import Run, RunOrigin
from tests.backend.conftest import CUSTOMER_EMAIL

pytestmark = pytest.mark.django_db


@pytest.fixture
def waiting_run(client_for, support_workflow, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for("alice").post(
            f"/api/workflows/{support_workflow.id}/runs/", {"inputs": CUSTOMER_EMAIL}, format="json"
        )
    return Run.objects.get(id=response.json()["id"])


@pytest.fixture
def cancelled_run(client_for, waiting_run):
    assert client_for("alice").post(f"/api/runs/{waiting_run.id}/cancel/").status_code == 200
    waiting_run.refresh_from_db()
    assert waiting_run.status == "cancelled"
    return waiting_run


def test_a_running_run_cannot_be_rerun(client_for, waiting_run):
    response = client_for("alice").post(f"/api/runs/{waiting_run.id}/rerun/?from_node=draft")
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "RUN_NOT_FINISHED"


def test_unknown_node_is_400(client_for, cancelled_run):
    response = client_for("alice").post(f"/api/runs/{cancelled_run.id}/rerun/?from_node=nope")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "NODE_UNKNOWN"
    assert Run.objects.count() == 1


def test_strangers_cannot_rerun(client_for, cancelled_run):
    assert client_for("bob").post(f"/api/runs/{cancelled_run.id}/rerun/").status_code == 404


def test_rerun_from_draft_keeps_upstream_steps(client_for, cancelled_run, django_capture_on_commit_callbacks):
    old = {s.node_id: s for s in cancelled_run.steps.all()}
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for("alice").post(f"/api/runs/{cancelled_run.id}/rerun/?from_node=draft")
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["rerun_of"], body["rerun_from_node"]) == (cancelled_run.id, "draft")
    new = Run.objects.get(id=body["id"])
    assert new.version_id == cancelled_run.version_id
    assert new.inputs == cancelled_run.inputs
    origin = RunOrigin.objects.get(run=new)
    assert (origin.rerun_of_id, origin.rerun_from_node) == (cancelled_run.id, "draft")

    new.refresh_from_db()
    assert new.status == "waiting"  # re-executed draft, waits for review again
    steps = {s.node_id: s for s in new.steps.all()}
    for node_id in ("trigger", "classify"):  # copied, not executed again
        assert steps[node_id].attempts == 1
        assert steps[node_id].started_at == old[node_id].started_at
        assert steps[node_id].output == old[node_id].output
        assert steps[node_id].meta["copied_from_run"] == cancelled_run.id
    assert "copied_from_run" not in steps["draft"].meta
    assert steps["draft"].started_at > old["draft"].started_at
    assert steps["review"].status == "waiting"


def test_full_rerun_executes_everything(client_for, cancelled_run, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for("alice").post(f"/api/runs/{cancelled_run.id}/rerun/")
    assert response.status_code == 201
    assert response.json()["rerun_from_node"] is None
    new = Run.objects.get(id=response.json()["id"])
    assert all("copied_from_run" not in s.meta for s in new.steps.all())
    assert (
        new.steps.get(node_id="classify").started_at > cancelled_run.steps.get(node_id="classify").started_at
    )
