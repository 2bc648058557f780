from __future__ import annotations

import functools
import logging
import os
import socket
import threading
from datetime import datetime, timedelta
from typing import Any

from django.db import connection, transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from backend.accounts.models import User
from backend.audit.services import audit_record
from backend.common.engine import lease_seconds, llm_client, max_parallel, registry
from backend.common.errors import ApiError, Conflict, NotFound
from backend.connectors.http import DjangoHttpClient
from backend.connectors.mail import OutboxMailer
from backend.memory.store import DjangoConversationMemory
from backend.runs.budget import DjangoUsageLedger
from backend.runs.events import run_events_append
from backend.runs.models import Run, RunOrigin, StepRun
from backend.runs.store import DjangoRunStore, step_record_from_row
from backend.runs.subruns import DjangoSubRuns, subruns_run_ended, subruns_wake_stale
from backend.workflows.models import Workflow, WorkflowVersion
from backend.workflows.selectors import workflow_published_version
from backend.workflows.services import workflow_snapshot_draft
from orchestrator_core import RunnerServices, SystemClock, advance_run, check_trigger_input, step_to_dict
from orchestrator_core.engine.runner import run_timeout_seconds
from orchestrator_core.engine.single import SingleServices, execute_single
from orchestrator_core.graph import Node
from orchestrator_core.policy import RunPolicy
from orchestrator_core.ports import Event

logger = logging.getLogger(__name__)


def _dispatch(run_id: int) -> None:
    from backend.runs.tasks import run_advance as run_advance_task

    run_advance_task.delay(run_id)


def run_version_for_start(*, workflow: Workflow, user: User, source: str) -> WorkflowVersion:
    if source == "draft":
        return workflow_snapshot_draft(workflow=workflow, user=user)
    version = workflow_published_version(workflow=workflow)
    if version is None:
        raise ApiError("This workflow has no published version yet.", code="WORKFLOW_NOT_PUBLISHED")
    return version


@transaction.atomic
def run_start(
    *,
    version: WorkflowVersion,
    started_by: User | None,
    inputs: Any,
    audit_data: dict[str, Any] | None = None,
) -> Run:
    """Store a queued run and hand it to a worker once the transaction commits.

    ``audit_data`` adds to the ``run.start`` audit event (``{"via": "webhook"}``).

    Raises:
        BatonError: INPUT_INVALID when ``inputs`` do not fit the trigger's fields.
    """
    cleaned = check_trigger_input(version.document, inputs)
    run = Run.objects.create(
        workflow_id=version.workflow_id,
        version=version,
        started_by=started_by,
        inputs=cleaned,
        status=Run.Status.QUEUED,
    )
    run_events_append(run_id=run.id, events=[Event("run.status", None, {"status": "queued", "error": None})])
    audit_record(
        actor=started_by,
        action="run.start",
        target=run,
        data={"workflow": version.workflow_id, "version": version.number, **(audit_data or {})},
    )
    transaction.on_commit(lambda: _dispatch(run.id))
    return run


def _close_thread_connection() -> None:
    """Close the calling thread's own DB connection (``connection.close`` taken as a bound method
    would be the creating thread's connection: Django refuses to close it from another thread)."""
    connection.close()


def _worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}"


def _run_deadline(run_id: int) -> datetime | None:
    """When the run must be over: its start (or now, before the first claim) plus the trigger's
    ``run_timeout_seconds``; None without one."""
    row = Run.objects.filter(id=run_id).values_list("started_at", "version__document").first()
    if row is None:
        return None
    started_at, document = row
    seconds = run_timeout_seconds(document or {})
    if seconds is None:
        return None
    return (started_at or timezone.now()) + timedelta(seconds=seconds)


def _run_timed_out(run_id: int) -> None:
    """A run that ended on its deadline leaves no approval open."""
    error = Run.objects.filter(id=run_id).values_list("error", flat=True).first()
    if isinstance(error, dict) and error.get("code") == "RUN_TIMEOUT":
        from backend.approvals.services import approvals_cancel_for_run

        approvals_cancel_for_run(run_id=run_id)


