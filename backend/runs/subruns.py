"""Child runs on the Django ORM: the core's `SubRuns` port, waking parents, cancelling children.

A child run is an ordinary `Run` of the called workflow's published version with
``parent_run``, ``parent_node_id`` and ``parent_key`` set (unique together: starting is
idempotent) and ``depth`` one more than its parent. The parent's node parks its step with
``request = {"kind": "children", "done": n, ...}`` (n: how many children were final when it
looked). A parent is woken, after the child's final status has committed, by:

1. `subruns_run_ended` (on commit of every final status: `DjangoRunStore.finish`, `run_cancel`);
2. `DjangoRunStore.finish` parking a run ``waiting`` (`subruns_wake_node`: a child may have
   ended while the parent's node was still running: the lost wake-up);
3. `subruns_wake_stale`, run by the reaper, as a safety net.

Waking = a conditional update that stores ``resume`` on the waiting step when more children
are final than the step saw, then `run_resume`: a second waker changes nothing.
See docs/decisions/0005-child-runs.md.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Mapping
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from backend.runs.events import run_events_append
from backend.runs.models import Run, StepRun
from backend.workflows.models import Workflow, WorkflowVersion
from orchestrator_core import BatonError, ErrorCode, NodeError
from orchestrator_core.nodes.builtin.flow_subworkflow import (
    CHILDREN_KIND,
    MAX_SUBWORKFLOW_DEPTH,
    terminal_outputs,
)
from orchestrator_core.nodes.builtin.trigger_manual import trigger_fields
from orchestrator_core.ports import JSON, ChildRun, Event, RunStatus
from orchestrator_core.validation import Issue

logger = logging.getLogger(__name__)

CALLER_TYPES = ("flow.subworkflow", "logic.loop")
"""Node types whose ``config.workflow`` names a workflow to run as a child."""


def _not_found(workflow: str) -> NodeError:
    return NodeError(
        f"There is no workflow '{workflow}' that this workflow's owner may run.",
        code=ErrorCode.SUBWORKFLOW_NOT_FOUND,
    )


def _target(ref: str, owner_id: int | None) -> Workflow | None:
    """The referenced workflow when it exists and the calling workflow's owner may run it."""
    from backend.accounts.models import User
    from backend.workflows.selectors import workflow_permission

    try:
        target = Workflow.objects.get(id=int(ref))
    except (Workflow.DoesNotExist, ValueError, TypeError, OverflowError):
        return None
    owner = User.objects.filter(id=owner_id).first() if owner_id is not None else None
    if owner is None or workflow_permission(workflow=target, user=owner) not in ("run", "edit"):
        return None
    return target


def _version(target: Workflow, number: int | None) -> WorkflowVersion | None:
    published = target.versions.filter(published=True)
    if number is None:
        return published.order_by("-number").first()
    return published.filter(number=number).first()


def _child(run: Run, outputs: Mapping[str, Any] | None = None) -> ChildRun:
    status = RunStatus(run.status)
    error = run.error if status in (RunStatus.FAILED, RunStatus.CANCELLED) else None
    return ChildRun(
        run_id=str(run.id),
        key=run.parent_key,
        status=status,
        version=run.version.number,
        output=outputs if status == RunStatus.SUCCEEDED else None,
        error=error,
    )


def _outputs(runs: list[Run]) -> dict[int, dict[str, JSON]]:
    """Terminal outputs of the succeeded runs (one query for all their steps)."""
    from backend.runs.store import step_record_from_row

    done = [r for r in runs if r.status == Run.Status.SUCCEEDED]
    steps: dict[int, dict[str, Any]] = {r.id: {} for r in done}
    for row in StepRun.objects.filter(run_id__in=list(steps), status="succeeded"):
        steps[row.run_id][row.node_id] = step_record_from_row(row)
    return {r.id: terminal_outputs(r.version.document, steps[r.id]) for r in done}


