"""What the LLM nodes share: the gateway config fields and the step meta of their calls."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Annotated, Any

from pydantic import AfterValidator, Field

from orchestrator_core.ports import LLMResponse


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
