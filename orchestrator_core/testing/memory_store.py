"""`InMemoryRunStore`: a thread-safe `RunStore` for tests and the engine's reference semantics."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from orchestrator_core.clock import SystemClock
from orchestrator_core.errors import LeaseLost
from orchestrator_core.ports import (
    JSON,
    Clock,
    EffectRecord,
    EffectStatus,
    Event,
    RunSnapshot,
    RunStatus,
    StepRecord,
    StepStatus,
)


@dataclass
class _Run:
    run_id: str
    document: Mapping[str, Any]
    trigger: JSON
    status: RunStatus = RunStatus.QUEUED
    fence: int = 0
    owner: str | None = None
    lease_expires: datetime | None = None
    cancel_requested: bool = False
    error: Mapping[str, Any] | None = None
    steps: dict[str, StepRecord] = field(default_factory=dict)
    events: list[tuple[int, Event]] = field(default_factory=list)


class InMemoryRunStore:
    """A `RunStore` in a dict, guarded by one lock.

    Args:
        clock: decides lease expiry (inject `testing.FakeClock` to expire leases in tests).
    """

    def __init__(self, clock: Clock | None = None) -> None:
        self._clock: Clock = clock or SystemClock()
        self._lock = threading.RLock()
        self._runs: dict[str, _Run] = {}
        self._effects: dict[str, EffectRecord] = {}

    # --- test and service helpers --------------------------------------------------------------

    def create_run(self, document: Mapping[str, Any], trigger: JSON, run_id: str | None = None) -> str:
        """Store a queued run and return its id."""
        with self._lock:
            rid = run_id or uuid.uuid4().hex
            if rid in self._runs:
                raise ValueError(f"run {rid} exists")
            self._runs[rid] = _Run(rid, document, trigger)
            return rid

    def request_cancel(self, run_id: str) -> None:
        """Ask to cancel; a run nobody is running (queued or waiting) is cancelled at once."""
        with self._lock:
            run = self._runs[run_id]
            if run.status.is_final:
                return
            run.cancel_requested = True
            if run.status in (RunStatus.QUEUED, RunStatus.WAITING):
                run.status = RunStatus.CANCELLED
                self._append(run, [Event("run.status", None, {"status": "cancelled", "error": None})])

    def resume_step(self, run_id: str, node_id: str, answer: JSON) -> None:
        """Store the answer for a waiting step and queue the run again.

        Raises:
            ValueError: the step is not waiting.
        """
        with self._lock:
            run = self._runs[run_id]
            step = run.steps.get(node_id)
            if step is None or step.status != StepStatus.WAITING:
                raise ValueError(f"step {node_id} of run {run_id} is not waiting")
            run.steps[node_id] = replace(step, resume=answer)
            if run.status == RunStatus.WAITING:
                run.status = RunStatus.QUEUED

    def expire_lease(self, run_id: str) -> None:
        """Make the current lease look expired (as if its worker died)."""
        with self._lock:
            run = self._runs[run_id]
            run.lease_expires = self._clock.now() - timedelta(seconds=1)

    def events(self, run_id: str) -> list[tuple[int, Event]]:
        with self._lock:
            return list(self._runs[run_id].events)

    def run_status(self, run_id: str) -> RunStatus:
        with self._lock:
            return self._runs[run_id].status

    def run_error(self, run_id: str) -> Mapping[str, Any] | None:
        with self._lock:
            return self._runs[run_id].error

    def steps(self, run_id: str) -> dict[str, StepRecord]:
        with self._lock:
            return dict(self._runs[run_id].steps)

    def effects(self) -> dict[str, EffectRecord]:
        with self._lock:
            return dict(self._effects)

    # --- RunStore ---------------------------------------------------------------------------------

    def _append(self, run: _Run, events: Sequence[Event]) -> None:
        seq = run.events[-1][0] if run.events else 0
        for event in events:
            seq += 1
            run.events.append((seq, event))

    def _fenced(self, run_id: str, fence: int) -> _Run:
        run = self._runs.get(run_id)
        if run is None or run.fence != fence or run.status != RunStatus.RUNNING:
            raise LeaseLost(f"Run {run_id}: the lease is held by another worker.")
        return run

    def claim(self, run_id: str, *, owner: str, lease_seconds: float) -> RunSnapshot | None:
        with self._lock:
            run = self._runs.get(run_id)
            if run is None:
                return None
            now = self._clock.now()
            expired = run.lease_expires is None or run.lease_expires <= now
            if not (run.status == RunStatus.QUEUED or (run.status == RunStatus.RUNNING and expired)):
                return None
            run.status = RunStatus.RUNNING
            run.owner = owner
            run.lease_expires = now + timedelta(seconds=lease_seconds)
            run.fence += 1
            return RunSnapshot(
                run_id=run.run_id,
                document=run.document,
                trigger=run.trigger,
                status=run.status,
                fence=run.fence,
                steps=dict(run.steps),
                cancel_requested=run.cancel_requested,
            )

    def save_step(self, run_id: str, *, fence: int, step: StepRecord, events: Sequence[Event] = ()) -> None:
        with self._lock:
            run = self._fenced(run_id, fence)
            run.steps[step.node_id] = step
            self._append(run, events)

    def reset_steps(
        self, run_id: str, *, fence: int, steps: Sequence[StepRecord], events: Sequence[Event] = ()
    ) -> None:
        with self._lock:
            run = self._fenced(run_id, fence)
            for step in steps:
                run.steps[step.node_id] = step
            self._append(run, events)

    def finish(
        self,
        run_id: str,
        *,
        fence: int,
        status: RunStatus,
        error: Mapping[str, Any] | None = None,
        events: Sequence[Event] = (),
    ) -> None:
        with self._lock:
            run = self._fenced(run_id, fence)
            # An answer may have arrived while the run was still running: queue it again.
            if status == RunStatus.WAITING and any(
                s.status == StepStatus.WAITING and s.resume is not None for s in run.steps.values()
            ):
                status = RunStatus.QUEUED
            run.status = status
            run.error = error
            run.owner = None
            run.lease_expires = None
            self._append(run, events)

    def renew_lease(self, run_id: str, *, fence: int, lease_seconds: float) -> bool:
        with self._lock:
            run = self._runs.get(run_id)
            if run is None or run.fence != fence or run.status != RunStatus.RUNNING:
                return False
            run.lease_expires = self._clock.now() + timedelta(seconds=lease_seconds)
            return True

    def cancel_requested(self, run_id: str) -> bool:
        with self._lock:
            run = self._runs.get(run_id)
            return run is not None and run.cancel_requested

    def effect_begin(self, key: str, *, run_id: str, node_id: str) -> EffectRecord:
        with self._lock:
            existing = self._effects.get(key)
            if existing is not None:
                return replace(existing, created=False)
            record = EffectRecord(key, EffectStatus.STARTED, None, created=False)
            self._effects[key] = record
            return replace(record, created=True)

    def effect_complete(self, key: str, *, result: JSON) -> None:
        with self._lock:
            self._effects[key] = EffectRecord(key, EffectStatus.DONE, result, created=False)

    def effect_abort(self, key: str) -> None:
        with self._lock:
            existing = self._effects.get(key)
            if existing is not None and existing.status == EffectStatus.STARTED:
                del self._effects[key]