def _run_policy(run_id: int) -> RunPolicy:
    """The effective policy (global merged with the workflow's) for this call: two queries.

    A child run (sub-workflow, loop item, agent's workflow tool) has its root run's per-run
    budget: the whole tree spends from one per-run budget (``backend/runs/budget.py``).
    """
    import dataclasses

    from backend.policies.selectors import effective_policy

    row = Run.objects.filter(id=run_id).values_list("workflow_id", "root_run__workflow_id").first()
    if row is None:
        return RunPolicy()
    workflow_id, root_workflow_id = row
    policy = effective_policy(workflow_id)[0]
    if root_workflow_id is not None and root_workflow_id != workflow_id:
        per_run = effective_policy(root_workflow_id)[0].budgets.per_run
        policy = dataclasses.replace(policy, budgets=dataclasses.replace(policy.budgets, per_run=per_run))
    return policy


def _budget_queue() -> str:
    from django.conf import settings

    return str(getattr(settings, "BATON_BUDGET_QUEUE", "") or "Default")


def run_advance(*, run_id: int) -> str | None:
    """Execute the run as far as it can go (called by the Celery task). Safe to call twice."""
    services = RunnerServices(
        store=DjangoRunStore(),
        registry=registry(),
        llm=llm_client(),
        mailer=OutboxMailer(),
        clock=SystemClock(),
        lease_seconds=lease_seconds(),
        owner=_worker_name(),
        max_parallel=max_parallel(),
        # Parallel branches run node code on pool threads; each opens its own connection.
        thread_cleanup=_close_thread_connection,
        http=DjangoHttpClient(),
        run_deadline=_run_deadline(run_id),
        subruns=DjangoSubRuns(),
        policy=_run_policy(run_id),
        usage=DjangoUsageLedger(),
        memory=DjangoConversationMemory(),
        budget_queue=_budget_queue(),
    )
    status = advance_run(str(run_id), services)
    if status == "failed":
        _run_timed_out(run_id)
    return str(status) if status is not None else None


@transaction.atomic
def run_cancel(*, run: Run, user: User) -> Run:
    """Cancel now if no worker holds the run; otherwise ask the worker to stop at the next step."""
    if run.status in Run.FINAL:
        raise Conflict(f"The run already ended ({run.status}).", code="RUN_FINISHED")
    parked = Run.objects.filter(id=run.id, status__in=[Run.Status.QUEUED, Run.Status.WAITING]).update(
        status=Run.Status.CANCELLED,
        cancel_requested=True,
        finished_at=timezone.now(),
        error={"code": "RUN_CANCELLED", "message": f"Cancelled by {user.username}."},
    )
    if parked:
        from backend.approvals.services import approvals_cancel_for_run

        approvals_cancel_for_run(run_id=run.id)
        transaction.on_commit(lambda: subruns_run_ended(run_id=run.id))  # wake a parent, cancel children
        run_events_append(
            run_id=run.id,
            events=[
                Event(
                    "run.status",
                    None,
                    {
                        "status": "cancelled",
                        "error": {"code": "RUN_CANCELLED", "message": f"Cancelled by {user.username}."},
                    },
                )
            ],
        )
    else:
        Run.objects.filter(id=run.id).update(cancel_requested=True)
    audit_record(actor=user, action="run.cancel", target=run)
    run.refresh_from_db()
    return run


def run_resume(*, run_id: int) -> None:
    """Put a waiting run back in the queue (after a decision) and dispatch it on commit."""
    updated = Run.objects.filter(id=run_id, status=Run.Status.WAITING).update(status=Run.Status.QUEUED)
    if updated:
        transaction.on_commit(lambda: _dispatch(run_id))


def run_reap(*, stale_queued_after: float = 60.0) -> int:
    """Re-dispatch runs whose worker died (lease expired) or whose message was lost."""
    now = timezone.now()
    expired = list(
        Run.objects.filter(status=Run.Status.RUNNING, lease_until__lt=now).values_list("id", flat=True)
    )
    lost = list(
        Run.objects.filter(
            status=Run.Status.QUEUED, created_at__lt=now - timedelta(seconds=stale_queued_after)
        ).values_list("id", flat=True)
    )
    for run_id in expired + lost:
        logger.info("Re-dispatching run %s", run_id)
        _dispatch(run_id)
    subruns_wake_stale()  # parents parked on children that ended unnoticed
    return len(expired) + len(lost)


