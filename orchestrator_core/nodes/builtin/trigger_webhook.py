"""``trigger.webhook``: another system starts the run by POSTing JSON to the workflow's secret URL."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from orchestrator_core.nodes.base import NodeContext, NodeResult, NodeType, Port
from orchestrator_core.nodes.builtin.trigger_manual import (
    RunTimeout,
    TriggerField,
    check_trigger_input,
    unique_field_names,
)


class TriggerWebhookConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    respond: Literal["immediately", "wait"] = Field(
        "immediately",
        title="Respond",
        description="immediately: 202 with the run id. wait: wait for the run, answer with a node's output.",
    )
    response_node: str | None = Field(
        None,
        title="Response node",
        description="With respond=wait: the id of the node whose output is the HTTP response.",
        max_length=64,
    )
    timeout_seconds: int = Field(
        10,
        ge=1,
        le=30,
        title="Wait at most (s)",
        description="With respond=wait: after this long the caller gets 202 with the run id.",
    )
    fields: list[TriggerField] = Field(
        default_factory=list,
        title="Body fields",
        description="Checked against the JSON body. No fields: any JSON is accepted.",
        max_length=50,
        json_schema_extra={"ui": {"widget": "fields"}},
    )
    run_timeout_seconds: RunTimeout = None

    _unique_names = field_validator("fields")(unique_field_names)

    @model_validator(mode="after")
    def _wait_needs_a_response_node(self) -> TriggerWebhookConfig:
        if self.respond == "wait" and not self.response_node:
            raise ValueError("response_node is required when respond is 'wait'")
        return self


def execute(ctx: NodeContext, config: TriggerWebhookConfig, /) -> NodeResult:
    trigger = ctx.expression_context.get("trigger")
    output = dict(trigger) if isinstance(trigger, Mapping) else {"body": trigger, "query": {}}
    return NodeResult(output=output)


TRIGGER_WEBHOOK = NodeType(
    key="trigger.webhook",
    version=1,
    title="Webhook trigger",
    category="Triggers",
    icon="webhook",
    description=(
        "Start a run when a system POSTs JSON to the workflow's secret URL; "
        "the body is trigger.body and the query string trigger.query."
    ),
    config_model=TriggerWebhookConfig,
    execute=execute,
    inputs=(),
    outputs=(Port("out"),),
    is_trigger=True,
    quick=True,
)


def webhook_node(document: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """The first ``trigger.webhook`` node of a workflow document, or None."""
    nodes = document.get("nodes") if isinstance(document, Mapping) else None
    for node in nodes if isinstance(nodes, list) else []:
        if isinstance(node, Mapping) and node.get("type") == TRIGGER_WEBHOOK.key:
            return node
    return None


def webhook_config(document: Mapping[str, Any]) -> TriggerWebhookConfig | None:
    """The parsed config of the workflow's webhook trigger; None when it has none (or it is invalid)."""
    node = webhook_node(document)
    if node is None:
        return None
    try:
        return TriggerWebhookConfig.model_validate(dict(node.get("config") or {}))
    except ValueError:
        return None


def check_webhook_input(
    document: Mapping[str, Any], *, body: Any, query: Mapping[str, str]
) -> dict[str, Any]:
    """The run's trigger input for a delivery: ``{"body", "query"}``, the body checked against ``fields``.

    Raises:
        BatonError: INPUT_INVALID (see `check_trigger_input`).
    """
    config = webhook_config(document)
    if config is not None and config.fields:
        fields = [f.model_dump() for f in config.fields]
        manual_doc = {"nodes": [{"type": "trigger.manual", "config": {"fields": fields}}]}
        body = check_trigger_input(manual_doc, body)
    return {"body": body, "query": dict(query)}
