"""Run one node type's execute() against a context built by hand."""

from __future__ import annotations

from typing import Any

from orchestrator_core.engine.context import RunContext
from orchestrator_core.nodes.base import NodeResult, NodeType
from orchestrator_core.testing import FakeLLM, FakeMailer, InMemoryRunStore


def run_node(
    node_type: NodeType,
    config: dict[str, Any],
    *,
    trigger: Any = None,
    steps: dict[str, Any] | None = None,
    llm: FakeLLM | None = None,
    mailer: FakeMailer | None = None,
    store: InMemoryRunStore | None = None,
    resume: Any = None,
) -> tuple[NodeResult, RunContext]:
    ctx = RunContext(
        run_id="r1",
        node_id="n",
        context={"trigger": trigger or {}, "steps": steps or {}, "run": {"id": "r1"}, "vars": {}},
        store=store or InMemoryRunStore(),
        llm_client=llm or FakeLLM(),
        mailer=mailer or FakeMailer(),
        resume=resume,
    )
    model = node_type.config_model.model_validate(config)
    return node_type.execute(ctx, model), ctx
