"""`InMemorySubRuns`: the `SubRuns` port over an `InMemoryRunStore`, plus a driver for tests.

Workflows are registered by id with their published documents (version 1, 2...). Child runs
are ordinary runs of the store; `wake_parents` does what the backend does when a child ends
(answer the parent's parked step and queue the parent), and `drive` advances every runnable
run until nothing moves.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from orchestrator_core.errors import BatonError, ErrorCode, NodeError
from orchestrator_core.nodes.builtin.flow_subworkflow import (
    CHILDREN_KIND,
    MAX_SUBWORKFLOW_DEPTH,
    terminal_outputs,
)
from orchestrator_core.nodes.builtin.trigger_manual import check_trigger_input
from orchestrator_core.ports import JSON, ChildRun, RunStatus, StepStatus
from orchestrator_core.testing.memory_store import InMemoryRunStore


@dataclass(frozen=True)
class _Link:
    parent_run_id: str
    node_id: str
    key: str
    workflow: str
    version: int
    depth: int


class InMemorySubRuns:
    """Child runs in an `InMemoryRunStore`, idempotent by ``(parent run, node, key)``."""

    def __init__(self, store: InMemoryRunStore, workflows: Mapping[str, Any] | None = None) -> None:
        self.store = store
        self._lock = threading.RLock()
        self._versions: dict[str, list[Mapping[str, Any]]] = {}
        self._links: dict[str, _Link] = {}
        """Child run id -> where it came from."""
        self._by_parent: dict[tuple[str, str], dict[str, str]] = {}
        self.started: list[str] = []
        """Every child run id, in start order (tests count duplicates with it)."""
        self.max_active = 0
        """The most children of one parent node that were not final at the same time."""
        for workflow_id, document in (workflows or {}).items():
            self.publish(workflow_id, document)

    def publish(self, workflow_id: str, document: Mapping[str, Any]) -> int:
        """Add a published version of the workflow; return its number."""
        with self._lock:
            versions = self._versions.setdefault(workflow_id, [])
            versions.append(document)
            return len(versions)

    def depth(self, run_id: str) -> int:
        link = self._links.get(run_id)
        return link.depth if link is not None else 0

    # --- SubRuns ---------------------------------------------------------------------------------

    def start(
        self,
        parent_run_id: str,
        node_id: str,
        key: str,
        *,
        workflow: str,
        version: int | None,
        inputs: JSON,
    ) -> ChildRun:
        with self._lock:
            existing = self._by_parent.get((parent_run_id, node_id), {}).get(key)
            if existing is not None:
                return self._child(existing)
            versions = self._versions.get(workflow)
            if not versions:
                raise NodeError(f"There is no workflow '{workflow}'.", code=ErrorCode.SUBWORKFLOW_NOT_FOUND)
            number = version if version is not None else len(versions)
            if not 1 <= number <= len(versions):
                raise NodeError(
                    f"Workflow '{workflow}' has no published version {number}.",
                    code=ErrorCode.SUBWORKFLOW_NOT_PUBLISHED,
                )
            depth = self.depth(parent_run_id) + 1
            if depth > MAX_SUBWORKFLOW_DEPTH:
                raise NodeError(
                    f"Sub-workflows are nested more than {MAX_SUBWORKFLOW_DEPTH} deep.",
                    code=ErrorCode.SUBWORKFLOW_DEPTH,
                )
            document = versions[number - 1]
            try:
                cleaned = check_trigger_input(document, inputs)
            except BatonError as e:
                raise NodeError(e.message, code=e.code, details=e.details) from None
            run_id = self.store.create_run(document, cleaned)
            self._links[run_id] = _Link(parent_run_id, node_id, key, workflow, number, depth)
            self._by_parent.setdefault((parent_run_id, node_id), {})[key] = run_id
            self.started.append(run_id)
            active = sum(
                1
                for rid in self._by_parent[(parent_run_id, node_id)].values()
                if not self.store.run_status(rid).is_final
            )
            self.max_active = max(self.max_active, active)
            return self._child(run_id)

    def children(self, parent_run_id: str, node_id: str) -> Mapping[str, ChildRun]:
        with self._lock:
            keys = dict(self._by_parent.get((parent_run_id, node_id), {}))
            return {key: self._child(run_id) for key, run_id in keys.items()}

    def _child(self, run_id: str) -> ChildRun:
        link = self._links[run_id]
        status = self.store.run_status(run_id)
        output = None
        if status == RunStatus.SUCCEEDED:
            document = self._versions[link.workflow][link.version - 1]
            output = terminal_outputs(document, self.store.steps(run_id))
        error = self.store.run_error(run_id) if status in (RunStatus.FAILED, RunStatus.CANCELLED) else None
        if status == RunStatus.CANCELLED and error is None:
            error = {"code": str(ErrorCode.RUN_CANCELLED), "message": "The run was cancelled."}
        return ChildRun(run_id, link.key, status, link.version, output, error)

    # --- what the backend does around it -------------------------------------------------------

    def wake_parents(self) -> int:
        """Answer parked parent steps whose children changed (more final children than they saw)."""
        woken = 0
        with self._lock:
            parents = list(self._by_parent.items())
        for (parent_run_id, node_id), keys in parents:
            step = self.store.steps(parent_run_id).get(node_id)
            if step is None or step.status != StepStatus.WAITING or step.resume is not None:
                continue
            request = step.request if isinstance(step.request, Mapping) else {}
            if request.get("kind") != CHILDREN_KIND:
                continue
            done = sum(1 for rid in keys.values() if self.store.run_status(rid).is_final)
            if done > int(request.get("done", 0)):
                self.store.resume_step(parent_run_id, node_id, {"kind": CHILDREN_KIND})
                woken += 1
        return woken

    def cancel_children(self, parent_run_id: str) -> None:
        """Cancel the parent's unfinished children (and theirs), as cancelling a parent does."""
        with self._lock:
            run_ids = [
                rid
                for (pid, _), keys in self._by_parent.items()
                if pid == parent_run_id
                for rid in keys.values()
            ]
        for run_id in run_ids:
            self.store.request_cancel(run_id)
            self.cancel_children(run_id)

    def drive(self, advance: Callable[[str], Any], run_ids: list[str], *, max_passes: int = 200) -> None:
        """Advance every queued run (``advance(run_id)``) and wake parents until nothing moves."""
        for _ in range(max_passes):
            moved = False
            for run_id in [*run_ids, *self.started]:
                if self.store.run_status(run_id) == RunStatus.QUEUED:
                    advance(run_id)
                    moved = True
            if self.wake_parents():
                moved = True
            if not moved:
                return
        raise AssertionError("drive: the runs did not settle")