def run_wake_timers(*, now: datetime | None = None) -> int:
    """Resume runs whose durable timer (``flow.delay``) is due. Safe to run anywhere, any time.

    A waiting step whose request is ``{"kind": "delay", "until": iso}`` gets the answer
    ``{"kind": "delay", "woke_at": iso}`` and its run is queued again; the conditional
    update makes two schedulers racing each other harmless.
    """
    now = now or timezone.now()
    woken = 0
    due = StepRun.objects.filter(status="waiting", resume__isnull=True, request__kind="delay").select_related(
        "run"
    )
    for step in due:
        until = parse_datetime(str((step.request or {}).get("until", "")))
        if until is None or until > now:
            continue
        with transaction.atomic():
            claimed = StepRun.objects.filter(id=step.id, status="waiting", resume__isnull=True).update(
                resume={"kind": "delay", "woke_at": now.isoformat()}
            )
            if claimed:
                run_resume(run_id=step.run_id)
                woken += 1
    return woken


RUN_TIMEOUT_ERROR = {"code": "RUN_TIMEOUT", "message": "The run did not finish in time."}


def runs_fail_overdue(*, now: datetime | None = None) -> int:
    """Fail waiting runs that are past their deadline (the trigger's ``run_timeout_seconds``).

    A run parked at an approval or a long ``flow.delay`` is otherwise only failed when it wakes.
    Each one ends ``failed`` with ``RUN_TIMEOUT``, its open approvals are cancelled, a
    ``run.status`` event is appended and the timeout is audited. The conditional update makes
    two schedulers (or a decision arriving at the same moment) harmless. Returns how many failed.
    """
    now = now or timezone.now()
    seconds_by_version: dict[int, float | None] = {}
    failed = 0
    waiting = Run.objects.filter(status=Run.Status.WAITING, started_at__isnull=False).values_list(
        "id", "version_id", "started_at"
    )
    for run_id, version_id, started_at in waiting.iterator():
        if version_id not in seconds_by_version:
            document = (
                WorkflowVersion.objects.filter(id=version_id).values_list("document", flat=True).first()
            )
            seconds_by_version[version_id] = run_timeout_seconds(document or {})
        seconds = seconds_by_version[version_id]
        if seconds is None or started_at is None or started_at + timedelta(seconds=seconds) > now:
            continue
        with transaction.atomic():
            updated = Run.objects.filter(id=run_id, status=Run.Status.WAITING).update(
                status=Run.Status.FAILED,
                error=RUN_TIMEOUT_ERROR,
                finished_at=now,
                lease_owner="",
                lease_until=None,
            )
            if not updated:
                continue
            from backend.approvals.services import approvals_cancel_for_run

            approvals_cancel_for_run(run_id=run_id)
            # Wake a parent run, cancel child runs (flow.subworkflow, logic.loop).
            transaction.on_commit(functools.partial(subruns_run_ended, run_id=run_id))
            run_events_append(
                run_id=run_id,
                events=[Event("run.status", None, {"status": "failed", "error": RUN_TIMEOUT_ERROR})],
            )
            audit_record(
                actor=None,
                action="run.timeout",
                target=Run.objects.get(id=run_id),
                data={"timeout_seconds": seconds, "while": "waiting"},
            )
        failed += 1
    return failed


def _downstream(document: dict[str, Any], node_id: str) -> set[str]:
    """``node_id`` and every node reachable from it."""
    successors: dict[str, list[str]] = {}
    for edge in document.get("edges") or []:
        successors.setdefault(str(edge.get("source")), []).append(str(edge.get("target")))
    seen = {node_id}
    todo = [node_id]
    while todo:
        for nxt in successors.get(todo.pop(), []):
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return seen