class DjangoSubRuns:
    """The `SubRuns` port: child runs are `Run` rows, started through `run_start`."""

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
        from backend.runs.services import run_start  # services builds the runner that uses this

        parent = Run.objects.select_related("workflow").get(id=int(parent_run_id))
        existing = self._existing(parent.id, node_id, key)
        if existing is not None:
            return existing
        if parent.depth + 1 > MAX_SUBWORKFLOW_DEPTH:
            raise NodeError(
                f"Sub-workflows may be nested at most {MAX_SUBWORKFLOW_DEPTH} deep "
                f"(run {parent.id} is at depth {parent.depth}).",
                code=ErrorCode.SUBWORKFLOW_DEPTH,
            )
        target = _target(workflow, parent.workflow.owner_id)
        if target is None:
            raise _not_found(workflow)
        target_version = _version(target, version)
        if target_version is None:
            which = "a published version" if version is None else f"a published version {version}"
            raise NodeError(
                f"Workflow '{target.name}' has no {which}.", code=ErrorCode.SUBWORKFLOW_NOT_PUBLISHED
            )
        try:
            with transaction.atomic():
                run = run_start(
                    version=target_version,
                    started_by=parent.started_by,
                    inputs=inputs,
                    audit_data={
                        "via": "subworkflow",
                        "parent_run": parent.id,
                        "node_id": node_id,
                        "key": key,
                    },
                )
                Run.objects.filter(id=run.id).update(
                    parent_run=parent, parent_node_id=node_id, parent_key=key, depth=parent.depth + 1
                )
        except IntegrityError:  # another worker started this key just now
            existing = self._existing(parent.id, node_id, key)
            if existing is None:
                raise
            return existing
        except BatonError as e:  # INPUT_INVALID: the inputs do not fit the child's trigger
            raise NodeError(
                f"Inputs for workflow '{target.name}': {e.message}", code=e.code, details=e.details
            ) from None
        run.parent_key = key
        return _child(run)

    @staticmethod
    def _existing(parent_id: int, node_id: str, key: str) -> ChildRun | None:
        run = (
            Run.objects.select_related("version")
            .filter(parent_run_id=parent_id, parent_node_id=node_id, parent_key=key)
            .first()
        )
        if run is None:
            return None
        return _child(run, _outputs([run]).get(run.id))

    def children(self, parent_run_id: str, node_id: str) -> Mapping[str, ChildRun]:
        runs = list(
            Run.objects.select_related("version").filter(
                parent_run_id=int(parent_run_id), parent_node_id=node_id
            )
        )
        # Outputs are read only once every child is over: skip loading steps before that.
        outputs = _outputs(runs) if all(r.status in Run.FINAL for r in runs) else {}
        return {run.parent_key: _child(run, outputs.get(run.id)) for run in runs}


# --- waking parents ----------------------------------------------------------------------------


def subruns_wake_node(*, run_id: int, node_id: str) -> bool:
    """Wake the run's step parked on its children if more of them are final than it saw.

    Returns True when this call stored the answer (and queued the run).
    """
    from backend.runs.services import run_resume

    step = (
        StepRun.objects.filter(run_id=run_id, node_id=node_id, status="waiting", resume__isnull=True)
        .values_list("id", "request")
        .first()
    )
    if step is None:
        return False
    step_id, request = step
    if not isinstance(request, dict) or request.get("kind") != CHILDREN_KIND:
        return False
    done = Run.objects.filter(parent_run_id=run_id, parent_node_id=node_id, status__in=Run.FINAL).count()
    seen = request.get("done")
    if isinstance(seen, int) and done <= seen:
        return False
    with transaction.atomic():
        woke = StepRun.objects.filter(id=step_id, status="waiting", resume__isnull=True).update(
            resume={"kind": CHILDREN_KIND, "done": done, "at": timezone.now().isoformat()}
        )
        if woke:
            run_resume(run_id=run_id)
    return bool(woke)


def subruns_wake_waiting(*, run_id: int) -> bool:
    """For a run just parked ``waiting``: wake every step whose children changed meanwhile."""
    node_ids = StepRun.objects.filter(
        run_id=run_id, status="waiting", resume__isnull=True, request__kind=CHILDREN_KIND
    ).values_list("node_id", flat=True)
    woke = False
    for node_id in list(node_ids):
        woke = subruns_wake_node(run_id=run_id, node_id=node_id) or woke
    return woke


def subruns_run_ended(*, run_id: int) -> None:
    """After a run's final status committed: wake its parent's node, cancel its unfinished children."""
    row = Run.objects.filter(id=run_id).values("parent_run_id", "parent_node_id").first()
    if row is not None and row["parent_run_id"] is not None:
        subruns_wake_node(run_id=row["parent_run_id"], node_id=row["parent_node_id"])
    subruns_cancel_children(run_id=run_id)


def subruns_wake_stale() -> int:
    """The reaper's safety net: wake parked parents whose children ended unnoticed."""
    woken = 0
    parked = StepRun.objects.filter(
        status="waiting", resume__isnull=True, request__kind=CHILDREN_KIND
    ).values_list("run_id", "node_id")
    for run_id, node_id in list(parked):
        try:
            woken += subruns_wake_node(run_id=run_id, node_id=node_id)
        except Exception:  # one bad row must not stop the sweep
            logger.warning("Could not wake run %s node %s", run_id, node_id, exc_info=True)
    return woken


# --- cancelling --------------------------------------------------------------------------------


