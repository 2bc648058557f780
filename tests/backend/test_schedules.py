"""Schedule trigger: one run per tick, however many schedulers fire it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from backend.runs import triggers
from backend.runs.models import Run, ScheduleFire
from backend.workflows.models import WorkflowVersion
from backend.workflows.services import workflow_create, workflow_publish
from tests.backend.conftest import load_fixture

pytestmark = pytest.mark.django_db

PUBLISHED_AT = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)  # a Monday


@pytest.fixture
def scheduled(personas):
    doc = load_fixture("scheduled_digest.json")
    doc["nodes"][0]["config"]["cron"] = "*/15 * * * *"
    workflow = workflow_create(user=personas["alice"], name="Digest", document=doc)
    version = workflow_publish(workflow=workflow, user=personas["alice"])
    WorkflowVersion.objects.filter(id=version.id).update(created_at=PUBLISHED_AT)
    return workflow


def test_nothing_fires_before_the_first_tick_after_publishing(scheduled):
    assert triggers.schedules_fire_due(now=PUBLISHED_AT + timedelta(minutes=14)) == 0
    assert Run.objects.count() == 0


def test_two_schedulers_on_the_same_tick_start_one_run(scheduled, django_capture_on_commit_callbacks):
    now = PUBLISHED_AT + timedelta(minutes=15, seconds=20)
    with django_capture_on_commit_callbacks(execute=True):
        assert triggers.schedules_fire_due(now=now) == 1
        assert triggers.schedules_fire_due(now=now) == 0
    run = Run.objects.get()
    assert run.started_by is None
    assert run.inputs == {"scheduled_at": "2026-01-05T13:15:00+01:00", "team": "Support"}
    run.refresh_from_db()
    assert run.status == "succeeded"
    assert ScheduleFire.objects.get().run_id == run.id

    # Next tick: another run.
    assert triggers.schedules_fire_due(now=now + timedelta(minutes=15)) == 1
    assert Run.objects.count() == 2


def test_a_racing_scheduler_that_read_stale_state_is_refused_by_the_constraint(scheduled, monkeypatch):
    now = PUBLISHED_AT + timedelta(minutes=15)
    assert triggers.schedules_fire_due(now=now) == 1
    # The second scheduler read "never fired" before the first committed.
    monkeypatch.setattr(triggers, "_last_fire", lambda workflow_id: None)
    assert triggers.schedules_fire_due(now=now) == 0
    assert Run.objects.count() == 1
    assert ScheduleFire.objects.count() == 1


def test_a_long_outage_fires_only_the_latest_tick(scheduled):
    assert triggers.schedules_fire_due(now=PUBLISHED_AT + timedelta(days=2, minutes=7)) == 1
    fire = ScheduleFire.objects.get()
    assert fire.fire_at == PUBLISHED_AT + timedelta(days=2)


def test_invalid_cron_cannot_be_published(client_for, personas):
    doc = load_fixture("scheduled_digest.json")
    doc["nodes"][0]["config"]["cron"] = "every morning"
    workflow = workflow_create(user=personas["alice"], name="Bad", document=doc)
    response = client_for("alice").post(f"/api/workflows/{workflow.id}/publish/", {}, format="json")
    assert response.status_code == 400
    issues = response.json()["error"]["details"]
    assert issues[0]["code"] == "NODE_CONFIG_INVALID"
    assert "field 'cron'" in issues[0]["message"]
