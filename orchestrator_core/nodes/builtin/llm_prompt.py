"""``llm.prompt``: send a prompt (with templates) to a model and output its text."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from orchestrator_core.nodes.base import NodeContext, NodeResult, NodeType, Port
from orchestrator_core.ports import LLMRequest


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
        json_schema_extra={"ui": {"widget": "textarea"}},
    )
    prompt: str = Field(
        title="Prompt",
        min_length=1,
        description="The user message. Use {{ trigger.<field> }} and {{ steps.<node>.<field> }}.",
        json_schema_extra={"ui": {"widget": "textarea"}},
    )
    temperature: float = Field(0.2, title="Temperature", ge=0, le=2)
    max_tokens: int = Field(512, title="Max tokens", ge=1, le=8192)


def execute(ctx: NodeContext, config: LlmPromptConfig, /) -> NodeResult:
    system = ctx.render(config.system, field="system") if config.system else ""
    prompt = ctx.render(config.prompt, field="prompt")
    messages = [{"role": "system", "content": system}] if system else []
    messages.append({"role": "user", "content": prompt})
    response = ctx.llm(
        LLMRequest(
            model=config.model,
            messages=messages,
            temperature=config.temperature,
            max_tokens=config.max_tokens,
        )
    )
    return NodeResult(
        output={"text": response.text, "model": response.model},
        meta={
            "model": response.model,
            "tokens_in": response.prompt_tokens,
            "tokens_out": response.completion_tokens,
            "cost_usd": response.cost_usd,
            "reason": response.reason,
        },
    )


LLM_PROMPT = NodeType(
    key="llm.prompt",
    version=1,
    title="LLM prompt",
    category="AI",
    icon="sparkles",
    description="Ask a language model; outputs {text, model}.",
    config_model=LlmPromptConfig,
    execute=execute,
    inputs=(Port("in"),),
    outputs=(Port("out"),),
)
