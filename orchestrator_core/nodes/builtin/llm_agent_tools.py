"""The tools an ``llm.agent`` may call: their config, JSON Schemas and how one call runs.

A tool is another node type run with the model's arguments (validated by that node type's
own config model, merged under the builder's ``fixed`` values). Model-written strings are
data, never templates (a model must not read the run's data through ``{{ }}``): the tool's
context (`NodeContext.scoped`) hands them to the node as they are, while ``fixed`` values are
rendered like any node's config. A tool cannot park the run.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from orchestrator_core.errors import ErrorCode, NodeError
from orchestrator_core.nodes.base import NodeContext, NodeResult, NodeType
from orchestrator_core.nodes.builtin.data_template import DATA_TEMPLATE
from orchestrator_core.nodes.builtin.data_transform import DATA_TRANSFORM
from orchestrator_core.nodes.builtin.email_send import EMAIL_SEND
from orchestrator_core.nodes.builtin.flow_subworkflow import VersionRef, WorkflowRef, render_value
from orchestrator_core.nodes.builtin.http_request import HTTP_REQUEST
from orchestrator_core.nodes.builtin.llm_classify import LLM_CLASSIFY
from orchestrator_core.nodes.builtin.llm_prompt import LLM_PROMPT
from orchestrator_core.policy import RunPolicy
from orchestrator_core.ports import JSON

TOOL_NODE_TYPES: dict[str, NodeType] = {
    t.key: t for t in (DATA_TRANSFORM, DATA_TEMPLATE, HTTP_REQUEST, EMAIL_SEND, LLM_PROMPT, LLM_CLASSIFY)
}
"""The node types an agent may call: no triggers, no waiting (approval, delay), no flow control."""

TOOL_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_-]{0,63}$")
MAX_RESULT_CHARS = 4000
"""A tool's result as the model sees it is cut to this many characters."""
_SAFE_METHODS = ("GET", "HEAD")


class AgentTool(BaseModel):
    """One allowlisted tool of an ``llm.agent``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(
        title="Tool name",
        description="What the model calls it: letters, digits, _ and -, starting with a letter.",
        pattern=TOOL_NAME.pattern,
    )
    node_type: str | None = Field(
        None,
        title="Node type",
        description="The node type that does the work: " + ", ".join(sorted(TOOL_NODE_TYPES)) + ".",
        json_schema_extra={"enum": [*sorted(TOOL_NODE_TYPES), None]},
    )
    workflow: WorkflowRef | None = Field(
        None,
        description="Or: a published workflow to run (a child run); the model's arguments are its "
        "trigger inputs. Set exactly one of node type and workflow.",
    )
    version: VersionRef = "latest"

    @field_validator("workflow", mode="before")
    @classmethod
    def _workflow_id(cls, value: Any) -> Any:
        return str(value) if isinstance(value, int) and not isinstance(value, bool) else value

    description: str = Field(
        "", title="Description", max_length=1000, description="Tells the model when to use the tool."
    )
    fixed: dict[str, Any] = Field(
        default_factory=dict,
        title="Fixed settings",
        description="Config values of the node type that the model cannot change (templates work here), "
        'e.g. {"connector": "crm", "method": "GET"}.',
        json_schema_extra={"ui": {"widget": "json"}},
    )
    parameters: dict[str, Any] | None = Field(
        None,
        title="Parameters schema",
        description="The JSON Schema of the model's arguments; empty = the node type's config schema "
        "without the fixed settings.",
        json_schema_extra={"ui": {"widget": "json"}},
    )
    high_impact: bool = Field(
        False,
        title="Needs approval",
        description="A person approves each call before it runs. Always on for e-mail and non-GET HTTP.",
    )

    @model_validator(mode="after")
    def _check(self) -> AgentTool:
        if (self.node_type is None) == (self.workflow is None):
            raise ValueError(f"tool '{self.name}': set exactly one of node_type and workflow")
        if self.node_type is not None:
            node_type = TOOL_NODE_TYPES.get(self.node_type)
            if node_type is None:
                raise ValueError(
                    f"node_type '{self.node_type}' cannot be a tool; "
                    f"use one of {', '.join(sorted(TOOL_NODE_TYPES))}"
                )
            fields = node_type.config_model.model_fields
            unknown = sorted(set(self.fixed) - set(fields))
            if unknown:
                raise ValueError(f"fixed settings unknown to {self.node_type}: {', '.join(unknown)}")
        elif any(not isinstance(v, str) for v in self.fixed.values()):
            raise ValueError("the fixed inputs of a workflow tool must be templates (text)")
        if len(json.dumps(self.fixed, default=str)) > 20_000 or len(json.dumps(self.parameters)) > 20_000:
            raise ValueError("fixed settings and the parameters schema must each be at most 20000 characters")
        if self.parameters is not None and self.parameters.get("type", "object") != "object":
            raise ValueError("a parameters schema must describe an object")
        return self

    @property
    def spec(self) -> NodeType:
        """The node type of a node-type tool.

        Raises:
            KeyError: a workflow tool.
        """
        return TOOL_NODE_TYPES[self.node_type or ""]


def _strip(schema: Any) -> Any:
    """The schema without editor hints (``ui``) and titles: the model needs neither."""
    if isinstance(schema, dict):
        return {k: _strip(v) for k, v in schema.items() if k not in ("ui", "title")}
    if isinstance(schema, list):
        return [_strip(v) for v in schema]
    return schema


def parameters_schema(tool: AgentTool) -> dict[str, Any]:
    """The JSON Schema of the arguments the model may give the tool."""
    if tool.parameters is not None:
        return {"type": "object", **tool.parameters}
    if tool.workflow is not None:
        return {"type": "object", "description": "The workflow's trigger inputs, by field name."}
    schema = _strip(tool.spec.config_model.model_json_schema())
    properties = {k: v for k, v in schema.get("properties", {}).items() if k not in tool.fixed}
    schema["properties"] = properties
    required = [r for r in schema.get("required", []) if r in properties]
    if required:
        schema["required"] = required
    else:
        schema.pop("required", None)
    return dict(schema)


def openai_tool(tool: AgentTool) -> dict[str, Any]:
    """The tool as an OpenAI ``tools`` entry."""
    if tool.workflow is not None:
        description = tool.description or f"Run the workflow {tool.workflow} and get its outputs."
    else:
        description = tool.description or tool.spec.description or tool.spec.title
    return {
        "type": "function",
        "function": {"name": tool.name, "description": description, "parameters": parameters_schema(tool)},
    }


def tool_config(tool: AgentTool, arguments: Mapping[str, Any]) -> dict[str, Any]:
    """The node config the call runs with: the model's arguments under the fixed settings."""
    return {**{k: v for k, v in arguments.items() if k not in tool.fixed}, **tool.fixed}


