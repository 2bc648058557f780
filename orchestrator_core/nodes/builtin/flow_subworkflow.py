"""``flow.subworkflow``: run another (published) workflow as a child run and output its outputs.

The node starts one child run through ``ctx.subruns`` (idempotent: key ``"0"``), then parks
its step (``request.kind == "children"``) without holding a worker. Whoever owns the runs wakes
the step when the child reaches a final status; the node re-runs, reads the child and succeeds
with ``{"run_id", "version", "outputs"}`` or fails with ``SUBWORKFLOW_FAILED``. An approval
inside the child is an ordinary approval of the child run: the parent simply waits.

A child's **outputs** are ``{node_id: output}`` of its terminal nodes (nodes without an
outgoing edge) that succeeded; see `terminal_outputs`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from orchestrator_core import expressions
from orchestrator_core.errors import ErrorCode, NodeError
from orchestrator_core.nodes.base import Interrupt, NodeContext, NodeResult, NodeType, Port
from orchestrator_core.ports import JSON, ChildRun, RunStatus, StepRecord, StepStatus, SubRuns

MAX_SUBWORKFLOW_DEPTH = 5
"""A top-level run has depth 0; a child of a run at this depth is refused (SUBWORKFLOW_DEPTH)."""

CHILDREN_KIND = "children"
"""``request.kind`` of a step parked while its child runs run."""

WORKFLOW_UI = {"ui": {"widget": "workflow-picker"}}
"""The editor's hint for a field that names a workflow (its id, as a string)."""

_WHOLE_PLACEHOLDER = re.compile(r"^\s*\{\{(.*)\}\}\s*$", re.DOTALL)


def _workflow_id(value: Any) -> Any:
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return value


WorkflowRef = Annotated[
    str,
    Field(
        title="Workflow",
        min_length=1,
        max_length=64,
        description="The workflow to run (its id). It must have a published version.",
        json_schema_extra=WORKFLOW_UI,
    ),
]

VersionRef = Annotated[
    Literal["latest"] | Annotated[int, Field(ge=1)],
    Field(
        title="Version",
        description="'latest' (the newest published version when the child starts) or a version number.",
    ),
]

Inputs = Annotated[
    dict[str, str],
    Field(
        title="Inputs",
        max_length=50,
        description="The child's trigger inputs: field name -> template. A value that is one "
        "placeholder, like {{ trigger.order }}, keeps its type (number, list, object).",
        json_schema_extra={"ui": {"widget": "key-value"}},
    ),
]


class FlowSubworkflowConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    workflow: WorkflowRef
    version: VersionRef = "latest"
    inputs: Inputs = Field(default_factory=dict)

    _workflow = field_validator("workflow", mode="before")(_workflow_id)


def render_value(template: str, context: Mapping[str, Any], *, node_id: str, field: str) -> JSON:
    """A template's value: the raw value for one whole ``{{ expr }}``, else the rendered text."""
    match = _WHOLE_PLACEHOLDER.match(template)
    if match is not None and "{{" not in match.group(1) and "}}" not in match.group(1):
        return expressions.evaluate(match.group(1), context, node_id=node_id, field=field)
    return expressions.render(template, context, node_id=node_id, field=field)


def render_inputs(
    templates: Mapping[str, str], context: Mapping[str, Any], *, node_id: str, field: str
) -> dict[str, JSON]:
    return {
        name: render_value(template, context, node_id=node_id, field=f"{field}.{name}")
        for name, template in templates.items()
    }


def terminal_outputs(document: Mapping[str, Any], steps: Mapping[str, StepRecord]) -> dict[str, JSON]:
    """``{node_id: output}`` of the document's nodes without an outgoing edge whose step succeeded."""
    edges = document.get("edges") if isinstance(document, Mapping) else None
    sources = {str(e.get("source")) for e in edges or [] if isinstance(e, Mapping)}
    nodes = document.get("nodes") if isinstance(document, Mapping) else None
    out: dict[str, JSON] = {}
    for node in nodes or []:
        node_id = str(node.get("id")) if isinstance(node, Mapping) else ""
        step = steps.get(node_id)
        if node_id and node_id not in sources and step is not None and step.status == StepStatus.SUCCEEDED:
            out[node_id] = step.output
    return out


def pinned(version: str | int) -> int | None:
    """The version number a ``version`` config asks for; None for ``"latest"``."""
    return None if version == "latest" else int(version)


def subruns_of(ctx: NodeContext) -> SubRuns:
    subruns = ctx.subruns
    if subruns is None:
        raise NodeError(
            "Child runs are not available here (sub-workflows and loops run only in a real run).",
            code=ErrorCode.NODE_FAILED,
        )
    return subruns


def child_error(child: ChildRun) -> dict[str, Any]:
    return {
        "run_id": child.run_id,
        "status": str(child.status),
        "error": dict(child.error) if child.error is not None else None,
    }


def park(children: Mapping[str, ChildRun], total: int) -> Interrupt:
    """The interrupt that parks the step until a child reaches a final status."""
    done = sum(1 for c in children.values() if c.status.is_final)
    return Interrupt(
        {
            "kind": CHILDREN_KIND,
            "total": total,
            "started": len(children),
            "done": done,
            "runs": {key: child.run_id for key, child in sorted(children.items(), key=lambda kv: int(kv[0]))},
        }
    )


def execute(ctx: NodeContext, config: FlowSubworkflowConfig, /) -> NodeResult:
    subruns = subruns_of(ctx)
    children = dict(subruns.children(ctx.run_id, ctx.node_id))
    child = children.get("0")
    if child is None:
        inputs = render_inputs(config.inputs, ctx.expression_context, node_id=ctx.node_id, field="inputs")
        child = subruns.start(
            ctx.run_id,
            ctx.node_id,
            "0",
            workflow=config.workflow,
            version=pinned(config.version),
            inputs=inputs,
        )
        children["0"] = child
    if not child.status.is_final:
        raise park(children, 1)
    if child.status != RunStatus.SUCCEEDED:
        reason = (child.error or {}).get("message") or str(child.status)
        raise NodeError(
            f"The sub-workflow run {child.run_id} ended {child.status}: {reason}",
            code=ErrorCode.SUBWORKFLOW_FAILED,
            details=child_error(child),
        )
    output = child.output if isinstance(child.output, Mapping) else {}
    return NodeResult(output={"run_id": child.run_id, "version": child.version, "outputs": dict(output)})


FLOW_SUBWORKFLOW = NodeType(
    key="flow.subworkflow",
    version=1,
    title="Sub-workflow",
    category="Logic",
    icon="workflow",
    description="Run another published workflow with inputs and wait for it; outputs "
    "{run_id, version, outputs: {node_id: output}} of its last nodes.",
    config_model=FlowSubworkflowConfig,
    execute=execute,
    inputs=(Port("in"),),
    outputs=(Port("out"),),
)
