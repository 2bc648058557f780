"""Ports: the only ways the engine touches the outside world.

The Django apps implement these (``backend/runs/store.py`` and friends); ``testing/``
holds in-memory adapters and a conformance suite every `RunStore` must pass.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol

JSON = Any
"""A value that json.dumps accepts (dict, list, str, int, float, bool, None)."""


class RunStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    WAITING = "waiting"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def is_final(self) -> bool:
        return self in (RunStatus.SUCCEEDED, RunStatus.FAILED, RunStatus.CANCELLED)


class StepStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    WAITING = "waiting"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    SKIPPED = "skipped"
    RETRYING = "retrying"
    OUTCOME_UNKNOWN = "outcome_unknown"

    @property
    def is_final(self) -> bool:
        return self in (
            StepStatus.SUCCEEDED,
            StepStatus.FAILED,
            StepStatus.SKIPPED,
            StepStatus.OUTCOME_UNKNOWN,
        )


@dataclass(frozen=True)
class StepRecord:
    """What is persisted for one node of one run."""

    node_id: str
    status: StepStatus
    attempts: int = 0
    inputs: JSON = None
    """What the node saw: its rendered config (templates resolved) — for the run page."""
    output: JSON = None
    """The node's output object, available to later nodes as ``steps.<node_id>``."""
    ports: tuple[str, ...] = ()
    """The output ports that fired (a branch not taken is absent)."""
    error: Mapping[str, Any] | None = None
    """``{code, message, details?}`` when status is failed or outcome_unknown."""
    request: JSON = None
    """Set while waiting: the payload the node asked a human (or timer) about."""
    resume: JSON = None
    """Set by the outside world (an approval decision) to wake a waiting node."""
    started_at: datetime | None = None
    ended_at: datetime | None = None
    meta: Mapping[str, Any] = field(default_factory=dict)
    """Model used and why, tokens, cost_usd, ... (free-form, JSON)."""


@dataclass(frozen=True)
class Event:
    """A state change to publish. The store assigns the per-run sequence number."""

    type: str
    """``run.status``, ``step.status`` or ``step.delta``."""
    node_id: str | None = None
    data: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class RunSnapshot:
    """Everything the runner needs to continue a run, as returned by `RunStore.claim`."""

    run_id: str
    document: Mapping[str, Any]
    """The immutable workflow version's document this run executes."""
    trigger: JSON
    """The run's trigger input (the form a person filled, a webhook body...)."""
    status: RunStatus
    fence: int
    """Incremented by every claim; every write must carry it (stale workers are refused)."""
    steps: Mapping[str, StepRecord] = field(default_factory=dict)
    cancel_requested: bool = False


class EffectStatus(StrEnum):
    STARTED = "started"
    DONE = "done"


@dataclass(frozen=True)
class EffectRecord:
    key: str
    status: EffectStatus
    result: JSON = None
    created: bool = False
    """True when `effect_begin` created the record just now (the caller may act)."""


class RunStore(Protocol):
    """Durable run state. All methods are safe to call from any thread (one call at a time per run)."""

    def claim(self, run_id: str, *, owner: str, lease_seconds: float) -> RunSnapshot | None:
        """Take the lease on a runnable run and return its state, or None.

        Runnable: status queued, or running with an expired lease (a worker died).
        Claiming sets status running, the lease owner/expiry, and increments the fence.
        """
        ...

    def save_step(self, run_id: str, *, fence: int, step: StepRecord, events: Sequence[Event] = ()) -> None:
        """Insert or replace the step record and append events, atomically.

        Raises:
            LeaseLost: the fence no longer matches (another worker owns the run).
        """
        ...

    def reset_steps(
        self, run_id: str, *, fence: int, steps: Sequence[StepRecord], events: Sequence[Event] = ()
    ) -> None:
        """Replace several step records at once and append events, in one atomic write: all
        of them or none (a review round sends nodes back to run again; see docs/engine.md).

        Raises:
            LeaseLost: the fence no longer matches (nothing is written).
        """
        ...

    def finish(
        self,
        run_id: str,
        *,
        fence: int,
        status: RunStatus,
        error: Mapping[str, Any] | None = None,
        events: Sequence[Event] = (),
    ) -> None:
        """Set the run's status (succeeded/failed/cancelled/waiting), release the lease, append events.

        Raises:
            LeaseLost: the fence no longer matches.
        """
        ...

    def renew_lease(self, run_id: str, *, fence: int, lease_seconds: float) -> bool:
        """Extend the lease; return False (and change nothing) if the fence no longer matches.

        Also the moment the runner learns about cancellation: see `cancel_requested`.
        """
        ...

    def cancel_requested(self, run_id: str) -> bool:
        """True when someone asked to cancel the run since it was claimed."""
        ...

    def effect_begin(self, key: str, *, run_id: str, node_id: str) -> EffectRecord:
        """Record that a side effect is about to happen, or return the existing record.

        Exactly one caller ever gets ``created=True`` for a key.
        """
        ...

    def effect_complete(self, key: str, *, result: JSON) -> None:
        """Mark the side effect done and store its result."""
        ...

    def effect_abort(self, key: str) -> None:
        """Forget a STARTED side effect that is known not to have happened (the transport
        refused it), so that the next `effect_begin` gets ``created=True`` and a retry acts
        again. A DONE effect is left as it is."""
        ...


