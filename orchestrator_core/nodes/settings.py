"""Per-node reliability settings: retry policy, timeout and what a failure does.

Stored in the node's optional ``settings`` object, next to ``config`` (config models are
``extra="forbid"`` and belong to the node type; settings belong to the engine)::

    {"id": "draft", "type": "llm.prompt", "type_version": 1, "config": {...},
     "settings": {"retry": {"max_attempts": 3, "backoff_seconds": 2},
                  "timeout_seconds": 120,
                  "on_error": "error_port"}}

Every key is optional; ``{}`` (or no ``settings`` at all) means one attempt, no timeout and a
failing node fails the run. See ``docs/engine.md``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from orchestrator_core.errors import ErrorCode

ERROR_PORT = "error"
"""The implicit output port every node gets when ``on_error`` is ``error_port``."""

DEFAULT_RETRY_ON = (ErrorCode.LLM_ERROR, ErrorCode.NODE_TIMEOUT, ErrorCode.HTTP_ERROR)


class RetryPolicy(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    max_attempts: int = Field(
        1, ge=1, le=10, title="Max attempts", description="Attempts in all, the first one included."
    )
    backoff_seconds: float = Field(
        1.0, ge=0, le=3600, title="Backoff", description="Wait before the second attempt, in seconds."
    )
    backoff_multiplier: float = Field(
        2.0, ge=1, le=10, title="Multiplier", description="Each later wait is this many times longer."
    )
    max_backoff_seconds: float = Field(
        60.0, ge=0, le=3600, title="Max backoff", description="No wait is longer than this."
    )
    jitter: bool = Field(
        True, title="Jitter", description="Wait a random 50-100% of the delay (spreads retries out)."
    )
    retry_on: tuple[ErrorCode, ...] = Field(
        DEFAULT_RETRY_ON,
        title="Retry on",
        description="Error codes worth another attempt; any other failure is final at once.",
    )

    def delay(self, attempt: int, random: Callable[[], float] | None = None) -> float:
        """Seconds to wait after failed attempt number ``attempt`` (1-based).

        ``backoff_seconds * backoff_multiplier ** (attempt - 1)``, capped at
        ``max_backoff_seconds``; with jitter, a random 50-100% of that ("equal jitter").
        """
        base = min(
            self.max_backoff_seconds, self.backoff_seconds * self.backoff_multiplier ** max(0, attempt - 1)
        )
        if self.jitter and random is not None:
            return base * (0.5 + random() / 2)
        return base


class NodeSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    retry: RetryPolicy = Field(RetryPolicy.model_validate({}), title="Retry")
    timeout_seconds: float | None = Field(
        None,
        ge=1,
        le=3600,
        title="Timeout",
        description="Give up on an attempt after this many seconds (NODE_TIMEOUT); none = no limit.",
    )
    on_error: Literal["fail", "continue", "error_port"] = Field(
        "fail",
        title="On error",
        description=(
            "fail: the run fails. continue: the step is stored failed, the run goes on along the "
            "node's normal outputs with {error}. error_port: only the extra 'error' output fires."
        ),
    )


DEFAULT_SETTINGS = NodeSettings.model_validate({})


def parse_settings(raw: Mapping[str, Any] | None) -> NodeSettings:
    """Validate a node's stored ``settings`` object.

    Raises:
        pydantic.ValidationError: bad settings (validation reports them as NODE_CONFIG_INVALID).
    """
    if not raw:
        return DEFAULT_SETTINGS
    return NodeSettings.model_validate(dict(raw))


def settings_schema() -> dict[str, Any]:
    """The JSON Schema of the ``settings`` object (for the editor's node settings form)."""
    return NodeSettings.model_json_schema()