def needs_approval(tool: AgentTool, config: Mapping[str, Any]) -> bool:
    """High impact: flagged by the builder, a side-effect node type, or a non-GET HTTP request."""
    if tool.high_impact:
        return True
    if tool.workflow is not None:
        return False  # the child run's own approvals guard what it does
    if tool.spec.key == HTTP_REQUEST.key:
        return str(config.get("method", "GET")).upper() not in _SAFE_METHODS
    return tool.spec.side_effect


def connector_refused(config: Mapping[str, Any], policy: RunPolicy) -> str | None:
    """Why the run's policy forbids the call's connector, or None."""
    connector = config.get("connector")
    allowed = policy.allowed_connectors
    if isinstance(connector, str) and connector and allowed is not None and connector not in allowed:
        return f"The connector '{connector}' is not allowed by this workflow's policy."
    return None


PROPAGATE = frozenset(
    {
        ErrorCode.OUTCOME_UNKNOWN,
        ErrorCode.RUN_CANCELLED,
        ErrorCode.BUDGET_EXCEEDED,
        ErrorCode.LEASE_LOST,
    }
)
"""Errors of a tool that end the agent's step (the rest are told to the model)."""


def run_tool(ctx: NodeContext, tool: AgentTool, arguments: Mapping[str, Any], item: str) -> tuple[str, str]:
    """Run one tool call; ``(status, result text for the model)``, status ``ok`` or ``error``.

    Raises:
        NodeError: for the codes in `PROPAGATE` (a person must check, the run was cancelled...).
    """
    config = tool_config(tool, arguments)
    try:
        parsed = tool.spec.config_model.model_validate(config)
    except ValidationError as e:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or '(arguments)'}: {err['msg']}"
            for err in e.errors(include_url=False)
        )
        return "error", f"Invalid arguments: {problems}"[:MAX_RESULT_CHARS]
    literal = frozenset(k for k in arguments if k not in tool.fixed)
    tool_ctx = ctx.scoped(item, literal_fields=literal)
    try:
        result: NodeResult = tool.spec.execute(tool_ctx, parsed)
    except NodeError as e:
        if e.code in PROPAGATE:
            raise
        return "error", f"The tool failed ({e.code}): {e.message}"[:MAX_RESULT_CHARS]
    except Exception as e:
        code = getattr(e, "code", None)
        if code in PROPAGATE:
            raise
        return "error", f"The tool failed: {type(e).__name__}: {e}"[:MAX_RESULT_CHARS]
    text = json.dumps(dict(result.output), default=str, ensure_ascii=False)
    if len(text) > MAX_RESULT_CHARS:
        text = text[: MAX_RESULT_CHARS - 15] + " ...(truncated)"
    return "ok", text


def workflow_inputs(ctx: NodeContext, tool: AgentTool, arguments: Mapping[str, Any]) -> dict[str, JSON]:
    """A workflow tool's trigger inputs: the model's arguments as they are, under the fixed
    inputs (templates; one whole ``{{ expr }}`` keeps its type)."""
    fixed = {
        name: render_value(str(template), ctx.expression_context, node_id=ctx.node_id, field=f"tools.{name}")
        for name, template in tool.fixed.items()
    }
    return {**{k: v for k, v in arguments.items() if k not in fixed}, **fixed}
