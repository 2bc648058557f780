"""flow.delay parks the run with no worker held; the scheduler wakes it when it is due."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from backend.approvals.models import Approval
from backend.runs.models import Run
from backend.runs.services import run_wake_timers
from backend.workflows.services import workflow_create, workflow_publish
from tests.backend.conftest import load_fixture

pytestmark = pytest.mark.django_db


@pytest.fixture
def delayed_run(personas, client_for, django_capture_on_commit_callbacks):
    workflow = workflow_create(
        user=personas["alice"], name="Delay", document=load_fixture("delay_followup.json")
    )
    workflow_publish(workflow=workflow, user=personas["alice"])
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for("alice").post(
            f"/api/workflows/{workflow.id}/runs/", {"inputs": {"email": "a@example.com"}}, format="json"
        )
    assert response.status_code == 201, response.content
    return Run.objects.get(id=response.json()["id"])


def test_a_delay_waits_without_opening_an_approval(delayed_run):
    assert delayed_run.status == "waiting"
    step = delayed_run.steps.get(node_id="wait")
    assert step.status == "waiting"
    assert step.request["kind"] == "delay"
    assert not Approval.objects.exists()


def test_timers_wake_only_when_due_and_only_once(delayed_run, django_capture_on_commit_callbacks):
    assert run_wake_timers(now=timezone.now() + timedelta(hours=23)) == 0
    assert Run.objects.get(id=delayed_run.id).status == "waiting"
    with django_capture_on_commit_callbacks(execute=True):
        assert run_wake_timers(now=timezone.now() + timedelta(days=1, minutes=1)) == 1
    run = Run.objects.get(id=delayed_run.id)
    assert run.status == "succeeded"
    assert {s.node_id: s.status for s in run.steps.all()}["followup"] == "succeeded"
    assert run_wake_timers(now=timezone.now() + timedelta(days=2)) == 0
