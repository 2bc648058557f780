"""The run loop: claim -> ask the step function what is ready -> execute -> persist, via ports.

`advance_run` is what the Celery task ``run_advance`` calls. It is safe to call any number of
times for the same run (at-least-once delivery): only the worker holding the lease writes, and
a stale worker stops at its next write (`LeaseLost`).
"""

from __future__ import annotations

import json
import random
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from pydantic import ValidationError

from orchestrator_core.engine.context import RunContext
from orchestrator_core.engine.records import step_to_dict
from orchestrator_core.engine.step import (
    REDO_KIND,
    edge_active,
    failed_unhandled,
    fired,
    is_redo,
    ready_nodes,
    run_outcome,
)
from orchestrator_core.errors import BatonError, ErrorCode, LeaseLost, NodeError, WorkflowInvalid
from orchestrator_core.expressions import expression_context
from orchestrator_core.graph import Node, Workflow
from orchestrator_core.llm.budget import ALLOWANCE_KEY, StepsUsage
from orchestrator_core.nodes.base import Interrupt, NodeResult, NodeType, Redo
from orchestrator_core.nodes.registry import NodeRegistry
from orchestrator_core.nodes.settings import ERROR_PORT, NodeSettings, parse_settings
from orchestrator_core.policy import RunPolicy, redact_data
from orchestrator_core.ports import (
    ChildRun,
    Clock,
    ConversationMemory,
    Event,
    HttpClient,
    LLMClient,
    Mailer,
    RunSnapshot,
    RunStatus,
    RunStore,
    StepRecord,
    StepStatus,
    SubRuns,
    UsageLedger,
)
from orchestrator_core.validation import validate_or_raise

__all__ = [
    "RunnerServices",
    "advance_run",
    "checked_output",
    "error_dict",
    "perform_attempt",
    "run_timeout_seconds",
    "step_to_dict",
]

MAX_ROUNDS = 10_000
"""A safety net: a valid (acyclic) graph finishes in at most one round per node (plus retries)."""

MAX_WAIT_CHUNK_SECONDS = 5.0
"""A retry backoff sleeps in chunks this long at most, checking cancel and the lease between."""

CANCEL_POLL_SECONDS = 0.5
"""While a slow (not ``quick``) node runs, a watcher thread asks the store this often whether
the run was cancelled; when it was, it sets ``ctx.cancelled`` so that an HTTP call in flight
aborts (RUN_CANCELLED) instead of running to its end."""


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
    max_parallel: int = 4
    """How many ready nodes of one run execute at once (threads). 1 = one after the other.

    Node code then runs off the runner thread, so store methods a node calls through its
    context (the effect ledger) may be called from a worker thread; saves of steps and events
    always happen on the runner thread, in node-id order.
    """
    jitter_source: Callable[[], float] = field(default=random.random, repr=False)
    """``() -> float`` in [0, 1): the jitter source of retry backoff (inject for tests)."""
    thread_cleanup: Callable[[], None] | None = None
    """Called on a pool or timeout thread after a node ran there (e.g. Django's
    ``connection.close`` so the thread's database connection does not linger)."""
    http: HttpClient | None = None
    """Outbound HTTP for ``http.request`` (None: such nodes fail with NODE_FAILED)."""
    run_deadline: datetime | None = None
    """When the whole run must be over (``clock.now()`` time). Checked at every step boundary:
    past it, the run ends FAILED with ``RUN_TIMEOUT``. None: no limit."""
    policy: RunPolicy = field(default_factory=RunPolicy)
    """The governance policy the run executes under (budgets, allowed models...); nodes see it
    as ``ctx.policy``. The default limits nothing."""
    subruns: SubRuns | None = None
    """Child runs for ``flow.subworkflow`` and ``logic.loop`` (None: such nodes fail NODE_FAILED)."""
    usage: UsageLedger | None = None
    """What was spent, for budgets (per run, workflow per day, user per month). None: budgets
    count this run's own steps only."""
    memory: ConversationMemory | None = None
    """Conversations by session key for LLM nodes' ``memory`` (None: memory is not kept)."""
    budget_queue: str = "Default"
    """The approval queue of a budget approval (``on_budget=approve``) when the workflow has no
    ``human.approval`` node (else that of its first such node; see `budget_queue`)."""


