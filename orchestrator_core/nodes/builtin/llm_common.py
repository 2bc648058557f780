"""What the LLM nodes share: the gateway config fields, conversation memory and the step meta."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from orchestrator_core.errors import ErrorCode, NodeError
from orchestrator_core.llm.redact import redact
from orchestrator_core.nodes.base import NodeContext
from orchestrator_core.ports import LLMResponse, Turn


def _check_fallbacks(value: list[str]) -> list[str]:
    cleaned = [name.strip() for name in value]
    if any(not name or len(name) > 200 for name in cleaned):
        raise ValueError("every fallback must be a model name of 1-200 characters")
    if "auto" in cleaned:
        raise ValueError("'auto' cannot be a fallback")
    if len(set(cleaned)) != len(cleaned):
        raise ValueError("fallbacks must be unique")
    return cleaned


Fallbacks = Annotated[
    list[str],
    Field(
        title="Fallback models",
        max_length=5,
        description="Models to try, in order, when the model keeps failing (timeout, 429, 5xx).",
        json_schema_extra={"ui": {"widget": "model-list"}},
    ),
    AfterValidator(_check_fallbacks),
]

MinTier = Annotated[
    int,
    Field(
        title="Minimum tier",
        ge=1,
        le=3,
        description="For model 'auto': the weakest model tier (1 small … 3 strongest) it may pick.",
    ),
]

RedactPii = Annotated[
    bool,
    Field(
        title="Redact personal data",
        description="Replace e-mail addresses, phone and card numbers before sending (not for demo).",
    ),
]


def gateway_options(
    *,
    model: str,
    fallbacks: Sequence[str],
    min_tier: int,
    redact_pii: bool,
    options: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The `LLMRequest` keyword arguments for the shared gateway fields (plus extra ``options``)."""
    merged: dict[str, Any] = dict(options or {})
    if model == "auto":
        merged["min_tier"] = min_tier
    return {"fallbacks": tuple(fallbacks), "redact_pii": redact_pii, "options": merged}


def llm_meta(responses: Sequence[LLMResponse]) -> dict[str, Any]:
    """The step meta of one node's LLM calls (usually one; two after a repair): usage summed.

    ``{"model", "tokens_in", "tokens_out", "cost_usd", "reason", "attempts", "calls"}`` — the
    usage API (``/api/usage/``) reads ``model``, ``tokens_in``, ``tokens_out`` and ``cost_usd``.
    """
    last = responses[-1]
    return {
        "model": last.model,
        "tokens_in": sum(r.prompt_tokens for r in responses),
        "tokens_out": sum(r.completion_tokens for r in responses),
        "cost_usd": sum(r.cost_usd for r in responses),
        "reason": last.reason,
        "attempts": [dict(a) for r in responses for a in r.attempts],
        "calls": len(responses),
    }


MAX_SESSION_KEY_CHARS = 200
MAX_TURN_CHARS = 20_000
"""A stored turn keeps at most this many characters."""


class MemoryConfig(BaseModel):
    """Keep a conversation across runs of the workflow, by a session key."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    session_key: str = Field(
        title="Session key",
        min_length=1,
        max_length=500,
        description="A template naming the conversation, e.g. {{ trigger.from }} or {{ trigger.thread_id }}.",
        json_schema_extra={"ui": {"template": True}},
    )
    turns: int = Field(
        10, title="Turns to read", ge=1, le=50, description="How many earlier messages the model sees."
    )


MemoryField = Annotated[
    MemoryConfig | None,
    Field(
        title="Conversation memory",
        description="Read the last turns of a conversation before the call and add this exchange after.",
    ),
]


@dataclass(frozen=True)
class Conversation:
    """The session an LLM node reads and extends (see `conversation_open`)."""

    session_key: str
    history: list[Turn]
    kept: bool
    """False when the runtime keeps no memory (testing one node): nothing is read or stored."""

    def messages(self) -> list[dict[str, str]]:
        return [{"role": t.role, "content": t.content} for t in self.history]

    def meta(self) -> dict[str, Any]:
        return {"session": self.session_key, "turns_read": len(self.history), "kept": self.kept}


def conversation_open(ctx: NodeContext, config: MemoryConfig | None) -> Conversation | None:
    """Render the session key and read the last ``turns`` turns (None without ``memory``).

    Raises:
        NodeError: INPUT_INVALID when the key renders empty or longer than 200 characters.
    """
    if config is None:
        return None
    key = ctx.render(config.session_key, field="memory.session_key").strip()
    if not key or len(key) > MAX_SESSION_KEY_CHARS:
        raise NodeError(
            f"memory.session_key must render to 1-{MAX_SESSION_KEY_CHARS} characters; got {len(key)}.",
            code=ErrorCode.INPUT_INVALID,
        )
    if ctx.memory is None:
        return Conversation(key, [], kept=False)
    history = ctx.memory.read(ctx.run_id, ctx.node_id, key, limit=config.turns)
    return Conversation(key, history, kept=True)


def conversation_append(
    ctx: NodeContext, conversation: Conversation | None, prompt: str, answer: str, *, redact_pii: bool
) -> None:
    """Store the user prompt and the answer (redacted when the node or the run's policy asks)."""
    if conversation is None or not conversation.kept or ctx.memory is None:
        return

    redact_pii = redact_pii or ctx.policy.redact_pii

    def clean(text: str) -> str:
        return (redact(text)[0] if redact_pii else text)[:MAX_TURN_CHARS]

    ctx.memory.append(
        ctx.run_id,
        ctx.node_id,
        conversation.session_key,
        [Turn("user", clean(prompt)), Turn("assistant", clean(answer))],
    )
