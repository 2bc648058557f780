"""``llm.classify``: let a model pick one of a fixed list of categories."""

from __future__ import annotations

import re

from pydantic import BaseModel, ConfigDict, Field, field_validator

from orchestrator_core.errors import ErrorCode, NodeError
from orchestrator_core.nodes.base import NodeContext, NodeResult, NodeType, Port
from orchestrator_core.nodes.builtin.llm_common import (
    Fallbacks,
    MinTier,
    RedactPii,
    gateway_options,
    llm_meta,
)
from orchestrator_core.ports import LLMRequest


class LlmClassifyConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    model: str = Field(
        "demo", title="Model", min_length=1, json_schema_extra={"ui": {"widget": "model-picker"}}
    )
    input: str = Field(
        title="Text to classify",
        min_length=1,
        description="A template, e.g. {{ trigger.body }}.",
        json_schema_extra={"ui": {"widget": "textarea", "template": True}},
    )
    categories: list[str] = Field(
        title="Categories",
        min_length=2,
        max_length=50,
        description="The model answers with exactly one of these.",
        json_schema_extra={"ui": {"widget": "string-list"}},
    )
    instructions: str = Field(
        "",
        title="Extra instructions",
        description="Optional hints on how to tell the categories apart.",
        json_schema_extra={"ui": {"widget": "textarea", "template": True}},
    )
    fallbacks: Fallbacks = []
    min_tier: MinTier = 1
    redact_pii: RedactPii = False

    @field_validator("categories")
    @classmethod
    def _clean_categories(cls, value: list[str]) -> list[str]:
        cleaned = [c.strip() for c in value]
        if any(not c for c in cleaned):
            raise ValueError("categories must not be empty")
        if len({c.lower() for c in cleaned}) != len(cleaned):
            raise ValueError("categories must be unique (ignoring case)")
        if any(len(c) > 100 for c in cleaned):
            raise ValueError("categories must be at most 100 characters")
        return cleaned


def normalize_label(text: str, categories: list[str]) -> str | None:
    """The category the answer names: an exact match, else the one mentioned first; None if none."""
    answer = re.sub(r"[\s\"'`.:!]+$", "", re.sub(r"^[\s\"'`]+", "", text)).lower()
    for category in categories:
        if answer == category.lower():
            return category
    lowered = text.lower()
    best: tuple[int, int, str] | None = None
    for category in categories:
        match = re.search(r"(?<!\w)" + re.escape(category.lower()) + r"(?!\w)", lowered)
        if match is not None:
            key = (match.start(), -len(category), category)
            if best is None or key < best:
                best = key
    return best[2] if best is not None else None


def execute(ctx: NodeContext, config: LlmClassifyConfig, /) -> NodeResult:
    text = ctx.render(config.input, field="input")
    instructions = ctx.render(config.instructions, field="instructions") if config.instructions else ""
    listing = "\n".join(f"- {c}" for c in config.categories)
    system = (
        "Classify the user's text into exactly one of these categories:\n"
        f"{listing}\n"
        "Answer with the category name only."
    )
    if instructions:
        system += "\n\n" + instructions
    gateway = gateway_options(
        model=config.model,
        fallbacks=config.fallbacks,
        min_tier=config.min_tier,
        redact_pii=config.redact_pii,
        options={"categories": list(config.categories)},
    )
    response = ctx.llm(
        LLMRequest(
            model=config.model,
            messages=[{"role": "system", "content": system}, {"role": "user", "content": text}],
            temperature=0.0,
            max_tokens=50,
            purpose="classify",
            **gateway,
        )
    )
    label = normalize_label(response.text, list(config.categories))
    if label is None:
        raise NodeError(
            f"The model answered {response.text[:200]!r}, which is none of: {', '.join(config.categories)}.",
            code=ErrorCode.LLM_OUTPUT_INVALID,
        )
    return NodeResult(
        output={"label": label, "text": response.text},
        meta=llm_meta([response]),
    )


LLM_CLASSIFY = NodeType(
    key="llm.classify",
    version=1,
    title="LLM classify",
    category="AI",
    icon="tags",
    description="Let a model pick one category; outputs {label, text}.",
    config_model=LlmClassifyConfig,
    execute=execute,
    inputs=(Port("in"),),
    outputs=(Port("out"),),
)
