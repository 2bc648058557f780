"""Run retention: ``runs_purge_expired`` deletes old finished runs (and their rows), nothing else."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from backend.audit.models import AuditEvent
from backend.connectors.models import OutboxMessage
from backend.runs.models import Effect, Run, RunEvent, StepRun
from backend.runs.retention import runs_purge_expired
from backend.workflows.selectors import workflow_published_version

pytestmark = pytest.mark.django_db

NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)


def _run(workflow, user, status, *, finished_days_ago=None):
    finished = NOW - timedelta(days=finished_days_ago) if finished_days_ago is not None else None
    run = Run.objects.create(
        workflow=workflow,
        version=workflow_published_version(workflow=workflow),
        started_by=user,
        status=status,
        finished_at=finished,
    )
    StepRun.objects.create(run=run, node_id="n1", status="succeeded")
    RunEvent.objects.create(run=run, seq=1, type="run.started", created_at=NOW)
    Effect.objects.create(key=f"effect-{run.id}", run=run, node_id="n1")
    return run


@pytest.fixture
def runs(personas, support_workflow):
    alice = personas["alice"]
    S = Run.Status
    return {
        "old_ok": _run(support_workflow, alice, S.SUCCEEDED, finished_days_ago=40),
        "old_failed": _run(support_workflow, alice, S.FAILED, finished_days_ago=31),
        "old_cancelled": _run(support_workflow, alice, S.CANCELLED, finished_days_ago=100),
        "recent": _run(support_workflow, alice, S.SUCCEEDED, finished_days_ago=29),
        "waiting": _run(support_workflow, alice, S.WAITING),
        "running": _run(support_workflow, alice, S.RUNNING),
        # Never finished (no finished_at) but old: kept; a waiting run with a stale finished_at too.
        "waiting_stale": _run(support_workflow, alice, S.WAITING, finished_days_ago=400),
    }


def test_keeps_everything_by_default(runs, settings):
    settings.BATON_RETENTION_DAYS = 0
    assert runs_purge_expired(now=NOW) == 0
    assert Run.objects.count() == len(runs)
    assert not AuditEvent.objects.filter(action="runs.purged").exists()


def test_purges_only_old_finished_runs_with_their_rows(runs, settings):
    settings.BATON_RETENTION_DAYS = 30
    email = OutboxMessage.objects.create(
        run=runs["old_ok"], idempotency_key="k1", sender="a@x", to="b@x", subject="s", body="b"
    )
    assert runs_purge_expired(now=NOW) == 3
    left = set(Run.objects.values_list("id", flat=True))
    assert left == {runs[k].id for k in ("recent", "waiting", "running", "waiting_stale")}
    for model in (StepRun, RunEvent, Effect):
        assert set(model.objects.values_list("run_id", flat=True)) == left
    email.refresh_from_db()
    assert email.run_id is None  # sent mail stays, unlinked
    event = AuditEvent.objects.get(action="runs.purged")
    assert event.data["count"] == 3
    assert event.data["retention_days"] == 30
    # Nothing more to do: no second audit event.
    assert runs_purge_expired(now=NOW) == 0
    assert AuditEvent.objects.filter(action="runs.purged").count() == 1


def test_batches(runs, settings):
    settings.BATON_RETENTION_DAYS = 30
    assert runs_purge_expired(now=NOW, batch_size=2) == 3
    assert AuditEvent.objects.get(action="runs.purged").data["count"] == 3


def test_task_calls_the_purge(runs, settings):
    from backend.runs.tasks import runs_purge_expired as task

    settings.BATON_RETENTION_DAYS = 1
    # Relative to the real clock every fixture run finished long ago.
    assert task() == 4  # "recent" too
    assert "purge-expired-runs" in settings.CELERY_BEAT_SCHEDULE


def test_keeps_old_finished_children_of_a_parent_that_still_waits(personas, support_workflow, settings):
    """A loop parked for weeks still needs its finished items' outputs (and their spend)."""
    settings.BATON_RETENTION_DAYS = 30
    alice = personas["alice"]
    S = Run.Status
    parent = _run(support_workflow, alice, S.WAITING)
    child = _run(support_workflow, alice, S.SUCCEEDED, finished_days_ago=60)
    Run.objects.filter(id=child.id).update(
        parent_run=parent, root_run=parent, parent_node_id="each", parent_key="0"
    )
    done_parent = _run(support_workflow, alice, S.SUCCEEDED, finished_days_ago=60)
    done_child = _run(support_workflow, alice, S.SUCCEEDED, finished_days_ago=60)
    Run.objects.filter(id=done_child.id).update(
        parent_run=done_parent, root_run=done_parent, parent_node_id="each", parent_key="0"
    )
    assert runs_purge_expired(now=NOW) == 2
    assert set(Run.objects.values_list("id", flat=True)) == {parent.id, child.id}