def budget_queue(workflow: Workflow, fallback: str = "Default", registry: NodeRegistry | None = None) -> str:
    """Where a budget approval goes: the queue of the workflow's first ``human.approval`` node
    (document order; its default queue when the config names none), else ``fallback``."""
    for node in workflow.nodes:
        if node.type != "human.approval":
            continue
        queue = node.config.get("queue") if isinstance(node.config, Mapping) else None
        if queue is None and registry is not None:
            try:
                field_info = registry.get(node.type, node.type_version).config_model.model_fields.get("queue")
            except KeyError:
                field_info = None
            queue = field_info.default if field_info is not None else None
        if isinstance(queue, str) and queue.strip():
            return queue.strip()
    return fallback or "Default"


def children_usage_meta(subruns: Any, run_id: str, node_id: str) -> dict[str, Any]:
    """``{children_cost_usd, children_tokens_in, children_tokens_out}``: what the node's child
    runs and all their descendants spent, from the optional ``SubRuns.usage(run_id, node_id)``
    (a mapping ``{cost_usd, tokens_in, tokens_out}``); empty without it or without children."""
    usage = getattr(subruns, "usage", None)
    if not callable(usage):
        return {}
    spent = usage(run_id, node_id)
    if not isinstance(spent, Mapping) or not spent.get("runs"):
        return {}
    return {
        "children_runs": int(spent.get("runs") or 0),
        "children_cost_usd": float(spent.get("cost_usd") or 0.0),
        "children_tokens_in": int(spent.get("tokens_in") or 0),
        "children_tokens_out": int(spent.get("tokens_out") or 0),
    }


def run_timeout_seconds(document: Mapping[str, Any]) -> float | None:
    """The trigger node's optional ``config.run_timeout_seconds`` (None when absent or not a number)."""
    nodes = document.get("nodes") if isinstance(document, Mapping) else None
    for node in nodes if isinstance(nodes, list) else []:
        if not isinstance(node, Mapping) or not str(node.get("type", "")).startswith("trigger."):
            continue
        config = node.get("config")
        value = config.get("run_timeout_seconds") if isinstance(config, Mapping) else None
        if isinstance(value, int | float) and not isinstance(value, bool) and value > 0:
            return float(value)
        return None
    return None


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


def error_dict(exc: Exception) -> dict[str, Any]:
    """The ``{code, message, details?}`` of a failed attempt (pydantic errors: NODE_CONFIG_INVALID)."""
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


def _sleep(clock: Clock, seconds: float) -> None:
    """``clock.sleep`` when the clock has one (an optional part of the port), else real time."""
    sleep = getattr(clock, "sleep", None)
    if callable(sleep):
        sleep(seconds)
    else:
        time.sleep(seconds)


def _next_attempt_at(step: StepRecord | None) -> datetime | None:
    if step is None or step.status != StepStatus.RETRYING or not isinstance(step.request, Mapping):
        return None
    value = step.request.get("next_attempt_at")
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None


def _copy(values: Mapping[str, Any]) -> dict[str, Any]:
    """Copy a dict that an abandoned (timed-out) attempt may still be writing to."""
    for _ in range(10):
        try:
            return dict(values)
        except RuntimeError:  # changed size during iteration
            continue
    return {}


def _call(
    node_type: NodeType,
    ctx: RunContext,
    config: Any,
    timeout: float | None,
    cleanup: Callable[[], None] | None = None,
) -> NodeResult:
    """Run the node's execute, giving up after ``timeout`` seconds (NODE_TIMEOUT).

    A timed-out attempt's thread cannot be killed: it is abandoned (a daemon thread) and its
    result, if any, is ignored.
    """
    if timeout is None:
        return node_type.execute(ctx, config)
    box: dict[str, Any] = {}
    done = threading.Event()

    def target() -> None:
        try:
            box["result"] = node_type.execute(ctx, config)
        except BaseException as e:  # handed to the runner thread below
            box["error"] = e
        finally:
            done.set()
            if cleanup is not None:
                cleanup()

    thread = threading.Thread(target=target, name=f"baton-node-{ctx.node_id}", daemon=True)
    thread.start()
    if not done.wait(timeout):
        raise NodeError(
            f"Node '{ctx.node_id}' did not finish within {timeout:g} seconds.", code=ErrorCode.NODE_TIMEOUT
        )
    if "error" in box:
        raise box["error"]
    result: NodeResult = box["result"]
    return result


