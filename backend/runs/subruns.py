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
from typing import TYPE_CHECKING, Any

from django.db import IntegrityError, connection, transaction
from django.db.models import FloatField, Sum
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Cast, Coalesce
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

if TYPE_CHECKING:
    from backend.accounts.models import User

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
        gone = _started_before(parent.id, node_id, key)
        if gone is not None:  # its run was deleted (with its workflow, or by retention)
            raise NodeError(
                f"Child run {gone} (key {key}) no longer exists: it was deleted.",
                code=ErrorCode.SUBWORKFLOW_FAILED,
                details={"run_id": gone, "status": "deleted", "error": None},
            )
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
                    parent_run=parent,
                    parent_node_id=node_id,
                    parent_key=key,
                    depth=parent.depth + 1,
                    root_run_id=parent.root_run_id or parent.id,
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

    def usage(self, parent_run_id: str, node_id: str) -> dict[str, Any]:
        """What the node's child runs and all their descendants spent: ``{runs, cost_usd,
        tokens_in, tokens_out}`` (two queries: a recursive CTE for the runs, one sum).

        Looked up by the runner (optional on the `SubRuns` port) to record on the parent's step
        as ``meta.children_*``; the step's own ``cost_usd`` stays its own spend.
        """
        ids = descendant_run_ids(run_id=int(parent_run_id), node_id=node_id)
        if not ids:
            return {"runs": 0}

        def total(key: str) -> Coalesce:
            return Coalesce(
                Sum(Cast(KeyTextTransform(key, "meta"), FloatField())), 0.0, output_field=FloatField()
            )

        sums = StepRun.objects.filter(run_id__in=ids, meta__has_key="model").aggregate(
            cost_usd=total("cost_usd"), tokens_in=total("tokens_in"), tokens_out=total("tokens_out")
        )
        return {
            "runs": len(ids),
            "cost_usd": round(float(sums["cost_usd"]), 9),
            "tokens_in": int(sums["tokens_in"]),
            "tokens_out": int(sums["tokens_out"]),
        }


