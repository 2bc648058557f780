"""``data.template``: build a text from a template over the run's data."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from orchestrator_core.nodes.base import NodeContext, NodeResult, NodeType, Port


class DataTemplateConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    template: str = Field(
        title="Template",
        description="Text with {{ jmespath }} placeholders, e.g. Hello {{ trigger.name }}.",
        max_length=20_000,
        json_schema_extra={"ui": {"widget": "textarea", "template": True}},
    )


def execute(ctx: NodeContext, config: DataTemplateConfig, /) -> NodeResult:
    return NodeResult(output={"text": ctx.render(config.template, field="template")})


DATA_TEMPLATE = NodeType(
    quick=True,
    key="data.template",
    version=1,
    title="Text template",
    category="Data",
    icon="file-text",
    description="Render a template; outputs {text}.",
    config_model=DataTemplateConfig,
    execute=execute,
    inputs=(Port("in"),),
    outputs=(Port("out"),),
)