@dataclass(frozen=True)
class LLMRequest:
    model: str
    """A model id (``demo``, ``gpt-4o-mini``, ``openai/…``) or ``auto``."""
    messages: Sequence[Mapping[str, Any]]
    """OpenAI-style ``[{"role": "system"|"user"|"assistant", "content": "..."}]``; a tool-using
    conversation also has assistant messages with ``tool_calls`` (content may be None) and
    ``{"role": "tool", "tool_call_id": ..., "content": "..."}`` results."""
    temperature: float = 0.2
    max_tokens: int = 512
    purpose: str = "complete"
    """``complete`` or ``classify``: lets the offline demo model answer sensibly."""
    options: Mapping[str, Any] = field(default_factory=dict)
    """Extra purpose-specific hints (e.g. ``{"categories": [...]}`` for classify); for
    ``model="auto"``: ``{"min_tier": n, "budget_usd": remaining}``."""
    fallbacks: tuple[str, ...] = ()
    """Model names to try, in order, when the model keeps failing (timeout, 429, 5xx)."""
    redact_pii: bool = False
    """Replace e-mail addresses, phone and card numbers before sending (not for the demo model)."""
    tools: tuple[Mapping[str, Any], ...] = ()
    """OpenAI tool schemas the model may call: ``{"type": "function", "function": {"name",
    "description", "parameters": <JSON Schema>}}``; the answer may then carry `LLMResponse.tool_calls`."""


@dataclass(frozen=True)
class ToolCall:
    """One tool call the model asked for (OpenAI ``message.tool_calls[i]``)."""

    id: str
    name: str
    arguments: str
    """The arguments as the model wrote them: a JSON object in text (may be invalid JSON)."""

    def as_message(self) -> dict[str, Any]:
        """The OpenAI form, for the assistant message that goes back to the model."""
        function = {"name": self.name, "arguments": self.arguments}
        return {"id": self.id, "type": "function", "function": function}


@dataclass(frozen=True)
class LLMResponse:
    text: str
    model: str
    """The model that actually answered."""
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float = 0.0
    reason: str = ""
    """Why this model was chosen, in words (shown on the run page)."""
    attempts: tuple[dict[str, Any], ...] = ()
    """Every try, in order: ``{model, outcome: "ok"|"error", error_code?, http_status, duration_ms}``."""
    tool_calls: tuple[ToolCall, ...] = ()
    """The tools the model wants called (only when the request offered `LLMRequest.tools`)."""


class LLMClient(Protocol):
    def complete(self, request: LLMRequest, *, on_delta: Callable[[str], None] | None = None) -> LLMResponse:
        """Run one chat completion; with ``on_delta``, stream and pass it the text in batches.

        Raises:
            NodeError: with code LLM_ERROR when the provider fails.
        """
        ...


@dataclass(frozen=True)
class EmailMessage:
    to: str
    subject: str
    body: str
    sender: str = ""
    connector: str | None = None
    """Name of an ``smtp`` connector to deliver through (its host, credentials and from address);
    None = the server's default transport. The run's policy must allow it (``allowed_connectors``)."""


class Mailer(Protocol):
    def send(self, message: EmailMessage, *, idempotency_key: str, run_id: str, node_id: str) -> JSON:
        """Deliver (or queue in the outbox) one message; return ``{"message_id": ...}``.

        Raises:
            NodeError: with code EMAIL_FAILED; with ``details={"sent": False}`` when the message
                certainly did not leave (the server refused it): the send may then be retried.
        """
        ...


class Clock(Protocol):
    """Time for the runner. A clock may also have ``sleep(seconds)`` (optional, not part of the
    protocol): the runner waits out retry backoff with it when present, else with ``time.sleep``
    (`testing.FakeClock.sleep` advances fake time and records the delays)."""

    def now(self) -> datetime: ...

    def monotonic(self) -> float: ...


@dataclass(frozen=True)
class HttpRequest:
    """One outbound HTTP request a node asks for (``http.request``)."""

    method: str
    url: str
    """Absolute, or relative to the connector's ``base_url`` when ``connector`` is set."""
    connector: str | None = None
    """Name of an ``http`` connector: its base URL, auth and allowed hosts apply (secrets stay
    server-side)."""
    headers: Mapping[str, str] = field(default_factory=dict)
    query: Mapping[str, str] = field(default_factory=dict)
    body: bytes | None = None
    timeout_seconds: float = 30.0
    max_response_bytes: int = 1 << 20
    idempotency_key: str | None = None
    """Sent as ``Idempotency-Key`` so that a retried non-GET request is safe."""
    cancel: threading.Event | None = field(default=None, compare=False, repr=False)
    """Set when the run is cancelled: the client then aborts the request (RUN_CANCELLED)."""


