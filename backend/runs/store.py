"""`DjangoRunStore`: orchestrator_core's RunStore port on the Django ORM.

Every write that belongs to a claimed run carries the fence and happens in one transaction
with its events; a stale worker's write raises `LeaseLost` and changes nothing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import timedelta
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.db.models import F, Q
from django.db.models.functions import Coalesce
from django.utils import timezone

from backend.runs.events import run_events_append
from backend.runs.models import Effect, Run, StepRun
from orchestrator_core.errors import LeaseLost
from orchestrator_core.ports import (
    JSON,
    EffectRecord,
    EffectStatus,
    Event,
    RunSnapshot,
    RunStatus,
    StepRecord,
    StepStatus,
)


def step_record_from_row(row: StepRun) -> StepRecord:
    return StepRecord(
        node_id=row.node_id,
        status=StepStatus(row.status),
        attempts=row.attempts,
        inputs=row.inputs,
        output=row.output,
        ports=tuple(row.ports or ()),
        error=row.error,
        request=row.request,
        resume=row.resume,
        started_at=row.started_at,
        ended_at=row.ended_at,
        meta=row.meta or {},
    )


def _asks_a_person(request: Any) -> bool:
    """Approvals ask a person; timers (``{"kind": "delay", "until": ...}``) are woken by the clock."""
    return isinstance(request, dict) and request.get("kind", "approval") == "approval"


def _wake_if_answered(run_id: int) -> None:
    """A run parked ``waiting`` whose answer came while it still ran goes back to the queue.

    An approval decided, or a child run ended (``request.kind == "children"``), while the
    worker was between the node's last look and this park: their wake-up found the run
    ``running`` and changed nothing, so it is done here (no lost wake-up).
    """
    from backend.runs.services import run_resume
    from backend.runs.subruns import subruns_wake_waiting

    if StepRun.objects.filter(run_id=run_id, status="waiting", resume__isnull=False).exists():
        run_resume(run_id=run_id)
    else:
        subruns_wake_waiting(run_id=run_id)


STEP_FIELDS = [
    "status",
    "attempts",
    "inputs",
    "output",
    "ports",
    "error",
    "request",
    "resume",
    "started_at",
    "ended_at",
    "meta",
]


def _step_row(run_id: str, step: StepRecord) -> StepRun:
    """The database row of a step record (not saved)."""
    return StepRun(
        run_id=int(run_id),
        node_id=step.node_id,
        status=str(step.status),
        attempts=step.attempts,
        inputs=step.inputs,
        output=step.output,
        ports=list(step.ports),
        error=dict(step.error) if step.error is not None else None,
        request=step.request,
        resume=step.resume,
        started_at=step.started_at,
        ended_at=step.ended_at,
        meta=dict(step.meta),
    )


class DjangoRunStore:
    """One instance per `run_advance` call; it remembers the claimed runs' last event seq."""

    def __init__(self) -> None:
        self._last_seq: dict[int, int] = {}

    def _append(self, run_id: int, events: Sequence[Event], fence: int) -> None:
        self._last_seq[run_id] = run_events_append(
            run_id=run_id, events=events, fence=fence, last_seq=self._last_seq.get(run_id)
        )

    def claim(self, run_id: str, *, owner: str, lease_seconds: float) -> RunSnapshot | None:
        now = timezone.now()
        with transaction.atomic():
            claimed = (
                Run.objects.filter(id=int(run_id))
                .filter(Q(status=Run.Status.QUEUED) | Q(status=Run.Status.RUNNING, lease_until__lt=now))
                .update(
                    status=Run.Status.RUNNING,
                    lease_owner=owner[:128],
                    lease_until=now + timedelta(seconds=lease_seconds),
                    fence=F("fence") + 1,
                    started_at=Coalesce(F("started_at"), now),
                )
            )
            if claimed != 1:
                return None
            run = Run.objects.select_related("version").get(id=int(run_id))
            steps = {row.node_id: step_record_from_row(row) for row in run.steps.all()}
            self._last_seq[run.id] = run.last_seq
        return RunSnapshot(
            run_id=str(run.id),
            document=run.version.document,
            trigger=run.inputs,
            status=RunStatus(run.status),
            fence=run.fence,
            steps=steps,
            cancel_requested=run.cancel_requested,
        )

    def save_step(self, run_id: str, *, fence: int, step: StepRecord, events: Sequence[Event] = ()) -> None:
        with transaction.atomic():
            self._append(int(run_id), events, fence)
            row = _step_row(run_id, step)
            # One INSERT ... ON CONFLICT DO UPDATE instead of SELECT + INSERT/UPDATE.
            StepRun.objects.bulk_create(
                [row], update_conflicts=True, unique_fields=["run", "node_id"], update_fields=STEP_FIELDS
            )
            if step.status == StepStatus.WAITING and _asks_a_person(step.request) and step.resume is None:
                from backend.approvals.services import approval_open  # approvals builds on runs

                approval_open(run_id=int(run_id), node_id=step.node_id, request=step.request)

    def reset_steps(
        self, run_id: str, *, fence: int, steps: Sequence[StepRecord], events: Sequence[Event] = ()
    ) -> None:
        """Replace several step records in one transaction (a review round; all or nothing)."""
        with transaction.atomic():
            self._append(int(run_id), events, fence)
            rows = [_step_row(run_id, step) for step in steps]
            if rows:
                StepRun.objects.bulk_create(
                    rows, update_conflicts=True, unique_fields=["run", "node_id"], update_fields=STEP_FIELDS
                )
                from backend.approvals.models import Approval  # approvals builds on runs

                # A node sent back while it still waited for a person: its item leaves the inbox.
                Approval.objects.filter(
                    run_id=int(run_id), node_id__in=[s.node_id for s in steps], status=Approval.Status.PENDING
                ).update(status=Approval.Status.CANCELLED)

    def publish_transient(self, run_id: str, fence: int, events: Sequence[Event]) -> None:
        """Save and publish events now, while the node still runs (``step.delta`` batches).

        An optional capability the runner looks for (not in the `RunStore` protocol). The
        events get sequence numbers like any other, so a page that reconnects replays them.
        Called from the node's thread; `LeaseLost` when another worker took the run.
        """
        with transaction.atomic():
            self._append(int(run_id), events, fence)

    def finish(
        self,
        run_id: str,
        *,
        fence: int,
        status: RunStatus,
        error: Mapping[str, Any] | None = None,
        events: Sequence[Event] = (),
    ) -> None:
        with transaction.atomic():
            self._append(int(run_id), events, fence)
            metas = StepRun.objects.filter(run_id=int(run_id)).values_list("meta", flat=True)
            # A run's cost includes its child runs' (steps record them as meta.children_cost_usd).
            total = sum(
                float((meta or {}).get("cost_usd") or 0.0)
                + float((meta or {}).get("children_cost_usd") or 0.0)
                for meta in metas
            )
            Run.objects.filter(id=int(run_id)).update(
                status=str(status),
                error=dict(error) if error is not None else None,
                lease_owner="",
                lease_until=None,
                finished_at=timezone.now() if status.is_final else None,
                cost_usd=total,
            )
            if status == RunStatus.WAITING:
                _wake_if_answered(int(run_id))
            elif status.is_final:
                from backend.runs.subruns import subruns_run_ended

                transaction.on_commit(lambda: subruns_run_ended(run_id=int(run_id)))

    def renew_lease(self, run_id: str, *, fence: int, lease_seconds: float) -> bool:
        until = timezone.now() + timedelta(seconds=lease_seconds)
        return Run.objects.filter(id=int(run_id), fence=fence).update(lease_until=until) == 1

    def cancel_requested(self, run_id: str) -> bool:
        # Asked once per round of every run: plain SQL skips the ORM's query compilation.
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT cancel_requested FROM {Run._meta.db_table} WHERE id = %s", [int(run_id)])  # noqa: S608
            row = cursor.fetchone()
        return bool(row and row[0])

    def effect_begin(self, key: str, *, run_id: str, node_id: str) -> EffectRecord:
        try:
            with transaction.atomic():
                Effect.objects.create(key=key, run_id=int(run_id), node_id=node_id)
            return EffectRecord(key=key, status=EffectStatus.STARTED, created=True)
        except IntegrityError:
            effect = Effect.objects.get(key=key)
            return EffectRecord(
                key=key, status=EffectStatus(effect.status), result=effect.result, created=False
            )

    def effect_complete(self, key: str, *, result: JSON) -> None:
        Effect.objects.filter(key=key).update(
            status=Effect.Status.DONE, result=result, completed_at=timezone.now()
        )

    def effect_abort(self, key: str) -> None:
        Effect.objects.filter(key=key, status=Effect.Status.STARTED).delete()


__all__ = ["DjangoRunStore", "LeaseLost", "step_record_from_row"]