def descendant_run_ids(*, run_id: int, node_id: str | None = None) -> list[int]:
    """The child runs of ``run_id`` (of its node ``node_id`` only, when given) and all theirs."""
    table = Run._meta.db_table
    start = f"SELECT id FROM {table} WHERE parent_run_id = %s"  # noqa: S608 - the model's own table
    params: list[Any] = [run_id]
    if node_id is not None:
        start += " AND parent_node_id = %s"
        params.append(node_id)
    sql = (
        f"WITH RECURSIVE tree(id) AS ({start} UNION ALL "  # noqa: S608
        f"SELECT r.id FROM {table} r JOIN tree t ON r.parent_run_id = t.id) SELECT id FROM tree"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [int(row[0]) for row in cursor.fetchall()]


# --- waking parents ----------------------------------------------------------------------------


def _request_runs(request: Any) -> dict[str, str]:
    """``request.runs`` of a step parked on its children: ``{key: run_id}``."""
    runs = request.get("runs") if isinstance(request, Mapping) else None
    return {str(k): str(v) for k, v in runs.items()} if isinstance(runs, Mapping) else {}


def _started_before(parent_id: int, node_id: str, key: str) -> str | None:
    """The id of the child the parent's step once started under ``key`` (its parked request
    lists it) when that run no longer exists; None when it was never started or still exists."""
    request = (
        StepRun.objects.filter(run_id=parent_id, node_id=node_id).values_list("request", flat=True).first()
    )
    run_id = _request_runs(request).get(key)
    if run_id is None or not run_id.isdigit() or Run.objects.filter(id=int(run_id)).exists():
        return None
    return run_id


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
    listed = [int(v) for v in _request_runs(request).values() if v.isdigit()]
    if listed:  # a deleted child is over too: the node then fails SUBWORKFLOW_FAILED, never waits
        done += len(listed) - Run.objects.filter(id__in=listed).count()
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


AGENT_TYPE = "llm.agent"
"""Its ``config.tools[*].workflow`` names published workflows the agent may run as tools."""


def workflow_calls(document: Any) -> list[dict[str, Any]]:
    """Every call of another workflow in a document: ``{node_id, type, ref, version, field,
    given}`` for sub-workflow and loop nodes and for each workflow tool of an ``llm.agent``
    (``field``: where the inputs are, ``given``: the inputs the document sets)."""
    nodes = document.get("nodes") if isinstance(document, Mapping) else None
    calls: list[dict[str, Any]] = []
    for node in nodes if isinstance(nodes, list) else []:
        if not isinstance(node, Mapping):
            continue
        raw_config = node.get("config")
        config: Mapping[str, Any] = raw_config if isinstance(raw_config, Mapping) else {}
        node_id, node_type = str(node.get("id") or ""), node.get("type")
        if node_type in CALLER_TYPES:
            field = "inputs" if node_type == "flow.subworkflow" else "item_inputs"
            calls.append(
                {
                    "node_id": node_id,
                    "type": node_type,
                    "ref": config.get("workflow"),
                    "version": config.get("version", "latest"),
                    "field": field,
                    "given": config.get(field),
                }
            )
        elif node_type == AGENT_TYPE and isinstance(config.get("tools"), list):
            for i, tool in enumerate(config["tools"]):
                if isinstance(tool, Mapping) and tool.get("workflow") is not None:
                    calls.append(
                        {
                            "node_id": node_id,
                            "type": node_type,
                            "ref": tool.get("workflow"),
                            "version": tool.get("version", "latest"),
                            "field": f"tools[{i}].fixed",
                            "given": tool.get("fixed"),
                            "tool": str(tool.get("name") or i),
                        }
                    )
    return calls


def subworkflow_issues(*, workflow: Workflow, document: Any, user: User | None = None) -> list[Issue]:
    """Problems with the workflows a document calls (sub-workflow and loop nodes, and the
    workflow tools of ``llm.agent`` nodes).

    The called workflow must exist, be runnable by ``workflow``'s owner (and by ``user``, who
    publishes or test-runs the document: an edit share must not reach the owner's other
    workflows through it), not be ``workflow``
    itself, and have the (published) version asked for; the given inputs must be fields of its
    trigger, and (sub-workflow, loop) its required fields without a default must be given (an
    agent's model may give them).
    """
    issues: list[Issue] = []
    for call in workflow_calls(document):
        node_id, ref = call["node_id"], call["ref"]
        where = f"Node '{node_id}'" + (f", tool '{call['tool']}'" if "tool" in call else "")
        if ref is None or isinstance(ref, bool) or not isinstance(ref, str | int):
            continue  # the core's config check reports it
        ref = str(ref)
        if ref == str(workflow.id):
            issues.append(
                Issue(ErrorCode.SUBWORKFLOW_RECURSIVE, f"{where}: a workflow cannot call itself.", node_id)
            )
            continue
        target = _target(ref, workflow.owner_id)
        if target is not None and user is not None and user.id != workflow.owner_id:
            target = _target(ref, user.id)
        if target is None:
            issues.append(Issue(ErrorCode.SUBWORKFLOW_NOT_FOUND, f"{where}: {_not_found(ref)}", node_id))
            continue
        pinned = call["version"]
        number = pinned if isinstance(pinned, int) and not isinstance(pinned, bool) else None
        if isinstance(pinned, str) and pinned.isdigit():
            number = int(pinned)
        target_version = _version(target, number)
        if target_version is None:
            which = "a published version" if number is None else f"a published version {number}"
            issues.append(
                Issue(
                    ErrorCode.SUBWORKFLOW_NOT_PUBLISHED,
                    f"{where}: workflow '{target.name}' has no {which}.",
                    node_id,
                )
            )
            continue
        field, given = call["field"], call["given"]
        if not isinstance(given, Mapping) or (field == "item_inputs" and not given):
            continue  # a loop without item_inputs passes each item as it is: checked at run time
        found = _input_issues(node_id, field, target.name, target_version.document, given)
        if call["type"] == AGENT_TYPE:  # the model supplies the rest: only unknown names count
            found = [
                Issue(i.code, i.message.replace(f"Node '{node_id}'", where, 1), i.node_id)
                for i in found
                if "has no input" in i.message
            ]
        issues += found
    return issues


def workflow_callers(*, workflow: Workflow) -> list[dict[str, Any]]:
    """Who still needs ``workflow``: runs waiting on an unfinished child run of it, and
    published versions of other workflows that call it (sub-workflow, loop, agent tool).

    Returns ``[{workflow_id, workflow, reason, runs | versions}]`` by calling workflow, where
    ``reason`` is ``waiting_run`` or ``published_version``.
    """
    callers: dict[tuple[int, str], dict[str, Any]] = {}
    waiting = (
        Run.objects.filter(workflow_id=workflow.id, parent_run__isnull=False)
        .exclude(status__in=Run.FINAL)
        .values_list("parent_run_id", "parent_run__workflow_id", "parent_run__workflow__name")
    )
    for parent_id, workflow_id, name in waiting:
        entry = callers.setdefault(
            (workflow_id, "waiting_run"),
            {"workflow_id": workflow_id, "workflow": name, "reason": "waiting_run", "runs": []},
        )
        if parent_id not in entry["runs"]:
            entry["runs"].append(parent_id)
    ref = str(workflow.id)
    versions = (
        WorkflowVersion.objects.filter(published=True)
        .exclude(workflow_id=workflow.id)
        .values_list("workflow_id", "workflow__name", "number", "document")
        .order_by("workflow_id", "number")
    )
    for workflow_id, name, number, document in versions.iterator():
        if not any(str(c["ref"]) == ref for c in workflow_calls(document)):
            continue
        entry = callers.setdefault(
            (workflow_id, "published_version"),
            {"workflow_id": workflow_id, "workflow": name, "reason": "published_version", "versions": []},
        )
        entry["versions"].append(number)
    return list(callers.values())


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
