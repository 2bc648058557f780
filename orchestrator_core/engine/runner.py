"""The run loop: claim -> ask the step function what is ready -> execute -> persist, via ports.

`advance_run` is what the Celery task ``run_advance`` calls. It is safe to call any number of
times for the same run (at-least-once delivery): only the worker holding the lease writes, and
a stale worker stops at its next write (`LeaseLost`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from pydantic import ValidationError

from orchestrator_core.engine.context import RunContext
from orchestrator_core.engine.records import step_to_dict
from orchestrator_core.engine.step import ready_nodes, run_outcome
from orchestrator_core.errors import BatonError, ErrorCode, LeaseLost, NodeError, WorkflowInvalid
from orchestrator_core.expressions import expression_context
from orchestrator_core.graph import Workflow
from orchestrator_core.nodes.base import Interrupt
from orchestrator_core.nodes.registry import NodeRegistry
from orchestrator_core.ports import (
    Clock,
    Event,
    LLMClient,
    Mailer,
    RunSnapshot,
    RunStatus,
    RunStore,
    StepRecord,
    StepStatus,
)
from orchestrator_core.validation import validate_or_raise

__all__ = ["RunnerServices", "advance_run", "step_to_dict"]

MAX_ROUNDS = 10_000
"""A safety net: a valid (acyclic) graph finishes in at most one round per node."""


@dataclass(frozen=True)
class RunnerServices:
    """The ports the runner drives, plus lease settings."""

    store: RunStore
    registry: NodeRegistry
    llm: LLMClient
    mailer: Mailer
    clock: Clock
    lease_seconds: float = 60.0
    owner: str = "worker"


def advance_run(run_id: str, services: RunnerServices) -> RunStatus | None:
    """Claim the run, execute ready nodes until it finishes or waits.

    Args:
        run_id: the run to advance.
        services: the ports.

    Returns:
        The status the run was left in (succeeded, failed, cancelled or waiting), or None when
        the run was not claimable or the lease was lost on the way (another worker owns it).
    """
    try:
        snap = services.store.claim(run_id, owner=services.owner, lease_seconds=services.lease_seconds)
        if snap is None:
            return None
        return _Advance(snap, services).run()
    except LeaseLost:
        return None


def _step_event(step: StepRecord) -> Event:
    return Event("step.status", step.node_id, step_to_dict(step))


def _error_dict(exc: Exception) -> dict[str, Any]:
    if isinstance(exc, BatonError):
        return exc.as_dict()
    if isinstance(exc, ValidationError):
        details = [
            {"field": ".".join(str(p) for p in err["loc"]), "message": err["msg"]}
            for err in exc.errors(include_url=False)
        ]
        return {
            "code": str(ErrorCode.NODE_CONFIG_INVALID),
            "message": "The node's config is invalid.",
            "details": details,
        }
    return {"code": str(ErrorCode.INTERNAL_ERROR), "message": f"{type(exc).__name__}: {exc}"[:2000]}


class _Advance:
    def __init__(self, snap: RunSnapshot, services: RunnerServices) -> None:
        self.snap = snap
        self.services = services
        self.store = services.store
        self.run_id = snap.run_id
        self.fence = snap.fence
        self.steps: dict[str, StepRecord] = dict(snap.steps)
        self.renewed_at = services.clock.monotonic()
        self.pending: list[Event] = [
            Event("run.status", None, {"status": str(RunStatus.RUNNING), "error": None})
        ]

    # --- persistence -------------------------------------------------------------------------

    def _save(self, step: StepRecord, extra: list[Event] | None = None) -> None:
        events = [*self.pending, *(extra or []), _step_event(step)]
        self.store.save_step(self.run_id, fence=self.fence, step=step, events=events)
        self.pending = []
        self.steps[step.node_id] = step

    def _finish(self, status: RunStatus, error: Mapping[str, Any] | None = None) -> RunStatus:
        events = [*self.pending, Event("run.status", None, {"status": str(status), "error": error})]
        self.store.finish(self.run_id, fence=self.fence, status=status, error=error, events=events)
        self.pending = []
        return status

    # --- the loop ----------------------------------------------------------------------------

    def run(self) -> RunStatus | None:
        try:
            workflow = validate_or_raise(self.snap.document, self.services.registry)
        except WorkflowInvalid as e:
            return self._finish(RunStatus.FAILED, e.as_dict())
        for _ in range(MAX_ROUNDS):
            if self.store.cancel_requested(self.run_id):
                return self._finish(
                    RunStatus.CANCELLED,
                    {"code": str(ErrorCode.RUN_CANCELLED), "message": "The run was cancelled."},
                )
            outcome = run_outcome(workflow, self.steps)
            if outcome is not None:
                return self._finish(
                    outcome, self._run_error(workflow) if outcome == RunStatus.FAILED else None
                )
            ready, skipped = ready_nodes(workflow, self.steps)
            if not ready and not skipped:
                break
            now = self.services.clock.now()
            for node_id in skipped:
                self._save(StepRecord(node_id, StepStatus.SKIPPED, started_at=None, ended_at=now))
            for node_id in ready:
                self._execute(workflow, node_id)
                if not self._renew_lease_if_due():
                    return None
                if self.steps[node_id].status in (StepStatus.FAILED, StepStatus.OUTCOME_UNKNOWN):
                    break
        return self._finish(
            RunStatus.FAILED,
            {
                "code": str(ErrorCode.INTERNAL_ERROR),
                "message": "The run made no progress (no node was ready).",
            },
        )

    def _renew_lease_if_due(self) -> bool:
        """Renew once a third of the lease has passed (every step would cost a write each).

        Every save already checks the fence, so a lost lease is noticed at the next write anyway.
        """
        now = self.services.clock.monotonic()
        if now - self.renewed_at < self.services.lease_seconds / 3:
            return True
        self.renewed_at = now
        return self.store.renew_lease(
            self.run_id, fence=self.fence, lease_seconds=self.services.lease_seconds
        )

    def _run_error(self, workflow: Workflow) -> dict[str, Any] | None:
        for node in sorted(workflow.nodes, key=lambda n: n.id):
            step = self.steps.get(node.id)
            if step is not None and step.status in (StepStatus.FAILED, StepStatus.OUTCOME_UNKNOWN):
                return {**dict(step.error or {}), "node_id": node.id}
        return None

    def _execute(self, workflow: Workflow, node_id: str) -> None:
        clock = self.services.clock
        prev = self.steps.get(node_id)
        resume = prev.resume if prev is not None else None
        request = prev.request if prev is not None else None
        started = clock.now()
        running = StepRecord(
            node_id,
            StepStatus.RUNNING,
            attempts=(prev.attempts if prev is not None else 0) + 1,
            started_at=started,
            request=request,
            resume=resume,
        )
        node = workflow.node(node_id)
        quick = self.services.registry.get(node.type, node.type_version).quick  # validated at the start
        deferred = [_step_event(running)] if quick else []
        if not quick:
            self._save(running)
        ctx = RunContext(
            run_id=self.run_id,
            node_id=node_id,
            context=expression_context(
                trigger=self.snap.trigger,
                steps={k: s.output for k, s in self.steps.items() if s.status == StepStatus.SUCCEEDED},
                run_id=self.run_id,
            ),
            store=self.store,
            llm_client=self.services.llm,
            mailer=self.services.mailer,
            resume=resume,
        )
        try:
            node_type = self.services.registry.get(node.type, node.type_version)
            config = node_type.config_model.model_validate(dict(node.config))
            result = node_type.execute(ctx, config)
            output = dict(result.output)
            json.dumps(output, allow_nan=False)  # must be storable; raises TypeError/ValueError
            ports = result.ports
            if ports is None:
                ports = tuple(p.name for p in node_type.output_ports(node.config))
            step = replace(
                running,
                status=StepStatus.SUCCEEDED,
                inputs=ctx.inputs,
                output=output,
                ports=tuple(ports),
                resume=None,
                ended_at=clock.now(),
                meta={**ctx.meta, **dict(result.meta)},
            )
        except Interrupt as i:
            step = replace(
                running,
                status=StepStatus.WAITING,
                inputs=ctx.inputs,
                request=i.request,
                resume=None,
                meta=dict(ctx.meta),
            )
        except LeaseLost:
            raise
        except Exception as e:  # a node must never crash the loop
            status = StepStatus.FAILED
            if isinstance(e, NodeError) and e.code == ErrorCode.OUTCOME_UNKNOWN:
                status = StepStatus.OUTCOME_UNKNOWN
            step = replace(
                running,
                status=status,
                inputs=ctx.inputs,
                error=_error_dict(e),
                resume=None,
                ended_at=clock.now(),
                meta=dict(ctx.meta),
            )
        self._save(step, [*deferred, *ctx.events])
