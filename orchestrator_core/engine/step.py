"""The pure step function: which nodes run next, and is the run over? No I/O here.

Rules (see ``docs/engine.md``):

- A step *fired* when it succeeded, or when it failed but its node's ``on_error`` setting
  handled the failure (the step is stored failed with the ports that fire: its normal outputs
  for ``continue``, ``error`` for ``error_port``). An edge is *active* when its source fired
  on the edge's port.
- A node with no incoming edges (the trigger) is ready at once.
- By default a node waits until every incoming edge is *decided* (its source has a final
  step), then runs when at least one edge is active, and is skipped when none is (a branch not
  taken; skips propagate). This is also ``logic.merge`` with ``mode: all``.
- ``logic.merge`` with ``mode: first`` runs as soon as one incoming edge is active, without
  waiting for the other branches; it is skipped only when every edge is decided and none is
  active. Branches that finish later do not run it again.
- A waiting step with a ``resume`` answer, and a step left running/queued/retrying (a crashed
  worker, or a retry whose backoff is over), are ready again. The runner, not this function,
  decides when a retrying step's backoff is over.
- A step sent back by a review round (`is_redo`: queued with ``request.kind == "redo"``) counts
  as not run yet: it waits for its inputs like a node without a step.
"""

from __future__ import annotations

from collections.abc import Mapping

from orchestrator_core.graph import Edge, Node, Workflow
from orchestrator_core.ports import RunStatus, StepRecord, StepStatus

_RESTARTABLE = (StepStatus.RUNNING, StepStatus.QUEUED, StepStatus.RETRYING)

MERGE_KEY = "logic.merge"


REDO_KIND = "redo"


def is_redo(step: StepRecord | None) -> bool:
    """True for a step a review round sent back (it runs again once its inputs are decided)."""
    return (
        step is not None
        and step.status == StepStatus.QUEUED
        and isinstance(step.request, Mapping)
        and step.request.get("kind") == REDO_KIND
    )


def fired(step: StepRecord) -> bool:
    """True when later nodes may use the step: it succeeded, or failed with a handled error."""
    return step.status == StepStatus.SUCCEEDED or (step.status == StepStatus.FAILED and bool(step.ports))


def failed_unhandled(step: StepRecord) -> bool:
    """True for a failure that fails the run (not handled by ``on_error``), or an unknown outcome."""
    return step.status == StepStatus.OUTCOME_UNKNOWN or (step.status == StepStatus.FAILED and not step.ports)


def edge_active(edge: Edge, steps: Mapping[str, StepRecord]) -> bool:
    source = steps.get(edge.source)
    return source is not None and fired(source) and edge.source_port in source.ports


def _first_wins(node: Node) -> bool:
    return node.type == MERGE_KEY and node.config.get("mode") == "first"


def _incoming(workflow: Workflow) -> dict[str, list[Edge]]:
    incoming: dict[str, list[Edge]] = {n.id: [] for n in workflow.nodes}
    for edge in workflow.edges:
        incoming.setdefault(edge.target, []).append(edge)
    return incoming


def ready_nodes(workflow: Workflow, steps: Mapping[str, StepRecord]) -> tuple[list[str], list[str]]:
    """Decide what happens next.

    Args:
        workflow: a validated workflow.
        steps: the run's step records by node id.

    Returns:
        ``(ready, skipped)``, both sorted by node id: nodes to execute now, and nodes whose
        inputs are all decided but none is active (a branch not taken) to mark skipped now.
        A waiting node with a ``resume`` answer, and a node left running/queued/retrying by a
        crashed worker (or waiting for its next retry), are ready again.
    """
    incoming = _incoming(workflow)
    first_wins = {n.id for n in workflow.nodes if _first_wins(n)}
    ready: list[str] = []
    skipped: list[str] = []
    for node_id in sorted(incoming):
        step = steps.get(node_id)
        if step is not None and not is_redo(step):
            if step.status in _RESTARTABLE or (step.status == StepStatus.WAITING and step.resume is not None):
                ready.append(node_id)
            continue
        edges = incoming[node_id]
        if not edges:
            ready.append(node_id)
            continue
        active = False
        decided = True
        for edge in edges:
            source = steps.get(edge.source)
            if source is None or not source.status.is_final:
                decided = False
                continue
            if edge_active(edge, steps):
                active = True
        if active and node_id in first_wins:
            ready.append(node_id)
        elif decided:
            (ready if active else skipped).append(node_id)
    return ready, skipped


def run_outcome(workflow: Workflow, steps: Mapping[str, StepRecord]) -> RunStatus | None:
    """The run's final (or parked) status, or None while there is work to do.

    FAILED when a step failed (and ``on_error`` did not handle it) or its outcome is unknown;
    WAITING when a step waits and nothing else can run; SUCCEEDED when every node has a final
    step.
    """
    if any(failed_unhandled(s) for s in steps.values()):
        return RunStatus.FAILED
    ready, skipped = ready_nodes(workflow, steps)
    if ready or skipped:
        return None
    if any(s.status == StepStatus.WAITING for s in steps.values()):
        return RunStatus.WAITING
    if all(n.id in steps and steps[n.id].status.is_final for n in workflow.nodes):
        return RunStatus.SUCCEEDED
    return None
