"""The runner's `NodeContext`: what a node's execute() sees while it runs."""

from __future__ import annotations

import base64
import dataclasses
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from orchestrator_core import expressions
from orchestrator_core.clock import SystemClock
from orchestrator_core.errors import ErrorCode, NodeError
from orchestrator_core.nodes.base import Interrupt
from orchestrator_core.policy import RunPolicy
from orchestrator_core.ports import (
    JSON,
    Clock,
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
        self.inputs: dict[str, Any] = {}
        self.meta: dict[str, Any] = {}
        self.events: list[Event] = []

    @property
    def expression_context(self) -> Mapping[str, Any]:
        return self._context

    @property
    def incoming(self) -> Mapping[str, JSON]:
        return self._incoming

    def now(self) -> datetime:
        return self._clock.now()

    def render(self, template: str, *, field: str = "") -> str:
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
        on_delta = self._llm_delta if request.purpose == "complete" else None
        response = self._llm.complete(request, on_delta=on_delta)
        meta = self.meta
        meta["model"] = response.model
        meta["tokens_in"] = int(meta.get("tokens_in", 0)) + response.prompt_tokens
        meta["tokens_out"] = int(meta.get("tokens_out", 0)) + response.completion_tokens
        meta["cost_usd"] = float(meta.get("cost_usd", 0.0)) + response.cost_usd
        meta["reason"] = response.reason
        meta["attempts"] = [*meta.get("attempts", []), *(dict(a) for a in response.attempts)]
        return response

    def _llm_delta(self, text: str) -> None:
        event = Event("step.delta", self.node_id, {"text": text})
        if self.publish_transient is not None:
            self.publish_transient([event])
        else:
            self.events.append(event)

    def send_email(self, message: EmailMessage) -> JSON:
        key = f"{self.run_id}:{self.node_id}:0"
        record = self._store.effect_begin(key, run_id=self.run_id, node_id=self.node_id)
        if record.created:
            result = self._mailer.send(message, idempotency_key=key, run_id=self.run_id, node_id=self.node_id)
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
        if request.method.upper() in ("GET", "HEAD"):
            return self._http.request(request)
        key = f"{self.run_id}:{self.node_id}:0"
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

    def interrupt(self, request: JSON) -> JSON:
        if self._resume is not None:
            return self._resume
        raise Interrupt(request)

    def emit(self, event_type: str, data: Mapping[str, Any]) -> None:
        self.events.append(Event(event_type, self.node_id, dict(data)))