def perform_attempt(
    node_type: NodeType,
    config: Mapping[str, Any],
    ctx: RunContext,
    timeout: float | None,
    cleanup: Callable[[], None] | None = None,
) -> NodeResult:
    """One attempt of a node: validate its raw config, then execute it (with the timeout).

    Raises:
        whatever the node raises (`Interrupt`, `NodeError`...), ``pydantic.ValidationError``
        for a bad config, `NodeError` NODE_TIMEOUT.
    """
    parsed = node_type.config_model.model_validate(dict(config))
    return _call(node_type, ctx, parsed, timeout, cleanup)


def checked_output(result: NodeResult) -> dict[str, Any]:
    """The result's output as a storable dict.

    Raises:
        TypeError, ValueError: the output is not plain JSON.
    """
    output = dict(result.output)
    json.dumps(output, allow_nan=False)
    return output


class _RoundSubRuns:
    """A node's child runs in review round ``n`` > 1: keys carry ``r<n>:``, so a redone
    sub-workflow, loop or agent starts fresh children instead of finding the last round's."""

    def __init__(self, inner: SubRuns, round_no: int) -> None:
        self._inner = inner
        self._prefix = f"r{round_no}:"

    def start(
        self, parent_run_id: str, node_id: str, key: str, *, workflow: str, version: int | None, inputs: Any
    ) -> ChildRun:
        return self._inner.start(
            parent_run_id, node_id, self._prefix + key, workflow=workflow, version=version, inputs=inputs
        )

    def children(self, parent_run_id: str, node_id: str) -> Mapping[str, ChildRun]:
        n = len(self._prefix)
        found = self._inner.children(parent_run_id, node_id)
        return {key[n:]: child for key, child in found.items() if key.startswith(self._prefix)}


def round_subruns(subruns: SubRuns | None, round_no: int) -> SubRuns | None:
    """The child-run port a node sees in review round ``round_no`` (round 1: unchanged)."""
    if subruns is None or round_no <= 1:
        return subruns
    return _RoundSubRuns(subruns, round_no)


ROUND_META_KEYS = ("rounds", "review", "earlier_usage")
"""What a step keeps in ``meta`` across review rounds (see `_Advance._redo`)."""

USAGE_KEYS = ("cost_usd", "tokens_in", "tokens_out")


def _round_meta(step: StepRecord | None) -> dict[str, Any]:
    """The review-round keys of a step's meta (``rounds``: earlier rounds, ``review``,
    ``earlier_usage``: what the earlier rounds spent)."""
    if step is None or not step.meta:
        return {}
    return {k: step.meta[k] for k in ROUND_META_KEYS if k in step.meta}


def _usage(meta: Mapping[str, Any]) -> dict[str, Any]:
    """The ``cost_usd``/``tokens_in``/``tokens_out`` (and ``model``) a step's meta records."""
    used: dict[str, Any] = {
        k: v
        for k in USAGE_KEYS
        if isinstance(v := meta.get(k), int | float) and not isinstance(v, bool) and v
    }
    if used and meta.get("model"):
        used["model"] = meta["model"]
    return used


def _with_earlier_usage(meta: Mapping[str, Any]) -> dict[str, Any]:
    """The meta with the earlier rounds' spend added: a step's ``cost_usd`` and tokens count
    all its rounds, so budgets, usage and the run's cost keep what a redone step spent."""
    out = dict(meta)
    earlier = meta.get("earlier_usage")
    if not isinstance(earlier, Mapping):
        return out
    for key in USAGE_KEYS:
        value = earlier.get(key)
        if isinstance(value, int | float) and not isinstance(value, bool) and value:
            mine = out.get(key)
            base = mine if isinstance(mine, int | float) and not isinstance(mine, bool) else 0
            out[key] = base + value if key == "cost_usd" else int(base + value)
    if "model" not in out and earlier.get("model"):
        out["model"] = earlier["model"]
    return out


def _redo_of(job: _Job, step: StepRecord) -> Redo | None:
    """The review round a node asked for (only when it succeeded)."""
    if job.result is None or step.status != StepStatus.SUCCEEDED:
        return None
    return job.result.redo