@dataclass(frozen=True)
class HttpResponse:
    status: int
    headers: Mapping[str, str]
    """Lower-case names; values with connector secrets redacted."""
    body: bytes
    url: str
    """The final URL (after redirects)."""


class HttpClient(Protocol):
    def request(self, request: HttpRequest) -> HttpResponse:
        """Send the request through the egress policy (SSRF guard, connector host binding).

        Raises:
            NodeError: DESTINATION_NOT_ALLOWED (refused before connecting), HTTP_ERROR (network
                failure or timeout, ``details.timeout``), HTTP_RESPONSE_TOO_LARGE.
        """
        ...


@dataclass(frozen=True)
class CostEstimate:
    """What an LLM request would cost at most, before it is sent (see `CostEstimator`)."""

    model: str
    """The model the request would go to first."""
    tier: int
    prompt_tokens: int
    max_output_tokens: int
    usd: float | None
    """``prompt_tokens x input price + max_output_tokens x output price``; None = price unknown."""

    @property
    def tokens(self) -> int:
        return self.prompt_tokens + self.max_output_tokens


class CostEstimator(Protocol):
    """An optional capability of an `LLMClient` (``LiteLLMClient`` has it): budgets use it to
    check a call before it is made. Without it the engine counts ~4 characters per token and
    cannot price the call."""

    def estimate_cost(self, request: LLMRequest) -> CostEstimate:
        """Raises:
        NodeError: LLM_ERROR for an unknown model, or when ``auto`` finds no model that fits."""
        ...


@dataclass(frozen=True)
class Spend:
    """LLM spending so far that a run's budgets count against (`UsageLedger.spent`)."""

    run_usd: float = 0.0
    run_tokens: int = 0
    workflow_day_usd: float = 0.0
    """Every run of the run's workflow since the start of the current UTC day."""
    workflow_day_tokens: int = 0
    user_month_usd: float = 0.0
    """Every run started by the run's user since the start of the current UTC month."""
    user_month_tokens: int = 0
    allowances: Mapping[str, Mapping[str, float]] = field(default_factory=dict)
    """Extra budget people approved for this run only, by scope:
    ``{"per_run": {"usd": 0.002, "tokens": 0}}`` (scopes as in `BudgetLimits`)."""


class UsageLedger(Protocol):
    """Where budgets read what was spent (the backend sums the stored steps' meta)."""

    def spent(self, run_id: str, *, exclude_node: str | None = None) -> Spend:
        """Spending of the run, its workflow today and its user this month.

        ``exclude_node``: leave that step of this run out (the running node counts its own
        usage itself). Step meta records usage (``tokens_in``, ``tokens_out``, ``cost_usd``) and
        approved allowances (``budget_allowance``).
        """
        ...


@dataclass(frozen=True)
class Turn:
    """One message of a stored conversation."""

    role: str
    """``user`` or ``assistant``."""
    content: str


class ConversationMemory(Protocol):
    """Conversations kept by a session key (per workflow): LLM nodes read and extend them."""

    def read(self, run_id: str, node_id: str, session_key: str, *, limit: int) -> list[Turn]:
        """The last ``limit`` turns of the session of the run's workflow, oldest first, leaving
        out the turns this run's node itself appended (a retried node sees what it saw before)."""
        ...

    def append(self, run_id: str, node_id: str, session_key: str, turns: Sequence[Turn]) -> None:
        """Add the turns to the session; idempotent per run and node (a re-run of the node
        appends nothing the second time)."""
        ...


@dataclass(frozen=True)
class ChildRun:
    """A run started by a node of another run (``flow.subworkflow``, ``logic.loop``)."""

    run_id: str
    key: str
    """Unique per parent run and node: ``"0"`` for a sub-workflow, the item index for a loop."""
    status: RunStatus
    version: int = 0
    """The version number of the called workflow the child runs."""
    output: JSON = None
    """Once succeeded: ``{node_id: output}`` of its terminal nodes (no outgoing edge) that succeeded."""
    error: Mapping[str, Any] | None = None
    """Once failed or cancelled: the run's ``{code, message, node_id?}``."""


class SubRuns(Protocol):
    """Child runs: how a node starts other workflows' runs and reads how they went.

    The parent's node parks (a waiting step with ``request.kind == "children"``) while children
    run; whoever owns the runs wakes the parent's step when a child reaches a final status.
    """

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
        """Start (queue) a run of the workflow's published version (``None``: the latest), once.

        Idempotent by ``(parent_run_id, node_id, key)``: a second call returns the existing child.

        Raises:
            NodeError: SUBWORKFLOW_NOT_FOUND, SUBWORKFLOW_NOT_PUBLISHED, SUBWORKFLOW_DEPTH (the
                parent is already nested too deep), INPUT_INVALID (the trigger's fields).
        """
        ...

    def children(self, parent_run_id: str, node_id: str) -> Mapping[str, ChildRun]:
        """Every child this node of the parent run started, by key.

        An implementation may leave a succeeded child's ``output`` None while any of its
        siblings is unfinished (nodes read outputs only once every child is over).
        """
        ...
