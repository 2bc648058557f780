"""``logic.if``: branch on a JMESPath condition."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from orchestrator_core.nodes.base import NodeContext, NodeResult, NodeType, Port


class LogicIfConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    condition: str = Field(
        title="Condition",
        min_length=1,
        max_length=1000,
        description="A JMESPath expression (no {{ }}), e.g. steps.classify.label == 'refund'.",
        json_schema_extra={"ui": {"widget": "expression"}},
    )


def truthy(value: Any) -> bool:
    """JMESPath truthiness: false, null, "", [] and {} are false; everything else (even 0) is true."""
    if value is None or value is False:
        return False
    if isinstance(value, str | list | dict):
        return len(value) > 0
    return True


def execute(ctx: NodeContext, config: LogicIfConfig, /) -> NodeResult:
    result = truthy(ctx.evaluate(config.condition, field="condition"))
    return NodeResult(output={"result": result}, ports=("true",) if result else ("false",))


LOGIC_IF = NodeType(
    quick=True,
    key="logic.if",
    version=1,
    title="If",
    category="Logic",
    icon="git-branch",
    description="Continue on 'true' or 'false' depending on a condition.",
    config_model=LogicIfConfig,
    execute=execute,
    inputs=(Port("in"),),
    outputs=(Port("true", "True"), Port("false", "False")),
)