@dataclass
class _Job:
    """One node execution prepared on the runner thread."""

    node: Node
    node_type: NodeType
    settings: NodeSettings
    running: StepRecord
    ctx: RunContext
    deferred: list[Event]
    result: NodeResult | None = None
    error: BaseException | None = None


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
        self.cancel_event = threading.Event()
        """Handed to every node as ``ctx.cancelled``; set by `_watching_cancel`."""
        self._budget_queue: str | None = None
        """`budget_queue` of the run's workflow: the same for every node, found once."""

    # --- persistence -------------------------------------------------------------------------

    def _save(self, step: StepRecord, extra: list[Event] | None = None) -> None:
        if self.services.policy.redact_pii:  # no PII at rest: later nodes see the redacted data too
            step = replace(step, inputs=redact_data(step.inputs), output=redact_data(step.output))
        events = [*self.pending, *(extra or []), _step_event(step)]
        self.store.save_step(self.run_id, fence=self.fence, step=step, events=events)
        self.pending = []
        self.steps[step.node_id] = step

    def _finish(self, status: RunStatus, error: Mapping[str, Any] | None = None) -> RunStatus:
        events = [*self.pending, Event("run.status", None, {"status": str(status), "error": error})]
        self.store.finish(self.run_id, fence=self.fence, status=status, error=error, events=events)
        self.pending = []
        return status

    def _cancelled(self) -> RunStatus:
        return self._finish(
            RunStatus.CANCELLED,
            {"code": str(ErrorCode.RUN_CANCELLED), "message": "The run was cancelled."},
        )

    # --- the loop ----------------------------------------------------------------------------

    def run(self) -> RunStatus | None:
        try:
            workflow = validate_or_raise(self.snap.document, self.services.registry)
        except WorkflowInvalid as e:
            return self._finish(RunStatus.FAILED, e.as_dict())
        for _ in range(MAX_ROUNDS):
            if self.store.cancel_requested(self.run_id):
                return self._cancelled()
            outcome = run_outcome(workflow, self.steps)
            if outcome in (None, RunStatus.WAITING) and self._past_deadline():
                return self._finish(
                    RunStatus.FAILED,
                    {"code": str(ErrorCode.RUN_TIMEOUT), "message": "The run did not finish in time."},
                )
            if outcome is not None:
                return self._finish(
                    outcome, self._run_error(workflow) if outcome == RunStatus.FAILED else None
                )
            ready, skipped = ready_nodes(workflow, self.steps)
            if not ready and not skipped:
                break
            now = self.services.clock.now()
            for node_id in skipped:
                skip = StepRecord(node_id, StepStatus.SKIPPED, started_at=None, ended_at=now)
                self._save(replace(skip, meta=_with_earlier_usage(_round_meta(self.steps.get(node_id)))))
            backing_off = {
                node_id: when
                for node_id in ready
                if (when := _next_attempt_at(self.steps.get(node_id))) is not None and when > now
            }
            due = [n for n in ready if n not in backing_off]
            if not due:
                # Only retries in their backoff remain: wait, then look again (and check cancel).
                if backing_off and not skipped and not self._wait_until(min(backing_off.values())):
                    return None
                continue
            if not self._execute_round(workflow, due):
                return None
        return self._finish(
            RunStatus.FAILED,
            {
                "code": str(ErrorCode.INTERNAL_ERROR),
                "message": "The run made no progress (no node was ready).",
            },
        )

    def _past_deadline(self) -> bool:
        deadline = self.services.run_deadline
        return deadline is not None and self.services.clock.now() >= deadline

    def _wait_until(self, when: datetime) -> bool:
        """Sleep until ``when`` in chunks, renewing the lease and checking cancel between them.

        Returns False when the lease was lost. A cancel ends the wait early; the loop's next
        round then finishes the run as cancelled.
        """
        clock = self.services.clock
        chunk = min(MAX_WAIT_CHUNK_SECONDS, max(self.services.lease_seconds / 3, 0.01))
        while (remaining := (when - clock.now()).total_seconds()) > 0:
            _sleep(clock, min(remaining, chunk))
            if not self._renew_lease_if_due():
                return False
            if self.store.cancel_requested(self.run_id):
                break
        return True

    @contextmanager
    def _watching_cancel(self, jobs: list[_Job]) -> Iterator[None]:
        """While ``jobs`` run, poll `RunStore.cancel_requested` on a thread and set the cancel
        event when the run was cancelled (only when a slow node runs: quick ones finish first)."""
        if self.cancel_event.is_set() or all(job.node_type.quick for job in jobs):
            yield
            return
        stop = threading.Event()
        cleanup = self.services.thread_cleanup

        def watch() -> None:
            polled = False
            try:
                while not stop.wait(CANCEL_POLL_SECONDS):
                    polled = True
                    try:
                        if self.store.cancel_requested(self.run_id):
                            self.cancel_event.set()
                            return
                    except Exception:  # noqa: S112 - a failed poll is retried; step boundaries check too
                        continue
            finally:
                if polled and cleanup is not None:
                    try:
                        cleanup()
                    except Exception:  # noqa: S110 - e.g. a test database shared between threads
                        pass

        watcher = threading.Thread(target=watch, name=f"baton-cancel-{self.run_id}", daemon=True)
        watcher.start()
        try:
            yield
        finally:
            stop.set()
            watcher.join(timeout=10)

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
            if step is not None and failed_unhandled(step):
                return {**dict(step.error or {}), "node_id": node.id}
        return None

    # --- executing nodes ---------------------------------------------------------------------

    def _execute_round(self, workflow: Workflow, node_ids: list[str]) -> bool:
        """Execute independent ready nodes, concurrently up to ``max_parallel``.

        Preparing (and saving the running state of slow nodes) and saving results happen here
        on the runner thread, in node-id order; only the nodes' execute() runs in the pool.
        Returns False when the lease was lost.
        """
        limit = max(1, self.services.max_parallel)
        if len(node_ids) == 1 or limit == 1:
            for node_id in node_ids:
                job = self._prepare(workflow, node_id)
                with self._watching_cancel([job]):
                    self._perform(job)
                step, events = self._concluded(job)
                redo = _redo_of(job, step)
                if redo is not None:  # a review round: the rest of the round is decided anew
                    self._redo(workflow, step, events, redo)
                    return self._renew_lease_if_due()
                self._save(step, events)
                if not self._renew_lease_if_due():
                    return False
                if failed_unhandled(self.steps[job.node.id]):
                    break  # the run fails: do not start the rest of the round
            return True
        jobs = [self._prepare(workflow, node_id) for node_id in node_ids]
        with (
            self._watching_cancel(jobs),
            ThreadPoolExecutor(max_workers=min(limit, len(jobs)), thread_name_prefix="baton-node") as pool,
        ):
            pending: set[Future[None]] = {pool.submit(self._perform_in_pool, job) for job in jobs}
            while pending:
                _done, pending = wait(
                    pending, timeout=max(self.services.lease_seconds / 3, 0.01), return_when=FIRST_COMPLETED
                )
                if pending and not self._renew_lease_if_due():
                    return False
        redos: list[tuple[StepRecord, list[Event], Redo]] = []
        for job in jobs:
            step, events = self._concluded(job)
            redo = _redo_of(job, step)
            if redo is not None:
                redos.append((step, events, redo))
            else:
                self._save(step, events)
        for step, events, redo in redos:  # after the round's other results (they may be sent back)
            self._redo(workflow, step, events, redo)
        return self._renew_lease_if_due()

    def _concluded(self, job: _Job) -> tuple[StepRecord, list[Event]]:
        """`_conclude`, with what the step spent in earlier review rounds added to its meta."""
        step, events = self._conclude(job)
        if "earlier_usage" in step.meta:
            step = replace(step, meta=_with_earlier_usage(step.meta))
        return step, events

    def _redo(self, workflow: Workflow, final: StepRecord, events: list[Event], redo: Redo) -> None:
        """A review round: send ``redo.from_node`` and every node after it that has a step
        (the deciding node included) back, in one atomic `RunStore.reset_steps`.

        Each such step becomes ``queued`` with ``request = {"kind": "redo", "round", "by"}``
        (`step.is_redo`: it runs again once its inputs are decided) and keeps what it did in
        earlier rounds in ``meta.rounds`` (the step as `step_to_dict` gives it, plus
        ``round``); ``meta.review`` is the ``review`` its expressions see when it runs again.
        """
        if self.services.policy.redact_pii:
            final = replace(final, inputs=redact_data(final.inputs), output=redact_data(final.output))
        review = dict(redo.review)
        round_no = review.get("round")
        earlier = round_no - 1 if isinstance(round_no, int) else None
        order = [n.id for n in workflow.nodes]
        targets = {redo.from_node}
        todo = [redo.from_node]
        while todo:
            for edge in workflow.outgoing(todo.pop()):
                if edge.target not in targets:
                    targets.add(edge.target)
                    todo.append(edge.target)
        current = {**self.steps, final.node_id: final}
        resets: list[StepRecord] = []
        for node_id in order:
            old = current.get(node_id)
            if node_id not in targets or old is None:
                continue
            entry = {**{k: v for k, v in step_to_dict(old).items() if k != "rounds"}, "round": earlier}
            spent, before = _usage(old.meta), old.meta.get("earlier_usage")
            if isinstance(before, Mapping):  # the entry shows that round's own spend
                for key in USAGE_KEYS:
                    entry[key] = max(0, (spent.get(key) or 0) - (before.get(key) or 0))
            rounds = [*_round_meta(old).get("rounds", []), entry]
            meta = {"rounds": rounds, "review": review, "earlier_usage": spent}
            resets.append(
                StepRecord(
                    node_id,
                    StepStatus.QUEUED,
                    request={"kind": REDO_KIND, "round": round_no, "by": final.node_id},
                    meta=_with_earlier_usage(meta),
                )
            )
        all_events = [*self.pending, *events, _step_event(final), *(_step_event(r) for r in resets)]
        self.store.reset_steps(self.run_id, fence=self.fence, steps=resets, events=all_events)
        self.pending = []
        for record in resets:
            self.steps[record.node_id] = record

    def _queue_for_budget_approvals(self, workflow: Workflow) -> str:
        if self._budget_queue is None:
            self._budget_queue = budget_queue(workflow, self.services.budget_queue, self.services.registry)
        return self._budget_queue

    def _prepare(self, workflow: Workflow, node_id: str) -> _Job:
        clock = self.services.clock
        prev = self.steps.get(node_id)
        retrying = prev is not None and prev.status == StepStatus.RETRYING
        resume = prev.resume if prev is not None else None
        request = prev.request if prev is not None and not retrying and not is_redo(prev) else None
        carried = _round_meta(prev)  # earlier review rounds stay on the step
        running = StepRecord(
            node_id,
            StepStatus.RUNNING,
            attempts=(prev.attempts if prev is not None else 0) + 1,
            started_at=clock.now(),
            request=request,
            resume=resume,
            meta=_with_earlier_usage(carried),
        )
        node = workflow.node(node_id)
        node_type = self.services.registry.get(node.type, node.type_version)  # validated at the start
        deferred = [_step_event(running)] if node_type.quick else []
        if not node_type.quick:
            self._save(running)
        fired_outputs = {k: s.output for k, s in self.steps.items() if fired(s)}
        incoming = {
            edge.source: self.steps[edge.source].output
            for edge in workflow.incoming(node_id)
            if edge_active(edge, self.steps)
        }
        ctx = RunContext(
            run_id=self.run_id,
            node_id=node_id,
            context=expression_context(
                trigger=self.snap.trigger,
                steps=fired_outputs,
                run_id=self.run_id,
                review=carried.get("review"),
            ),
            store=self.store,
            llm_client=self.services.llm,
            mailer=self.services.mailer,
            http=self.services.http,
            resume=resume,
            clock=clock,
            incoming=incoming,
            policy=self.services.policy,
            subruns=round_subruns(self.services.subruns, len(carried.get("rounds") or ()) + 1),
            cancelled=self.cancel_event,
            previous_request=request,
            usage=self.services.usage or StepsUsage(self.steps),
            memory=self.services.memory,
            budget_queue=self._queue_for_budget_approvals(workflow),
        )
        granted = prev.meta.get(ALLOWANCE_KEY) if prev is not None and request is not None else None
        if granted is not None:  # a budget approval of this step stays granted across its parks
            ctx.meta[ALLOWANCE_KEY] = _copy(granted)
        ctx.meta.update(carried)
        ctx.publish_transient = self._transient_publisher()
        return _Job(node, node_type, parse_settings(node.settings), running, ctx, deferred)

    def _transient_publisher(self) -> Callable[[list[Event]], None] | None:
        """The store's optional ``publish_transient(run_id, fence, events)``, bound to this run.

        Not part of the `RunStore` protocol: a store that has it saves and publishes events
        such as ``step.delta`` while the node still runs (from the node's thread); without it,
        those events are saved with the step.
        """
        publish = getattr(self.store, "publish_transient", None)
        if not callable(publish):
            return None
        run_id, fence = self.run_id, self.fence

        def send(events: list[Event]) -> None:
            publish(run_id, fence, events)

        return send

    def _perform(self, job: _Job) -> None:
        """Run one attempt of the node (on any thread); keeps the result or the error on the job."""
        try:
            job.result = perform_attempt(
                job.node_type,
                job.node.config,
                job.ctx,
                job.settings.timeout_seconds,
                self.services.thread_cleanup,
            )
        except BaseException as e:  # judged on the runner thread in _conclude
            job.error = e

    def _perform_in_pool(self, job: _Job) -> None:
        try:
            self._perform(job)
        finally:
            if self.services.thread_cleanup is not None:
                self.services.thread_cleanup()

    def _conclude(self, job: _Job) -> tuple[StepRecord, list[Event]]:
        """Turn an attempt's result or error into the step to save (runner thread)."""
        clock = self.services.clock
        ctx, running, node = job.ctx, job.running, job.node
        events = [*job.deferred, *ctx.events]
        err = job.error
        if ctx.used_subruns and self.services.subruns is not None:  # what its child runs spent
            with suppress(Exception):  # bookkeeping must not fail the step
                ctx.meta.update(children_usage_meta(self.services.subruns, self.run_id, node.id))
        if err is None and job.result is not None:
            try:
                output = checked_output(job.result)
            except Exception as e:
                err = e
            else:
                ports = job.result.ports
                if ports is None:
                    ports = tuple(p.name for p in job.node_type.output_ports(node.config))
                step = replace(
                    running,
                    status=StepStatus.SUCCEEDED,
                    inputs=_copy(ctx.inputs),
                    output=output,
                    ports=tuple(ports),
                    resume=None,
                    ended_at=clock.now(),
                    meta={**_copy(ctx.meta), **dict(job.result.meta)},
                )
                return step, events
        if isinstance(err, Interrupt):
            step = replace(
                running,
                status=StepStatus.WAITING,
                inputs=_copy(ctx.inputs),
                request=err.request,
                resume=None,
                meta=_copy(ctx.meta),
            )
            return step, events
        if isinstance(err, LeaseLost):
            raise err
        if not isinstance(err, Exception):  # KeyboardInterrupt, SystemExit...
            raise err if err is not None else RuntimeError("the node returned nothing")
        error = error_dict(err)
        failed = replace(
            running,
            status=StepStatus.FAILED,
            inputs=_copy(ctx.inputs),
            error=error,
            resume=None,
            ended_at=clock.now(),
            meta=_copy(ctx.meta),
        )
        if isinstance(err, NodeError) and err.code == ErrorCode.OUTCOME_UNKNOWN:
            return replace(failed, status=StepStatus.OUTCOME_UNKNOWN), events
        policy = job.settings.retry
        details = error.get("details")
        permanent = isinstance(details, Mapping) and bool(details.get("permanent"))  # e.g. an HTTP 404
        if running.attempts < policy.max_attempts and error.get("code") in policy.retry_on and not permanent:
            delay = policy.delay(running.attempts, self.services.jitter_source)
            next_at = clock.now() + timedelta(seconds=delay)
            step = replace(
                failed,
                status=StepStatus.RETRYING,
                ended_at=None,
                request={
                    "kind": "retry",
                    "attempt": running.attempts,
                    "max_attempts": policy.max_attempts,
                    "delay_seconds": round(delay, 3),
                    "next_attempt_at": next_at.isoformat(),
                },
            )
            return step, events
        on_error = job.settings.on_error
        if on_error == "continue":
            ports = tuple(p.name for p in job.node_type.output_ports(node.config))
            return replace(failed, output={"error": error}, ports=ports), events
        if on_error == "error_port":
            return replace(failed, output={"error": error}, ports=(ERROR_PORT,)), events
        return failed, events
