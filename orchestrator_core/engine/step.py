"""The pure step function: which nodes run next, and is the run over? No I/O here."""

from __future__ import annotations

from collections.abc import Mapping

from orchestrator_core.graph import Edge, Workflow
from orchestrator_core.ports import RunStatus, StepRecord, StepStatus

_RESTARTABLE = (StepStatus.RUNNING, StepStatus.QUEUED, StepStatus.RETRYING)


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
        crashed worker, are ready again.
    """
    incoming = _incoming(workflow)
    ready: list[str] = []
    skipped: list[str] = []
    for node_id in sorted(incoming):
        step = steps.get(node_id)
        if step is not None:
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
                break
            if source.status == StepStatus.SUCCEEDED and edge.source_port in source.ports:
                active = True
        if not decided:
            continue
        (ready if active else skipped).append(node_id)
    return ready, skipped


def run_outcome(workflow: Workflow, steps: Mapping[str, StepRecord]) -> RunStatus | None:
    """The run's final (or parked) status, or None while there is work to do.

    FAILED when a step failed or its outcome is unknown; WAITING when a step waits and nothing
    else can run; SUCCEEDED when every node has a final step.
    """
    if any(s.status in (StepStatus.FAILED, StepStatus.OUTCOME_UNKNOWN) for s in steps.values()):
        return RunStatus.FAILED
    ready, skipped = ready_nodes(workflow, steps)
    if ready or skipped:
        return None
    if any(s.status == StepStatus.WAITING for s in steps.values()):
        return RunStatus.WAITING
    if all(n.id in steps and steps[n.id].status.is_final for n in workflow.nodes):
        return RunStatus.SUCCEEDED
    return None
