"""``flow.delay``: a durable timer. The run parks (status waiting) until the delay is over.

The node interrupts with ``{"kind": "delay", "until": <ISO 8601 UTC>, "seconds": n}``; no
worker is held while it waits. Whoever owns time (the backend's scheduler; a test by hand)
resumes the step at ``until`` with any answer, e.g. ``{"kind": "delay", "fired_at": ...}``.
"""

from __future__ import annotations

from datetime import timedelta

from pydantic import BaseModel, ConfigDict, Field

from orchestrator_core.nodes.base import NodeContext, NodeResult, NodeType, Port

MAX_DELAY_SECONDS = 30 * 24 * 3600


class FlowDelayConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    seconds: int = Field(
        title="Seconds",
        ge=1,
        le=MAX_DELAY_SECONDS,
        description="How long to wait (at most 30 days). The run waits without holding a worker.",
    )


def execute(ctx: NodeContext, config: FlowDelayConfig, /) -> NodeResult:
    until = ctx.now() + timedelta(seconds=config.seconds)
    ctx.interrupt({"kind": "delay", "until": until.isoformat(), "seconds": config.seconds})
    return NodeResult(output={"seconds": config.seconds, "resumed_at": ctx.now().isoformat()})


FLOW_DELAY = NodeType(
    key="flow.delay",
    version=1,
    title="Delay",
    category="Logic",
    icon="clock",
    description="Wait a while, then continue; outputs {seconds, resumed_at}.",
    config_model=FlowDelayConfig,
    execute=execute,
    inputs=(Port("in"),),
    outputs=(Port("out"),),
)
