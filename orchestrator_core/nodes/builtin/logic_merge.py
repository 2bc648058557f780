"""``logic.merge``: join branches, waiting for all of them or continuing with the first.

Readiness is decided by the step function (``engine/step.py``): ``all`` waits until every
incoming branch is decided and runs if any fired (branches not taken are left out); ``first``
runs as soon as one incoming branch fired.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from orchestrator_core.nodes.base import NodeContext, NodeResult, NodeType, Port


class LogicMergeConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    mode: Literal["all", "first"] = Field(
        "all",
        title="Mode",
        description="all: wait for every branch that was not skipped. first: continue as soon as "
        "one branch arrives.",
    )


def execute(ctx: NodeContext, config: LogicMergeConfig, /) -> NodeResult:
    inputs = {source: ctx.incoming[source] for source in sorted(ctx.incoming)}
    if config.mode == "first":
        first = next(iter(inputs), None)
        return NodeResult(output={"inputs": inputs, "first": first})
    return NodeResult(output={"inputs": inputs})


LOGIC_MERGE = NodeType(
    quick=True,
    key="logic.merge",
    version=1,
    title="Merge",
    category="Logic",
    icon="merge",
    description="Join branches into one; outputs {inputs: {node_id: output}} of the branches that "
    "arrived (mode first adds {first}).",
    config_model=LogicMergeConfig,
    execute=execute,
    inputs=(Port("in"),),
    outputs=(Port("out"),),
)
