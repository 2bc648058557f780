"""Ports: the only ways the engine touches the outside world.

The Django apps implement these (``backend/runs/store.py`` and friends); ``testing/``
holds in-memory adapters and a conformance suite every `RunStore` must pass.
"""

from __future__ import annotations

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


@dataclass(frozen=True)
class LLMRequest:
    model: str
    """A model id (``demo``, ``gpt-4o-mini``, ``openai/…``) or ``auto``."""
    messages: Sequence[Mapping[str, str]]
    """OpenAI-style ``[{"role": "system"|"user"|"assistant", "content": "..."}]``."""
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


class Mailer(Protocol):
    def send(self, message: EmailMessage, *, idempotency_key: str, run_id: str, node_id: str) -> JSON:
        """Deliver (or queue in the outbox) one message; return ``{"message_id": ...}``.

        Raises:
            NodeError: with code EMAIL_FAILED.
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
