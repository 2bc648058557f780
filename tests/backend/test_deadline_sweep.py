"""The periodic sweep fails runs parked past their deadline (``run_timeout_seconds``).

Time is injected (``now=``): no sleeping.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.conf import settings

from backend.approvals.models import Approval
from backend.audit.models import AuditEvent
from backend.runs.models import Run, RunEvent
from backend.runs.services import run_advance, run_start, run_wake_timers, runs_fail_overdue
from backend.workflows.selectors import workflow_published_version
from backend.workflows.services import workflow_create, workflow_publish

pytestmark = pytest.mark.django_db


def _doc(park: tuple[str, dict[str, Any]], timeout: int | None) -> dict[str, Any]:
    trigger: dict[str, Any] = {"fields": []}
    if timeout is not None:
        trigger["run_timeout_seconds"] = timeout
    node_type, config = park
    return {
        "schema_version": 1,
        "nodes": [
            {"id": "t", "type": "trigger.manual", "type_version": 1, "config": trigger},
            {"id": "park", "type": node_type, "type_version": 1, "config": config},
        ],
        "edges": [{"id": "e1", "source": "t", "source_port": "out", "target": "park", "target_port": "in"}],
    }


APPROVAL = ("human.approval", {"queue": "Support", "title": "Check", "fields": {"reply": "x"}})
DELAY = ("flow.delay", {"seconds": 3600})


def _parked_run(personas: dict[str, Any], park: tuple[str, dict[str, Any]], timeout: int | None) -> Run:
    workflow = workflow_create(user=personas["alice"], name="Parked", document=_doc(park, timeout))
    workflow_publish(workflow=workflow, user=personas["alice"], note="v1")
    run = run_start(
        version=workflow_published_version(workflow=workflow), started_by=personas["alice"], inputs={}
    )
    run_advance(run_id=run.id)
    run.refresh_from_db()
    assert run.status == Run.Status.WAITING, run.error
    assert run.started_at is not None
    return run


def test_a_run_waiting_for_approval_fails_once_past_its_deadline(personas):
    run = _parked_run(personas, APPROVAL, timeout=600)
    assert Approval.objects.get(run=run).status == Approval.Status.PENDING
    before = RunEvent.objects.filter(run=run).count()

    assert runs_fail_overdue(now=run.started_at + timedelta(seconds=599)) == 0
    run.refresh_from_db()
    assert run.status == Run.Status.WAITING

    assert runs_fail_overdue(now=run.started_at + timedelta(seconds=601)) == 1
    run.refresh_from_db()
    assert run.status == Run.Status.FAILED
    assert run.error == {"code": "RUN_TIMEOUT", "message": "The run did not finish in time."}
    assert run.finished_at == run.started_at + timedelta(seconds=601)
    assert Approval.objects.get(run=run).status == Approval.Status.CANCELLED
    events = list(RunEvent.objects.filter(run=run).order_by("seq"))
    assert len(events) == before + 1
    assert events[-1].type == "run.status"
    assert events[-1].data == {"status": "failed", "error": run.error}
    audit = AuditEvent.objects.filter(action="run.timeout", target_id=str(run.id)).get()
    assert audit.actor is None
    assert audit.data["timeout_seconds"] == 600

    # once failed, the sweep leaves it alone (a second scheduler, a later pass)
    assert runs_fail_overdue(now=run.started_at + timedelta(days=1)) == 0
    assert AuditEvent.objects.filter(action="run.timeout", target_id=str(run.id)).count() == 1


def test_a_long_delay_past_the_deadline_fails_and_its_timer_no_longer_wakes_it(personas):
    run = _parked_run(personas, DELAY, timeout=60)
    later = run.started_at + timedelta(seconds=120)
    assert runs_fail_overdue(now=later) == 1
    run.refresh_from_db()
    assert run.status == Run.Status.FAILED
    assert run.error["code"] == "RUN_TIMEOUT"
    run_wake_timers(now=run.started_at + timedelta(hours=2))
    run.refresh_from_db()
    assert run.status == Run.Status.FAILED  # the timer's resume only queues waiting runs


def test_runs_without_a_deadline_or_not_waiting_are_untouched(personas):
    no_deadline = _parked_run(personas, APPROVAL, timeout=None)
    assert runs_fail_overdue(now=no_deadline.started_at + timedelta(days=365)) == 0
    no_deadline.refresh_from_db()
    assert no_deadline.status == Run.Status.WAITING
    assert Approval.objects.get(run=no_deadline).status == Approval.Status.PENDING


def test_the_sweep_is_scheduled():
    tasks = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert "backend.runs.tasks.runs_fail_overdue" in tasks
    from backend.runs import tasks as run_tasks

    assert run_tasks.runs_fail_overdue.name == "backend.runs.tasks.runs_fail_overdue"
