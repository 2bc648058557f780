"""``llm.prompt``: send a prompt (with templates) to a model and output its text.

With ``output_schema`` (a JSON Schema) the node asks for JSON, parses and validates the
answer (with ``jsonschema`` when installed), asks the model once more with the error if it is
invalid, and then fails with ``LLM_OUTPUT_INVALID``; the parsed value is output as ``data``.
Without it, the answer streams: the run page gets ``step.delta`` events as text arrives.

With ``memory`` (``{session_key, turns}``) the node keeps a conversation across runs of the
workflow: the last ``turns`` messages of the session are sent between the system message and
the prompt, and the prompt and the answer are added to the session after a successful call.
"""

from __future__ import annotations

import importlib
import json
import re
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from orchestrator_core.errors import ErrorCode, NodeError
from orchestrator_core.nodes.base import NodeContext, NodeResult, NodeType, Port
from orchestrator_core.nodes.builtin.llm_common import (
    Conversation,
    Fallbacks,
    MemoryField,
    MinTier,
    RedactPii,
    conversation_append,
    conversation_open,
    gateway_options,
    llm_meta,
)
from orchestrator_core.ports import LLMRequest, LLMResponse


class LlmPromptConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    model: str = Field(
        "demo",
        title="Model",
        min_length=1,
        description="A configured model, or 'auto' for the cheapest one that fits.",
        json_schema_extra={"ui": {"widget": "model-picker"}},
    )
    system: str = Field(
        "",
        title="System message",
        description="Instructions for the model. Templates like {{ trigger.subject }} work here.",
        json_schema_extra={"ui": {"widget": "textarea", "template": True}},
    )
    prompt: str = Field(
        title="Prompt",
        min_length=1,
        description="The user message. Use {{ trigger.<field> }} and {{ steps.<node>.<field> }}.",
        json_schema_extra={"ui": {"widget": "textarea", "template": True}},
    )
    temperature: float = Field(0.2, title="Temperature", ge=0, le=2)
    max_tokens: int = Field(512, title="Max tokens", ge=1, le=8192)
    output_schema: dict[str, Any] | None = Field(
        None,
        title="Output JSON Schema",
        description="When set, the model must answer JSON valid against this schema; output.data holds it.",
        json_schema_extra={"ui": {"widget": "json"}},
    )
    fallbacks: Fallbacks = []
    min_tier: MinTier = 1
    redact_pii: RedactPii = False
    memory: MemoryField = None

    @field_validator("output_schema")
    @classmethod
    def _check_schema(cls, value: dict[str, Any] | None) -> dict[str, Any] | None:
        if value is None:
            return None
        if len(json.dumps(value)) > 20_000:
            raise ValueError("output_schema must be at most 20000 characters of JSON")
        validators = _jsonschema()
        if validators is not None:
            try:
                validators.validator_for(value).check_schema(value)
            except Exception as e:
                raise ValueError(
                    f"output_schema is not a valid JSON Schema: {getattr(e, 'message', e)}"
                ) from None
        return value


def _jsonschema() -> Any:
    """The ``jsonschema.validators`` module, or None when jsonschema is not installed."""
    try:
        return importlib.import_module("jsonschema.validators")
    except ImportError:  # pragma: no cover - an optional dependency of the core
        return None


_FENCE = re.compile(r"^\s*```(?:json)?\s*\n?(.*?)\n?\s*```\s*$", re.DOTALL)


def parse_json_answer(text: str, schema: dict[str, Any]) -> tuple[Any, str | None]:
    """``(value, None)`` when the answer is JSON valid against the schema, else ``(None, error)``."""
    match = _FENCE.match(text)
    raw = match.group(1) if match else text
    try:
        value = json.loads(raw)
    except ValueError as e:
        return None, f"The answer is not valid JSON: {e}"
    validators = _jsonschema()
    if validators is not None:
        validator = validators.validator_for(schema)(schema)
        errors = sorted(validator.iter_errors(value), key=lambda err: list(err.path))
        if errors:
            first = errors[0]
            where = "/".join(str(p) for p in first.path) or "(root)"
            return None, f"The JSON does not match the schema at {where}: {first.message}"[:1000]
    return value, None


def _json_instructions(schema: dict[str, Any]) -> str:
    return (
        "Answer with a single JSON value that validates against this JSON Schema, and nothing else "
        "(no prose, no code fences):\n" + json.dumps(schema, indent=None, sort_keys=True)
    )


def execute(ctx: NodeContext, config: LlmPromptConfig, /) -> NodeResult:
    system = ctx.render(config.system, field="system") if config.system else ""
    prompt = ctx.render(config.prompt, field="prompt")
    schema = config.output_schema
    if schema is not None:
        system = f"{system}\n\n{_json_instructions(schema)}" if system else _json_instructions(schema)
    conversation = conversation_open(ctx, config.memory)
    messages = [{"role": "system", "content": system}] if system else []
    if conversation is not None:
        messages += conversation.messages()
    messages.append({"role": "user", "content": prompt})
    gateway = gateway_options(
        model=config.model, fallbacks=config.fallbacks, min_tier=config.min_tier, redact_pii=config.redact_pii
    )

    def ask(messages: list[dict[str, str]]) -> LLMResponse:
        return ctx.llm(
            LLMRequest(
                model=config.model,
                messages=messages,
                temperature=config.temperature,
                max_tokens=config.max_tokens,
                purpose="complete" if schema is None else "json",
                **gateway,
            )
        )

    response = ask(messages)
    responses = [response]
    if schema is None:
        conversation_append(ctx, conversation, prompt, response.text, redact_pii=config.redact_pii)
        return NodeResult(
            output={"text": response.text, "model": response.model}, meta=_meta(responses, conversation)
        )
    data, error = parse_json_answer(response.text, schema)
    if error is not None:
        repair = [
            *messages,
            {"role": "assistant", "content": response.text},
            {"role": "user", "content": f"{error}\nAnswer again with only the corrected JSON."},
        ]
        response = ask(repair)
        responses.append(response)
        data, error = parse_json_answer(response.text, schema)
    if error is not None:
        raise NodeError(
            f"The model's answer did not match the output schema after one repair: {error}",
            code=ErrorCode.LLM_OUTPUT_INVALID,
            details={"answer": response.text[:2000], "error": error, "meta": llm_meta(responses)},
        )
    conversation_append(ctx, conversation, prompt, response.text, redact_pii=config.redact_pii)
    return NodeResult(
        output={"text": response.text, "model": response.model, "data": data},
        meta=_meta(responses, conversation),
    )


def _meta(responses: list[LLMResponse], conversation: Conversation | None) -> dict[str, Any]:
    meta = llm_meta(responses)
    if conversation is not None:
        meta["memory"] = conversation.meta()
    return meta


LLM_PROMPT = NodeType(
    key="llm.prompt",
    version=1,
    title="LLM prompt",
    category="AI",
    icon="sparkles",
    description="Ask a language model; outputs {text, model} (and data with an output schema).",
    config_model=LlmPromptConfig,
    execute=execute,
    inputs=(Port("in"),),
    outputs=(Port("out"),),
)