def subruns_cancel_children(*, run_id: int) -> int:
    """Cancel the run's unfinished child runs (and, through their own end, theirs).

    A parked child (queued or waiting) is cancelled at once, with its open approvals; a running
    one is asked to stop (its worker finishes it as cancelled at the next step).
    """
    from backend.approvals.services import approvals_cancel_for_run

    cancelled = 0
    for child_id in list(
        Run.objects.filter(parent_run_id=run_id).exclude(status__in=Run.FINAL).values_list("id", flat=True)
    ):
        error = {"code": str(ErrorCode.RUN_CANCELLED), "message": f"Cancelled with its parent run {run_id}."}
        with transaction.atomic():
            parked = Run.objects.filter(
                id=child_id, status__in=[Run.Status.QUEUED, Run.Status.WAITING]
            ).update(
                status=Run.Status.CANCELLED, cancel_requested=True, finished_at=timezone.now(), error=error
            )
            if parked:
                approvals_cancel_for_run(run_id=child_id)
                run_events_append(
                    run_id=child_id,
                    events=[Event("run.status", None, {"status": "cancelled", "error": error})],
                )
                transaction.on_commit(functools.partial(subruns_cancel_children, run_id=child_id))
            else:
                Run.objects.filter(id=child_id).exclude(status__in=Run.FINAL).update(cancel_requested=True)
        cancelled += 1
    return cancelled


# --- validation at publish -----------------------------------------------------------------------


def subworkflow_issues(*, workflow: Workflow, document: Any) -> list[Issue]:
    """Problems with the workflows a document's sub-workflow and loop nodes call.

    The called workflow must exist, be runnable by ``workflow``'s owner, not be ``workflow``
    itself, and have the (published) version asked for; the given inputs must be fields of its
    trigger, and its required fields (without a default) must be given.
    """
    nodes = document.get("nodes") if isinstance(document, Mapping) else None
    issues: list[Issue] = []
    for node in nodes if isinstance(nodes, list) else []:
        if not isinstance(node, Mapping) or node.get("type") not in CALLER_TYPES:
            continue
        raw_config = node.get("config")
        config: Mapping[str, Any] = raw_config if isinstance(raw_config, Mapping) else {}
        node_id = str(node.get("id") or "")
        ref = config.get("workflow")
        if ref is None or isinstance(ref, bool) or not isinstance(ref, str | int):
            continue  # the core's config check reports it
        ref = str(ref)
        if ref == str(workflow.id):
            issues.append(
                Issue(
                    ErrorCode.SUBWORKFLOW_RECURSIVE,
                    f"Node '{node_id}': a workflow cannot call itself.",
                    node_id,
                )
            )
            continue
        target = _target(ref, workflow.owner_id)
        if target is None:
            issues.append(
                Issue(ErrorCode.SUBWORKFLOW_NOT_FOUND, f"Node '{node_id}': {_not_found(ref)}", node_id)
            )
            continue
        pinned = config.get("version", "latest")
        number = pinned if isinstance(pinned, int) and not isinstance(pinned, bool) else None
        target_version = _version(target, number)
        if target_version is None:
            which = "a published version" if number is None else f"a published version {number}"
            issues.append(
                Issue(
                    ErrorCode.SUBWORKFLOW_NOT_PUBLISHED,
                    f"Node '{node_id}': workflow '{target.name}' has no {which}.",
                    node_id,
                )
            )
            continue
        field = "inputs" if node.get("type") == "flow.subworkflow" else "item_inputs"
        given = config.get(field)
        if not isinstance(given, Mapping) or (field == "item_inputs" and not given):
            continue  # a loop without item_inputs passes each item as it is: checked at run time
        issues += _input_issues(node_id, field, target.name, target_version.document, given)
    return issues


def _input_issues(
    node_id: str, field: str, name: str, document: Any, given: Mapping[str, Any]
) -> list[Issue]:
    fields = trigger_fields(document)
    if not fields:
        return []  # a trigger without fields takes any object
    known = {f["name"]: f for f in fields}
    issues = [
        Issue(
            ErrorCode.NODE_CONFIG_INVALID,
            f"Node '{node_id}', field '{field}.{key}': workflow '{name}' has no input '{key}' "
            f"(its inputs: {', '.join(known)}).",
            node_id,
        )
        for key in given
        if key not in known
    ]
    raw = {str(f.get("name")): f for f in _trigger_raw_fields(document)}
    for key, spec in known.items():
        default = raw.get(key, {}).get("default")
        if spec.get("required") and default is None and key not in given:
            issues.append(
                Issue(
                    ErrorCode.NODE_CONFIG_INVALID,
                    f"Node '{node_id}', field '{field}': workflow '{name}' needs the input '{key}'.",
                    node_id,
                )
            )
    return issues


def _trigger_raw_fields(document: Any) -> list[dict[str, Any]]:
    for node in (document or {}).get("nodes") or []:
        if isinstance(node, dict) and node.get("type") == "trigger.manual":
            fields = (node.get("config") or {}).get("fields")
            return [f for f in fields if isinstance(f, dict)] if isinstance(fields, list) else []
    return []
