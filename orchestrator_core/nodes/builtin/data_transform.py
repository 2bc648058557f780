"""``data.transform``: reshape the run's data with one JMESPath expression."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from orchestrator_core.nodes.base import NodeContext, NodeResult, NodeType, Port


class DataTransformConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    expression: str = Field(
        title="Expression",
        min_length=1,
        max_length=1000,
        description="A JMESPath expression (no {{ }}), e.g. "
        "{name: trigger.name, total: sum(trigger.items[].price)}.",
        json_schema_extra={"ui": {"widget": "expression"}},
    )


def execute(ctx: NodeContext, config: DataTransformConfig, /) -> NodeResult:
    return NodeResult(output={"result": ctx.evaluate(config.expression, field="expression")})


DATA_TRANSFORM = NodeType(
    quick=True,
    key="data.transform",
    version=1,
    title="Transform",
    category="Data",
    icon="braces",
    description="Evaluate a JMESPath expression over the run's data; outputs {result}.",
    config_model=DataTransformConfig,
    execute=execute,
    inputs=(Port("in"),),
    outputs=(Port("out"),),
)
