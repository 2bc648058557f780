"""``logic.loop``: run a published workflow (the loop body) once per item of a list.

Each item is a child run keyed by its index (``"0"``, ``"1"``...), started through
``ctx.subruns`` at most ``concurrency`` at a time. Between starts the step parks
(``request.kind == "children"``) without holding a worker; a child reaching a final status
wakes it, and the node re-runs: it reads the children, starts those that are due, and parks
again, until every item is over. Starting is idempotent by key, so re-running the node (a
wake-up, a crashed worker) never starts an item twice.

``on_item_error``: ``stop`` (start no more items; once the running ones are over the node
fails with ``LOOP_ITEM_FAILED``), ``skip`` (failed items are left out of ``results``) or
``collect`` (``results`` keeps the item's place with ``null`` and ``errors`` lists it).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from orchestrator_core.errors import ErrorCode, NodeError
from orchestrator_core.expressions import check_expression
from orchestrator_core.nodes.base import NodeContext, NodeResult, NodeType, Port
from orchestrator_core.nodes.builtin.flow_subworkflow import (
    Inputs,
    VersionRef,
    WorkflowRef,
    _workflow_id,
    child_error,
    park,
    pinned,
    render_inputs,
    subruns_of,
)
from orchestrator_core.ports import JSON, ChildRun, RunStatus

MAX_CONCURRENCY = 20
MAX_ITEMS = 1000


class LogicLoopConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    items: str = Field(
        title="Items",
        min_length=1,
        max_length=1000,
        description="A JMESPath expression (no {{ }}) that gives the list, e.g. trigger.orders.",
        json_schema_extra={"ui": {"widget": "expression"}},
    )
    workflow: WorkflowRef
    version: VersionRef = "latest"
    item_inputs: Inputs = Field(
        default_factory=dict,
        title="Inputs per item",
        description="The body's trigger inputs: field name -> template; 'item' and 'index' name "
        "the current item. Empty: an object item is the input as it is, anything else is {item}.",
        max_length=50,
        json_schema_extra={"ui": {"widget": "key-value"}},
    )
    concurrency: int = Field(
        4, title="Concurrency", ge=1, le=MAX_CONCURRENCY, description="Items running at the same time."
    )
    on_item_error: Literal["stop", "skip", "collect"] = Field(
        "stop",
        title="When an item fails",
        description="stop: fail the loop; skip: leave the item out; collect: list it in errors.",
    )
    max_items: int = Field(
        100, title="Max items", ge=1, le=MAX_ITEMS, description="More items than this fail the node."
    )

    _workflow = field_validator("workflow", mode="before")(_workflow_id)

    @field_validator("items")
    @classmethod
    def _items(cls, value: str) -> str:
        problem = check_expression(value)
        if problem is not None:
            raise ValueError(f"invalid expression at {problem}")
        return value


def _item_inputs(ctx: NodeContext, config: LogicLoopConfig, item: JSON, index: int) -> JSON:
    if not config.item_inputs:
        return dict(item) if isinstance(item, Mapping) else {"item": item}
    context = {**ctx.expression_context, "item": item, "index": index}
    return render_inputs(config.item_inputs, context, node_id=ctx.node_id, field="item_inputs")


def _output(config: LogicLoopConfig, items: list[JSON], children: Mapping[str, ChildRun]) -> NodeResult:
    results: list[JSON] = []
    errors: list[dict[str, Any]] = []
    for index in range(len(items)):
        child = children[str(index)]
        if child.status == RunStatus.SUCCEEDED:
            results.append(child.output if child.output is not None else {})
        elif config.on_item_error == "collect":
            results.append(None)
            errors.append({"index": index, **child_error(child)})
    output = {
        "results": results,
        "errors": errors,
        "count": len(items),
        "failed": sum(1 for c in children.values() if c.status != RunStatus.SUCCEEDED),
        "run_ids": [children[str(i)].run_id for i in range(len(items))],
    }
    return NodeResult(output=output)


def execute(ctx: NodeContext, config: LogicLoopConfig, /) -> NodeResult:
    subruns = subruns_of(ctx)
    items = ctx.evaluate(config.items, field="items")
    if not isinstance(items, list):
        raise NodeError(
            f"Node '{ctx.node_id}': 'items' must give a list, not {type(items).__name__}.",
            code=ErrorCode.LOOP_ITEMS_INVALID,
        )
    if len(items) > config.max_items:
        raise NodeError(
            f"Node '{ctx.node_id}': {len(items)} items is more than max_items ({config.max_items}).",
            code=ErrorCode.LOOP_ITEMS_INVALID,
        )
    children = dict(subruns.children(ctx.run_id, ctx.node_id))
    # Every item runs the same version: the one the first child got, unless pinned.
    version = pinned(config.version)
    if version is None and children:
        version = min(children.items(), key=lambda kv: int(kv[0]))[1].version or None
    failed = sorted(
        (int(k) for k, c in children.items() if c.status.is_final and c.status != RunStatus.SUCCEEDED)
    )
    active = sum(1 for c in children.values() if not c.status.is_final)
    stopping = config.on_item_error == "stop" and bool(failed)
    if not stopping:
        for index, item in enumerate(items):
            if active >= config.concurrency:
                break
            key = str(index)
            if key in children:
                continue
            child = subruns.start(
                ctx.run_id,
                ctx.node_id,
                key,
                workflow=config.workflow,
                version=version,
                inputs=_item_inputs(ctx, config, item, index),
            )
            children[key] = child
            version = version or child.version or None
            if not child.status.is_final:
                active += 1
    if active:
        raise park(children, len(items))
    if stopping:
        first = children[str(failed[0])]
        reason = (first.error or {}).get("message") or str(first.status)
        raise NodeError(
            f"Item {failed[0]} failed (run {first.run_id}, {first.status}): {reason}",
            code=ErrorCode.LOOP_ITEM_FAILED,
            details={"index": failed[0], **child_error(first)},
        )
    return _output(config, items, children)


LOGIC_LOOP = NodeType(
    key="logic.loop",
    version=1,
    title="Loop",
    category="Logic",
    icon="repeat",
    description="Run a published workflow once per item of a list (a few at a time); outputs "
    "{results, errors, count, failed, run_ids}.",
    config_model=LogicLoopConfig,
    execute=execute,
    inputs=(Port("in"),),
    outputs=(Port("out"),),
)
