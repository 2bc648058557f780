"""The node-type plugin contract: a spec object per node type, not a class hierarchy.

See STYLE.md section 7 and ``nodes/builtin/llm_prompt.py`` for a complete example.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from pydantic import BaseModel

from orchestrator_core.policy import RunPolicy
from orchestrator_core.ports import (
    JSON,
    ConversationMemory,
    EmailMessage,
    HttpRequest,
    HttpResponse,
    LLMRequest,
    LLMResponse,
    SubRuns,
)


@dataclass(frozen=True)
class Port:
    name: str
    label: str = ""


@dataclass(frozen=True)
class NodeResult:
    output: Mapping[str, JSON] = field(default_factory=dict)
    """Available to later nodes as ``steps.<node_id>``; must be JSON-serializable."""
    ports: tuple[str, ...] | None = None
    """Output ports that fire; None means all of the type's output ports."""
    meta: Mapping[str, Any] = field(default_factory=dict)
    """Recorded on the step: model, tokens, cost_usd, reason..."""
    redo: Redo | None = None
    """Send the run back: instead of firing ports, the runner resets ``redo.from_node`` and
    every node after it (this one included) so they run again (``human.approval`` with
    ``redraft_from``: a review round). See docs/engine.md, "Review rounds"."""


@dataclass(frozen=True)
class Redo:
    """A review round: run ``from_node`` and everything after it again, with ``review`` (JSON)
    in the expression context of the nodes that run again."""

    from_node: str
    review: Mapping[str, JSON] = field(default_factory=dict)


class Interrupt(Exception):  # noqa: N818, RUF100 - a control-flow signal, not an error
    """Raised by `NodeContext.interrupt` to park the run until the outside world answers."""

    def __init__(self, request: JSON) -> None:
        super().__init__("interrupt")
        self.request = request


class NodeContext(Protocol):
    """What a node's execute() may use. The runner provides the implementation."""

    run_id: str
    node_id: str
    policy: RunPolicy
    """The run's governance policy (budgets, allowed models and connectors, redaction)."""
    subruns: SubRuns | None
    """Child runs of other workflows (``flow.subworkflow``, ``logic.loop``); None when the
    runtime has none (testing one node)."""
    memory: ConversationMemory | None
    """Conversations kept by a session key (``memory`` of LLM nodes); None when the runtime
    keeps none."""

    @property
    def expression_context(self) -> Mapping[str, Any]:
        """``{"trigger": ..., "steps": {node_id: output}, "run": {"id": ...}, "vars": {}}``."""
        ...

    @property
    def incoming(self) -> Mapping[str, JSON]:
        """Outputs of the upstream nodes whose edge into this node is active, by node id.

        A node fed by one branch of an if sees only that branch; ``logic.merge`` uses this.
        """
        ...

    def now(self) -> datetime:
        """The run's clock (UTC, aware): use it instead of ``datetime.now`` so tests control time."""
        ...

    def render(self, template: str, *, field: str = "") -> str:
        """Render ``{{ jmespath }}`` placeholders against the expression context.

        Raises:
            ExpressionError: naming the node, the field and the position.
        """
        ...

    def evaluate(self, expression: str, *, field: str = "") -> JSON:
        """Evaluate one JMESPath expression against the expression context."""
        ...

    def llm(self, request: LLMRequest) -> LLMResponse:
        """Call the LLM gateway (records model, tokens and cost on the step)."""
        ...

    def send_email(self, message: EmailMessage) -> JSON:
        """Send once per run and node, through the effect ledger.

        Raises:
            NodeError: OUTCOME_UNKNOWN when an earlier attempt started but never finished.
        """
        ...

    def http(self, request: HttpRequest) -> HttpResponse:
        """Make an HTTP request through the SSRF guard and the connector's auth.

        Non-GET requests go through the effect ledger with an ``Idempotency-Key``.

        Raises:
            NodeError: DESTINATION_NOT_ALLOWED, HTTP_ERROR, HTTP_RESPONSE_TOO_LARGE.
        """
        ...

    def interrupt(self, request: JSON) -> JSON:
        """Return the answer when the run is resuming, else park the run (raises `Interrupt`).

        The node re-runs from its start on resume: code before this call must be idempotent.
        """
        ...

    def emit(self, event_type: str, data: Mapping[str, Any]) -> None:
        """Publish a transient event for this step (e.g. ``step.delta`` tokens)."""
        ...

    @property
    def previous_request(self) -> JSON:
        """When the step is resuming, the request it parked with (else None).

        A node that parks several times (``llm.agent``) keeps its progress in the request and
        reads it back here, so that work done before a park is not done again.
        """
        ...

    def scoped(self, item: str, *, literal_fields: frozenset[str] = frozenset()) -> NodeContext:
        """A view of this context whose side effects use the effect key ``run:node:<item>``
        (not ``run:node:0``): each sub-action of a node (an agent's tool call) happens once.
        `render` returns the config fields in ``literal_fields`` as they are (data, not templates)."""
        ...


class Executor(Protocol):
    def __call__(self, ctx: NodeContext, config: Any, /) -> NodeResult: ...


@dataclass(frozen=True)
class NodeType:
    """A node type's spec. Registered explicitly in `nodes.registry.default_registry`."""

    key: str
    """Dotted lowercase, stable forever: ``llm.prompt``."""
    version: int
    title: str
    category: str
    """Palette group: Triggers, AI, Logic, Data, Human, Actions."""
    config_model: type[BaseModel]
    execute: Executor
    inputs: tuple[Port, ...] = (Port("in"),)
    outputs: tuple[Port, ...] = (Port("out"),)
    icon: str = "box"
    description: str = ""
    is_trigger: bool = False
    quick: bool = False
    """Pure and fast (no I/O): the runner stores its running and final state in one write.

    Watchers still receive both events; a slow or side-effecting node must leave this False so
    that its running state (and attempt count) is durable before it starts.
    """
    side_effect: bool = False
    """True when the node acts on the world (email, non-GET HTTP): shown in the UI."""
    dynamic_outputs: Callable[[Mapping[str, Any]], tuple[Port, ...]] | None = None
    """For nodes whose ports depend on config (a switch's cases); None = static `outputs`."""

    def output_ports(self, config: Mapping[str, Any]) -> tuple[Port, ...]:
        if self.dynamic_outputs is not None:
            try:
                return self.dynamic_outputs(config)
            except Exception:  # bad config is reported by validation, not here
                return self.outputs
        return self.outputs

    def describe(self) -> dict[str, Any]:
        """The JSON the API serves at ``GET /api/node-types/``."""
        return {
            "key": self.key,
            "version": self.version,
            "title": self.title,
            "category": self.category,
            "icon": self.icon,
            "description": self.description,
            "is_trigger": self.is_trigger,
            "side_effect": self.side_effect,
            "inputs": [{"name": p.name, "label": p.label or p.name} for p in self.inputs],
            "outputs": [{"name": p.name, "label": p.label or p.name} for p in self.outputs],
            "config_schema": self.config_model.model_json_schema(),
        }
