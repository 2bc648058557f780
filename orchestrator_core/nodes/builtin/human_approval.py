"""``human.approval``: park the run until a reviewer approves (maybe after editing) or rejects."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from orchestrator_core.errors import ErrorCode, NodeError
from orchestrator_core.nodes.base import NodeContext, NodeResult, NodeType, Port

_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")


class HumanApprovalConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    queue: str = Field(
        "Support",
        title="Queue",
        min_length=1,
        max_length=100,
        description="Who may decide: members of this queue.",
    )
    title: str = Field(
        title="Title", min_length=1, max_length=1000, description="Shown in the inbox; a template."
    )
    instructions: str = Field(
        "",
        title="Instructions",
        description="Markdown shown to the reviewer.",
        json_schema_extra={"ui": {"widget": "textarea"}},
    )
    context: dict[str, str] = Field(
        default_factory=dict,
        title="Context",
        description="Read-only facts for the reviewer: label -> template.",
        json_schema_extra={"ui": {"widget": "key-value"}},
    )
    fields: dict[str, str] = Field(
        title="Editable fields",
        min_length=1,
        description="What the reviewer may edit: field name -> template for its initial value.",
        json_schema_extra={"ui": {"widget": "key-value"}},
    )

    @field_validator("fields")
    @classmethod
    def _identifiers(cls, value: dict[str, str]) -> dict[str, str]:
        bad = [k for k in value if not _IDENTIFIER.match(k)]
        if bad:
            raise ValueError(f"field names must be identifiers (letters, digits, _): {', '.join(bad)}")
        return value


def execute(ctx: NodeContext, config: HumanApprovalConfig, /) -> NodeResult:
    title = ctx.render(config.title, field="title")
    instructions = ctx.render(config.instructions, field="instructions") if config.instructions else ""
    context = {label: ctx.render(t, field=f"context.{label}") for label, t in config.context.items()}
    fields = {name: ctx.render(t, field=f"fields.{name}") for name, t in config.fields.items()}
    answer = ctx.interrupt(
        {
            "queue": config.queue,
            "title": title,
            "instructions": instructions,
            "context": context,
            "fields": fields,
        }
    )
    if not isinstance(answer, Mapping) or answer.get("decision") not in ("approve", "reject"):
        raise NodeError(
            "The approval answer must be {decision: approve|reject, ...}.", code=ErrorCode.INPUT_INVALID
        )
    edited = answer.get("edited")
    values: dict[str, Any] = dict(fields)
    if isinstance(edited, Mapping):
        values.update({k: v for k, v in edited.items() if k in fields})
    approved = answer["decision"] == "approve"
    return NodeResult(
        output={
            "decision": "approved" if approved else "rejected",
            "values": values,
            "comment": str(answer.get("comment") or ""),
            "decided_by": str(answer.get("decided_by") or ""),
        },
        ports=("approved",) if approved else ("rejected",),
    )


HUMAN_APPROVAL = NodeType(
    key="human.approval",
    version=1,
    title="Human approval",
    category="Human",
    icon="user-check",
    description="Wait for a reviewer to approve (optionally editing) or reject.",
    config_model=HumanApprovalConfig,
    execute=execute,
    inputs=(Port("in"),),
    outputs=(Port("approved", "Approved"), Port("rejected", "Rejected")),
)
