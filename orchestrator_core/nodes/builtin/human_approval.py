"""``human.approval``: park the run until reviewers approve (maybe after editing), reject or ask for changes.

Answers (from the backend's review inbox) and the port each fires:

* ``approve`` -> ``approved`` (``values`` = the fields with the reviewers' edits merged in; with
  ``approvals_required`` > 1 the backend merges the approvers' edits in vote order, the last
  approver's edits winning);
* ``reject`` -> ``rejected``;
* ``changes_requested`` -> ``changes`` (``feedback`` = the reviewer's comment), so a builder can
  route the feedback to a second drafting step (cycles are forbidden, so no loop back);
* ``timeout`` -> ``timeout`` (no decision before ``due_in_minutes``; ``values`` = the fields as shown).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

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
        title="Title",
        min_length=1,
        max_length=1000,
        description="Shown in the inbox; a template.",
        json_schema_extra={"ui": {"template": True}},
    )
    instructions: str = Field(
        "",
        title="Instructions",
        description="Markdown shown to the reviewer.",
        json_schema_extra={"ui": {"widget": "textarea", "template": True}},
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

    approvals_required: int = Field(
        1,
        title="Approvals required",
        ge=1,
        le=10,
        description="How many distinct queue members must approve; one rejection rejects.",
    )
    allow_starter: bool = Field(
        True,
        title="Starter may decide",
        description="Off = four eyes: the person who started the run cannot decide.",
    )
    due_in_minutes: int | None = Field(
        None,
        title="Due in (minutes)",
        ge=1,
        le=525_600,
        description="Empty = no deadline. When it passes, see 'When due'.",
    )
    on_due: Literal["timeout", "escalate"] = Field(
        "timeout",
        title="When due",
        description="timeout: resume on the 'timeout' port; escalate: move the item to another queue "
        "once (with a fresh deadline, after which it times out).",
    )
    escalate_to: str | None = Field(
        None,
        title="Escalate to queue",
        min_length=1,
        max_length=100,
        description="Queue name used when 'When due' is escalate.",
    )

    @model_validator(mode="after")
    def _escalation(self) -> HumanApprovalConfig:
        if self.on_due == "escalate" and (not self.escalate_to or self.due_in_minutes is None):
            raise ValueError("escalating needs both 'due_in_minutes' and 'escalate_to'")
        return self

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
    request: dict[str, Any] = {
        "queue": config.queue,
        "title": title,
        "instructions": instructions,
        "context": context,
        "fields": fields,
    }
    # Only options that differ from the defaults, so the request of a plain approval is unchanged.
    if config.approvals_required != 1:
        request["approvals_required"] = config.approvals_required
    if not config.allow_starter:
        request["allow_starter"] = False
    if config.due_in_minutes is not None:
        request["due_in_minutes"] = config.due_in_minutes
        request["on_due"] = config.on_due
        if config.on_due == "escalate":
            request["escalate_to"] = config.escalate_to
    answer = ctx.interrupt(request)
    decision = answer.get("decision") if isinstance(answer, Mapping) else None
    if not isinstance(answer, Mapping) or decision not in _PORTS:
        raise NodeError(
            "The approval answer must be {decision: approve|reject|changes_requested|timeout, ...}.",
            code=ErrorCode.INPUT_INVALID,
        )
    edited = answer.get("edited")
    values: dict[str, Any] = dict(fields)
    if decision == "approve" and isinstance(edited, Mapping):
        values.update({k: v for k, v in edited.items() if k in fields})
    comment = str(answer.get("comment") or "")
    output: dict[str, Any] = {
        "decision": _OUTCOMES[decision],
        "values": values,
        "comment": comment,
        "decided_by": str(answer.get("decided_by") or ""),
    }
    if decision == "changes_requested":
        output["feedback"] = comment
    return NodeResult(output=output, ports=(_PORTS[decision],))


_PORTS = {"approve": "approved", "reject": "rejected", "changes_requested": "changes", "timeout": "timeout"}
_OUTCOMES = {
    "approve": "approved",
    "reject": "rejected",
    "changes_requested": "changes_requested",
    "timeout": "timed_out",
}


HUMAN_APPROVAL = NodeType(
    key="human.approval",
    version=1,
    title="Human approval",
    category="Human",
    icon="user-check",
    description="Wait for reviewers to approve (optionally editing), reject or request changes; "
    "optional deadline with timeout or escalation.",
    config_model=HumanApprovalConfig,
    execute=execute,
    inputs=(Port("in"),),
    outputs=(
        Port("approved", "Approved"),
        Port("rejected", "Rejected"),
        Port("changes", "Changes requested"),
        Port("timeout", "Timed out"),
    ),
)