@transaction.atomic
def run_rerun(*, run: Run, user: User, from_node: str | None = None) -> Run:
    """Start a new run of ``run``'s version with its inputs.

    With ``from_node``, the succeeded steps of every node that is not ``from_node`` or
    downstream of it are copied into the new run, so the engine does not execute them again.

    Raises:
        Conflict: RUN_NOT_FINISHED while ``run`` is not final.
        ApiError: NODE_UNKNOWN when ``from_node`` is not a node of the run's version.
    """
    if run.status not in Run.FINAL:
        raise Conflict(f"The run has not finished yet ({run.status}).", code="RUN_NOT_FINISHED")
    document = run.version.document
    node_ids = {str(n.get("id")) for n in document.get("nodes") or []}
    if from_node is not None and from_node not in node_ids:
        raise ApiError(
            f"The workflow version has no node '{from_node}'.",
            code="NODE_UNKNOWN",
            details=[{"field": "from_node", "message": "unknown node id"}],
        )
    new_run = run_start(
        version=run.version,
        started_by=user,
        inputs=run.inputs,
        audit_data={"via": "rerun", "rerun_of": run.id, "from_node": from_node or ""},
    )
    RunOrigin.objects.create(run=new_run, rerun_of=run, rerun_from_node=from_node or "")
    if from_node is None:
        return new_run
    redo = _downstream(document, from_node)
    kept = [s for s in run.steps.filter(status="succeeded").order_by("id") if s.node_id in node_ids - redo]
    copies = [
        StepRun(
            run=new_run,
            node_id=s.node_id,
            status=s.status,
            attempts=s.attempts,
            inputs=s.inputs,
            output=s.output,
            ports=s.ports,
            error=s.error,
            request=s.request,
            resume=s.resume,
            started_at=s.started_at,
            ended_at=s.ended_at,
            meta={**(s.meta or {}), "copied_from_run": run.id},
        )
        for s in kept
    ]
    StepRun.objects.bulk_create(copies)
    events = [Event("step.status", c.node_id, step_to_dict(step_record_from_row(c))) for c in copies]
    if events:
        run_events_append(run_id=new_run.id, events=events)
    return new_run


def _node_test_policy(*, workflow: Workflow, user: User) -> dict[str, Any]:
    """Testing one node follows the workflow's policy: allowed models/connectors, redaction and
    budgets (per run: this call; the workflow's day and the user's month as stored)."""
    from backend.policies.selectors import effective_policy
    from backend.runs.budget import DryRunUsageLedger
    from orchestrator_core.engine.runner import budget_queue
    from orchestrator_core.graph import parse_workflow

    try:
        queue = budget_queue(parse_workflow(workflow.draft), _budget_queue(), registry())
    except Exception:
        queue = _budget_queue()
    return {
        "policy": effective_policy(workflow)[0],
        "usage": DryRunUsageLedger(workflow_id=workflow.id, user_id=user.id),
        "budget_queue": queue,
    }


def workflow_node_test(
    *,
    workflow: Workflow,
    user: User,
    node_id: str,
    trigger: Any,
    steps: dict[str, Any],
    config: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Execute one node of the workflow's draft on sample data: no run, no side effects.

    ``config`` replaces the node's saved config (to try an edit before saving it). LLM calls are
    made and their cost is returned in ``meta.cost_usd`` (and audited); e-mail and non-GET
    HTTP fail with ``SIDE_EFFECT_BLOCKED``.

    Raises:
        NotFound: the draft has no node ``node_id``.
    """
    draft = workflow.draft if isinstance(workflow.draft, dict) else {}
    raw = next(
        (n for n in draft.get("nodes") or [] if isinstance(n, dict) and n.get("id") == node_id),
        None,
    )
    if raw is None:
        raise NotFound(f"The draft has no node '{node_id}'.")
    type_version = raw.get("type_version", 1)
    saved_config = raw.get("config")
    saved_settings = raw.get("settings")
    node = Node(
        id=node_id,
        type=str(raw.get("type") or ""),
        type_version=type_version if isinstance(type_version, int) else 1,
        config=config if config is not None else (saved_config if isinstance(saved_config, dict) else {}),
        settings=saved_settings if isinstance(saved_settings, dict) else {},
    )
    incoming = {
        str(e.get("source")): steps[str(e.get("source"))]
        for e in draft.get("edges") or []
        if isinstance(e, dict) and e.get("target") == node_id and str(e.get("source")) in steps
    }
    result = execute_single(
        node,
        registry(),
        {"trigger": trigger, "steps": steps},
        # No overall cap: like a run, only the node's timeout setting moves it to a thread.
        SingleServices(
            llm=llm_client(),
            clock=SystemClock(),
            http=DjangoHttpClient(),
            thread_cleanup=_close_thread_connection,
            max_seconds=None,
            **_node_test_policy(workflow=workflow, user=user),
        ),
        incoming=incoming,
    )
    body = result.as_dict()
    audit_record(
        actor=user,
        action="workflow.node_test",
        target=workflow,
        data={
            "node_id": node_id,
            "status": result.status,
            "cost_usd": float(result.meta.get("cost_usd") or 0.0),
        },
    )
    return body
