"""``logic.switch``: route to the first case whose JMESPath condition holds, else ``default``."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from orchestrator_core.expressions import check_expression
from orchestrator_core.nodes.base import NodeContext, NodeResult, NodeType, Port
from orchestrator_core.nodes.builtin.logic_if import truthy

_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")
DEFAULT_PORT = "default"
RESERVED = frozenset({DEFAULT_PORT, "error", "in"})


class SwitchCase(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(
        title="Name", description="The output port this case fires (an identifier).", max_length=64
    )
    condition: str = Field(
        title="Condition",
        min_length=1,
        max_length=1000,
        description="A JMESPath expression (no {{ }}), e.g. trigger.amount > `100`.",
        json_schema_extra={"ui": {"widget": "expression"}},
    )

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not _IDENTIFIER.match(value):
            raise ValueError("a case name must be an identifier (letters, digits, _)")
        if value in RESERVED:
            raise ValueError(f"'{value}' is reserved; choose another case name")
        return value

    @field_validator("condition")
    @classmethod
    def _condition(cls, value: str) -> str:
        problem = check_expression(value)
        if problem is not None:
            raise ValueError(f"invalid expression at {problem}")
        return value


class LogicSwitchConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    cases: list[SwitchCase] = Field(
        title="Cases",
        min_length=1,
        max_length=20,
        description="Checked in order; the first case whose condition holds fires its port, "
        "otherwise 'default' fires.",
        json_schema_extra={"ui": {"widget": "list"}},
    )

    @field_validator("cases")
    @classmethod
    def _unique(cls, value: list[SwitchCase]) -> list[SwitchCase]:
        names = [c.name for c in value]
        repeated = sorted({n for n in names if names.count(n) > 1})
        if repeated:
            raise ValueError(f"case names must be unique: {', '.join(repeated)}")
        return value


def output_ports(config: Mapping[str, Any]) -> tuple[Port, ...]:
    """The case names in order, then ``default``."""
    try:
        model = LogicSwitchConfig.model_validate(dict(config))
    except ValidationError:
        return (Port(DEFAULT_PORT, "Default"),)
    return (*(Port(c.name) for c in model.cases), Port(DEFAULT_PORT, "Default"))


def execute(ctx: NodeContext, config: LogicSwitchConfig, /) -> NodeResult:
    for i, case in enumerate(config.cases):
        if truthy(ctx.evaluate(case.condition, field=f"cases[{i}].condition")):
            return NodeResult(output={"case": case.name}, ports=(case.name,))
    return NodeResult(output={"case": DEFAULT_PORT}, ports=(DEFAULT_PORT,))


LOGIC_SWITCH = NodeType(
    quick=True,
    key="logic.switch",
    version=1,
    title="Switch",
    category="Logic",
    icon="split",
    description="Fire the port of the first case whose condition holds, else 'default'; "
    "outputs {case}. Ports: one per case, then default.",
    config_model=LogicSwitchConfig,
    execute=execute,
    inputs=(Port("in"),),
    outputs=(Port(DEFAULT_PORT, "Default"),),
    dynamic_outputs=output_ports,
)
