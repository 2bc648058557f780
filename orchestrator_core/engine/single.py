"""Test one node: execute a single node against sample data, with no run and no side effects.

The editor's "test this node" button: the caller gives the node (with its config, possibly
edited), sample ``trigger`` and ``steps`` outputs, and gets back what the node would do. The
attempt goes through the runner's own path (`perform_attempt`, `checked_output`,
`error_dict`), with the node's ``timeout_seconds`` setting but no retry and no ``on_error``.

Nothing is persisted and the world is left alone: sending e-mail and non-GET HTTP requests
fail with ``SIDE_EFFECT_BLOCKED``. LLM calls are made (their cost is in ``meta.cost_usd``);
GET requests go out through the given `HttpClient`. A node that asks a person or a timer
(``interrupt``) comes back ``waiting`` with its request.

The workflow's policy applies as in a run (`SingleServices.policy`): allowed models and
connectors, PII redaction (of prompts and of the result's ``inputs`` and ``output``), and the
budgets: the per-run budget caps this one call; the per-workflow-day and per-user-month budgets
count what the `UsageLedger` reports (``usage``), when given. ``on_budget=approve`` answers
``waiting`` with the budget approval request (a test does not park).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from orchestrator_core.engine.context import RunContext
from orchestrator_core.engine.runner import checked_output, error_dict, perform_attempt
from orchestrator_core.errors import ErrorCode, NodeError
from orchestrator_core.expressions import expression_context
from orchestrator_core.graph import Node
from orchestrator_core.nodes.base import Interrupt, NodeType
from orchestrator_core.nodes.registry import NodeRegistry
from orchestrator_core.nodes.settings import parse_settings
from orchestrator_core.policy import RunPolicy, redact_data
from orchestrator_core.ports import (
    JSON,
    Clock,
    EffectRecord,
    EmailMessage,
    Event,
    HttpClient,
    HttpRequest,
    HttpResponse,
    LLMClient,
    RunSnapshot,
    RunStatus,
    StepRecord,
    UsageLedger,
)

__all__ = ["DRY_RUN_ID", "SingleResult", "SingleServices", "execute_single"]

DRY_RUN_ID = "test"
"""The ``run.id`` a tested node sees in expressions."""

MAX_TEST_SECONDS = 120.0
"""A test attempt gives up after this long even when the node has no (or a longer) timeout."""


def _blocked(what: str) -> NodeError:
    return NodeError(
        f"{what} is not performed when testing a node (no side effects); run the workflow instead.",
        code=ErrorCode.SIDE_EFFECT_BLOCKED,
    )


class _NoStore:
    """A `RunStore` that refuses everything: a tested node has no run to write to."""

    def claim(self, run_id: str, *, owner: str, lease_seconds: float) -> RunSnapshot | None:
        return None

    def save_step(self, run_id: str, *, fence: int, step: StepRecord, events: Any = ()) -> None:
        raise _blocked("Saving a step")

    def reset_steps(self, run_id: str, *, fence: int, steps: Any, events: Any = ()) -> None:
        raise _blocked("Saving a step")

    def finish(
        self,
        run_id: str,
        *,
        fence: int,
        status: RunStatus,
        error: Mapping[str, Any] | None = None,
        events: Any = (),
    ) -> None:
        raise _blocked("Finishing a run")

    def renew_lease(self, run_id: str, *, fence: int, lease_seconds: float) -> bool:
        return False

    def cancel_requested(self, run_id: str) -> bool:
        return False

    def effect_begin(self, key: str, *, run_id: str, node_id: str) -> EffectRecord:
        raise _blocked("A side effect")

    def effect_complete(self, key: str, *, result: JSON) -> None:
        raise _blocked("A side effect")

    def effect_abort(self, key: str) -> None:
        raise _blocked("A side effect")


class _NoMailer:
    def send(self, message: EmailMessage, *, idempotency_key: str, run_id: str, node_id: str) -> JSON:
        raise _blocked("Sending e-mail")


class DryRunContext(RunContext):
    """A `RunContext` with no run behind it: e-mail and non-GET HTTP raise SIDE_EFFECT_BLOCKED."""

    def send_email(self, message: EmailMessage) -> JSON:
        raise _blocked("Sending e-mail")

    def http(self, request: HttpRequest) -> HttpResponse:
        if request.method.upper() not in ("GET", "HEAD"):
            raise _blocked(f"An HTTP {request.method.upper()} request")
        return super().http(request)


@dataclass(frozen=True)
class SingleServices:
    """The ports a single-node test uses (no store, no mailer)."""

    llm: LLMClient
    clock: Clock
    http: HttpClient | None = None
    """For GET/HEAD requests only (None: ``http.request`` fails with NODE_FAILED)."""
    thread_cleanup: Callable[[], None] | None = None
    """Called on the timeout thread after the node ran there (e.g. Django's ``connection.close``)."""
    max_seconds: float | None = MAX_TEST_SECONDS
    """An attempt gives up after this long (NODE_TIMEOUT) whatever the node's own timeout; None:
    only the node's ``timeout_seconds`` setting applies (then, without one, no thread is used)."""
    policy: RunPolicy | None = None
    """The workflow's effective policy (None: limits nothing)."""
    usage: UsageLedger | None = None
    """Spend for the budgets, asked with run id ``"test"`` (None: only this call counts)."""
    budget_queue: str = "Default"
    """The queue a budget approval request names."""


@dataclass(frozen=True)
class SingleResult:
    status: Literal["succeeded", "failed", "waiting"]
    output: dict[str, Any] | None = None
    ports: tuple[str, ...] = ()
    inputs: dict[str, Any] = field(default_factory=dict)
    """What the node rendered and evaluated, by config field."""
    error: dict[str, Any] | None = None
    request: JSON = None
    """Set when ``waiting``: what the node asked a person (or timer) about."""
    meta: dict[str, Any] = field(default_factory=dict)
    """LLM model, tokens and ``cost_usd`` when the node called one."""
    duration_ms: int = 0
    events: tuple[Event, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        """``{status, output, ports, inputs, error, request, meta, duration_ms}`` (JSON)."""
        return {
            "status": self.status,
            "output": self.output,
            "ports": list(self.ports),
            "inputs": self.inputs,
            "error": self.error,
            "request": self.request,
            "meta": self.meta,
            "duration_ms": self.duration_ms,
        }


def execute_single(
    node: Node,
    registry: NodeRegistry,
    context: Mapping[str, Any],
    services: SingleServices,
    *,
    incoming: Mapping[str, JSON] | None = None,
) -> SingleResult:
    """Execute one attempt of ``node`` against sample data.

    Args:
        node: the node as stored (its ``config`` and ``settings`` are validated here).
        registry: where its node type comes from.
        context: the sample data ``{"trigger": ..., "steps": {node_id: output}}`` that
            expressions see (``run.id`` is ``"test"``).
        services: the LLM, clock and optional HTTP client.
        incoming: outputs of the sources of the node's incoming edges (``logic.merge``).

    Returns:
        The outcome; a failure is a ``failed`` result, never an exception (except
        ``KeyboardInterrupt`` and the like).
    """
    clock = services.clock
    started = clock.monotonic()
    steps = context.get("steps")
    ctx = DryRunContext(
        run_id=DRY_RUN_ID,
        node_id=node.id,
        context=expression_context(
            trigger=context.get("trigger"),
            steps=dict(steps) if isinstance(steps, Mapping) else {},
            run_id=DRY_RUN_ID,
        ),
        store=_NoStore(),
        llm_client=services.llm,
        mailer=_NoMailer(),
        http=services.http,
        clock=clock,
        incoming=incoming,
        policy=services.policy,
        usage=services.usage,
        budget_queue=services.budget_queue,
    )
    redact = services.policy is not None and services.policy.redact_pii

    def done(status: Literal["succeeded", "failed", "waiting"], **kwargs: Any) -> SingleResult:
        meta = {**dict(ctx.meta), **kwargs.pop("meta", {})}
        elapsed = max(0, round((clock.monotonic() - started) * 1000))
        inputs = dict(ctx.inputs)
        if redact:  # like a run's stored step: no PII in what the builder gets back
            inputs = redact_data(inputs)
            if kwargs.get("output") is not None:
                kwargs["output"] = redact_data(kwargs["output"])
        return SingleResult(
            status,
            inputs=inputs,
            meta=meta,
            duration_ms=elapsed,
            events=tuple(ctx.events),
            **kwargs,
        )

    try:
        node_type: NodeType = registry.get(node.type, node.type_version)
    except KeyError:
        error = {
            "code": str(ErrorCode.NODE_TYPE_UNKNOWN),
            "message": f"Unknown node type '{node.type}' version {node.type_version}.",
        }
        return done("failed", error=error)
    try:
        settings = parse_settings(node.settings)
        limits = [t for t in (settings.timeout_seconds, services.max_seconds) if t is not None]
        timeout = min(limits) if limits else None
        result = perform_attempt(node_type, node.config, ctx, timeout, services.thread_cleanup)
        output = checked_output(result)
    except Interrupt as e:
        return done("waiting", request=e.request)
    except Exception as e:
        return done("failed", error=error_dict(e))
    ports = result.ports
    if ports is None:
        ports = tuple(p.name for p in node_type.output_ports(node.config))
    return done("succeeded", output=output, ports=tuple(ports), meta=dict(result.meta))
