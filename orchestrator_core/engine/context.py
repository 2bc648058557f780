"""The runner's `NodeContext`: what a node's execute() sees while it runs."""

from __future__ import annotations

import base64
import copy
import dataclasses
import re
import threading
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from orchestrator_core import expressions
from orchestrator_core.clock import SystemClock
from orchestrator_core.errors import ErrorCode, NodeError
from orchestrator_core.llm import budget
from orchestrator_core.nodes.base import Interrupt
from orchestrator_core.policy import RunPolicy
from orchestrator_core.ports import (
    JSON,
    Clock,
    ConversationMemory,
    EffectStatus,
    EmailMessage,
    Event,
    HttpClient,
    HttpRequest,
    HttpResponse,
    LLMClient,
    LLMRequest,
    LLMResponse,
    Mailer,
    RunStore,
    Spend,
    SubRuns,
    UsageLedger,
)


class RunContext:
    """One node's view of a run.

    Records every rendered template and evaluated expression in `inputs` (by field name),
    accumulates LLM usage in `meta`, and collects `emit`ted events in `events` for the runner
    to persist with the step.
    """

    def __init__(
        self,
        *,
        run_id: str,
        node_id: str,
        context: Mapping[str, Any],
        store: RunStore,
        llm_client: LLMClient,
        mailer: Mailer,
        http: HttpClient | None = None,
        resume: JSON = None,
        clock: Clock | None = None,
        incoming: Mapping[str, JSON] | None = None,
        policy: RunPolicy | None = None,
        cancelled: threading.Event | None = None,
        subruns: SubRuns | None = None,
        previous_request: JSON = None,
        usage: UsageLedger | None = None,
        memory: ConversationMemory | None = None,
        budget_queue: str = budget.DEFAULT_QUEUE,
    ) -> None:
        self.run_id = run_id
        self.node_id = node_id
        self._context = context
        self._store = store
        self._llm = llm_client
        self._mailer = mailer
        self._http = http
        self._resume = resume
        self._clock: Clock = clock or SystemClock()
        self._incoming: dict[str, JSON] = dict(incoming or {})
        self.policy: RunPolicy = policy or RunPolicy()
        self._subruns: SubRuns | None = subruns
        self.used_subruns = False
        """True once the node looked at `subruns` (the runner then records its children's usage)."""
        self.budget_queue = budget_queue
        """The queue of a budget approval (``on_budget=approve``)."""
        self._usage = usage
        self.memory: ConversationMemory | None = memory
        """Conversations by session key (LLM nodes' ``memory``); None where the runtime has none."""
        self.cancelled: threading.Event = cancelled if cancelled is not None else threading.Event()
        """Set (by the runner, from any thread) once the run is cancelled: long calls such as
        `http` stop early with RUN_CANCELLED. Node code may poll it too."""
        self.inputs: dict[str, Any] = {}
        self.meta: dict[str, Any] = {}
        self.events: list[Event] = []
        self._previous_request = previous_request
        self.effect_item = "0"
        """The last part of this context's effect keys (``run:node:<item>``); see `scoped`."""
        self.literal_fields: frozenset[str] = frozenset()
        """Config fields `render` leaves as they are (see `scoped`)."""

    @property
    def subruns(self) -> SubRuns | None:
        """Child runs (``flow.subworkflow``, ``logic.loop``); None where the runtime has none."""
        self.used_subruns = True
        return self._subruns

    @subruns.setter
    def subruns(self, value: SubRuns | None) -> None:
        self._subruns = value

    @property
    def previous_request(self) -> JSON:
        """The request this step parked with when it is resuming (else None): a node that
        parks more than once (``llm.agent``) keeps its progress there."""
        return self._previous_request

    def scoped(self, item: str, *, literal_fields: frozenset[str] = frozenset()) -> RunContext:
        """A view of this context for one sub-action of the node (an agent's tool call).

        Its e-mails and non-GET HTTP requests use the effect key ``run:node:<item>`` instead of
        ``run:node:0``, so each sub-action happens once; `render` returns the config fields named
        in ``literal_fields`` (and their sub-fields) as they are, not as templates (values a
        model wrote are data). LLM usage (`meta`) and events are shared with this context,
        rendered `inputs` are its own.
        """
        child = copy.copy(self)
        child.effect_item = item
        child.literal_fields = literal_fields
        child.inputs = {}
        return child

    @property
    def expression_context(self) -> Mapping[str, Any]:
        return self._context

    @property
    def incoming(self) -> Mapping[str, JSON]:
        return self._incoming

    def now(self) -> datetime:
        return self._clock.now()

    def render(self, template: str, *, field: str = "") -> str:
        if self.literal_fields and re.split(r"[.\[]", field, maxsplit=1)[0] in self.literal_fields:
            self.inputs[field or "template"] = template
            return template
        text = expressions.render(template, self._context, node_id=self.node_id, field=field)
        self.inputs[field or "template"] = text
        return text

    def evaluate(self, expression: str, *, field: str = "") -> JSON:
        value = expressions.evaluate(expression, self._context, node_id=self.node_id, field=field)
        self.inputs[field or "expression"] = value
        return value

    publish_transient: Callable[[list[Event]], None] | None = None
    """Set by the runner when the store can save and publish events at once (``step.delta``);
    when None they wait in `events` and are saved with the step."""

    def llm(self, request: LLMRequest) -> LLMResponse:
        """Call the model; a ``complete`` request streams, each batch a ``step.delta`` event."""
        self._check_cancelled()
        request = self._apply_policy(request)
        checked = self._check_budget(request)
        request = checked.request
        on_delta = self._llm_delta if request.purpose == "complete" else None
        try:
            response = self._llm.complete(request, on_delta=on_delta)
        except NodeError as exc:  # every model failed: the step still shows what was tried
            details = exc.details
            tried = details.get("attempts") if isinstance(details, Mapping) else None
            if isinstance(tried, list):
                self.meta["attempts"] = [
                    *self.meta.get("attempts", []),
                    *(dict(a) for a in tried if isinstance(a, Mapping)),
                ]
            raise
        if checked.reason:
            response = dataclasses.replace(response, reason=checked.reason)
        meta = self.meta
        meta["model"] = response.model
        meta["tokens_in"] = int(meta.get("tokens_in", 0)) + response.prompt_tokens
        meta["tokens_out"] = int(meta.get("tokens_out", 0)) + response.completion_tokens
        meta["cost_usd"] = float(meta.get("cost_usd", 0.0)) + response.cost_usd
        meta["reason"] = response.reason
        meta["attempts"] = [*meta.get("attempts", []), *(dict(a) for a in response.attempts)]
        return response

    def _apply_policy(self, request: LLMRequest) -> LLMRequest:
        """The request as the run's policy allows it: PII redaction forced on when the policy
        says so; a model outside ``allowed_models`` fails MODEL_NOT_ALLOWED; ``auto`` only picks
        among the allowed models (``options["allowed_models"]``); fallbacks not allowed are dropped."""
        policy = self.policy
        changes: dict[str, Any] = {}
        if policy.redact_pii and not request.redact_pii:
            changes["redact_pii"] = True
        allowed = policy.allowed_models
        if allowed is not None:
            model = request.model or str(getattr(self._llm, "default_model", "") or "")
            if model != "auto" and model not in allowed:
                raise NodeError(
                    f"The policy does not allow the model '{model}'.",
                    code=ErrorCode.MODEL_NOT_ALLOWED,
                    details={"model": model, "allowed": sorted(allowed)},
                )
            if model == "auto":
                changes["options"] = {**request.options, "allowed_models": sorted(allowed)}
            fallbacks = tuple(name for name in request.fallbacks if name in allowed)
            if fallbacks != tuple(request.fallbacks):
                changes["fallbacks"] = fallbacks
        return dataclasses.replace(request, **changes) if changes else request

    def check_connector(self, name: str | None) -> None:
        """Fail CONNECTOR_NOT_ALLOWED when the run's policy does not allow connector ``name``."""
        allowed = self.policy.allowed_connectors
        if name and allowed is not None and name not in allowed:
            raise NodeError(
                f"The policy does not allow the connector '{name}'.",
                code=ErrorCode.CONNECTOR_NOT_ALLOWED,
                details={"connector": name, "allowed": sorted(allowed)},
            )

    def _check_budget(self, request: LLMRequest) -> budget.Checked:
        """The policy's budgets against this call (see ``orchestrator_core/llm/budget.py``)."""
        if not budget.has_budgets(self.policy):
            return budget.Checked(request)
        base = self._usage.spent(self.run_id, exclude_node=self.node_id) if self._usage else Spend()
        usd, tokens = budget.meta_usage(self.meta)
        granted = self.meta.get(budget.ALLOWANCE_KEY)
        spend = budget.with_usage(base, usd=usd, tokens=tokens, allowance=granted)
        checked = budget.check(
            client=self._llm,
            request=request,
            policy=self.policy,
            spend=spend,
            already_approved=granted is not None,
            ask=self.interrupt,
            queue=self.budget_queue,
            # A re-park on the same budget approval keeps its key (and so its inbox item).
            key=_approval_key(self._previous_request) if self._resume is None else None,
        )
        if checked.allowance is not None:
            self.meta[budget.ALLOWANCE_KEY] = {k: dict(v) for k, v in checked.allowance.items()}
        return checked

    def _llm_delta(self, text: str) -> None:
        event = Event("step.delta", self.node_id, {"text": text})
        if self.publish_transient is not None:
            self.publish_transient([event])
        else:
            self.events.append(event)

    def send_email(self, message: EmailMessage) -> JSON:
        self.check_connector(getattr(message, "connector", None))
        key = f"{self.run_id}:{self.node_id}:{self.effect_item}"
        record = self._store.effect_begin(key, run_id=self.run_id, node_id=self.node_id)
        if record.created:
            try:
                result = self._mailer.send(
                    message, idempotency_key=key, run_id=self.run_id, node_id=self.node_id
                )
            except NodeError as exc:
                if _known_not_sent(exc):
                    self._store.effect_abort(key)  # nothing left: a retry sends
                raise
            self._store.effect_complete(key, result=result)
            return result
        if record.status == EffectStatus.DONE:
            return record.result
        raise NodeError(
            "The e-mail may or may not have been sent before a crash; a person must check.",
            code=ErrorCode.OUTCOME_UNKNOWN,
        )

    def http(self, request: HttpRequest) -> HttpResponse:
        """Send through the runtime's `HttpClient`; non-GET once per run and node (effect ledger).

        A non-GET request carries ``Idempotency-Key: <run>:<node>:0``. A final answer (below 500,
        not 429) is recorded, and a re-run returns it without sending again; after a crash or a
        retryable failure the request is sent again with the same key (the server de-duplicates).
        """
        if self._http is None:
            raise NodeError("HTTP requests are not available in this runtime.", code=ErrorCode.NODE_FAILED)
        self._check_cancelled()
        self.check_connector(request.connector)
        request = dataclasses.replace(request, cancel=self.cancelled)
        if request.method.upper() in ("GET", "HEAD"):
            return self._http.request(request)
        key = f"{self.run_id}:{self.node_id}:{self.effect_item}"
        record = self._store.effect_begin(key, run_id=self.run_id, node_id=self.node_id)
        if record.status == EffectStatus.DONE and isinstance(record.result, dict):
            r = record.result
            return HttpResponse(
                status=int(r["status"]),
                headers=dict(r["headers"]),
                body=base64.b64decode(r["body_b64"]),
                url=str(r["url"]),
            )
        response = self._http.request(dataclasses.replace(request, idempotency_key=key))
        if response.status < 500 and response.status != 429:
            result = {
                "status": response.status,
                "headers": dict(response.headers),
                "body_b64": base64.b64encode(response.body).decode(),
                "url": response.url,
            }
            self._store.effect_complete(key, result=result)
        return response

    def _check_cancelled(self) -> None:
        if self.cancelled.is_set():
            raise NodeError("The run was cancelled.", code=ErrorCode.RUN_CANCELLED)

    def interrupt(self, request: JSON) -> JSON:
        """The answer to ``request`` when the step is resuming with one, else park (`Interrupt`).

        The step's answer goes only to a request of the same kind as the one it parked with
        (`budget.park_kind`: a budget approval, or the same ``approval_key``): a node that parks
        for different things in one step (an ``llm.agent`` meeting a budget approval, then a tool
        approval) never takes one decision for the other; it parks again instead.
        """
        if self._resume is not None and (
            self._previous_request is None
            or budget.park_kind(self._previous_request) == budget.park_kind(request)
        ):
            return self._resume
        raise Interrupt(request)

    def emit(self, event_type: str, data: Mapping[str, Any]) -> None:
        self.events.append(Event(event_type, self.node_id, dict(data)))


def _approval_key(request: JSON) -> str | None:
    """The key of a budget approval the step parked with (None for any other request)."""
    if budget.is_budget_request(request) and isinstance(request, Mapping):
        return str(request["approval_key"])
    return None


def _known_not_sent(exc: NodeError) -> bool:
    """The mailer said the message certainly did not leave (``details.sent is False``)."""
    details = exc.details
    return isinstance(details, Mapping) and details.get("sent") is False
