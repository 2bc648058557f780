"""``human.approval``: park the run until reviewers approve (maybe after editing), reject or ask for changes.

Answers (from the backend's review inbox) and the port each fires:

* ``approve`` -> ``approved`` (``values`` = the fields with the reviewers' edits merged in; with
  ``approvals_required`` > 1 the backend merges the approvers' edits in vote order, the last
  approver's edits winning);
* ``reject`` -> ``rejected``;
* ``changes_requested`` -> with ``redraft_from`` (and fewer than ``max_rounds`` rounds so far):
  a review round, no port fires; the runner sends ``redraft_from`` and every node after it
  back (this one included), they run again with ``review`` in their expression context
  (``review.feedback``, ``review.round``...) and a new approval appears in the inbox. Without
  ``redraft_from``, or after ``max_rounds``: -> ``changes`` (``feedback`` = the reviewer's
  comment). See docs/engine.md, "Review rounds";
* ``timeout`` -> ``timeout`` (no decision before ``due_in_minutes``; ``values`` = the fields as shown).

With ``redraft_from`` (or in a review round) the output also has ``round`` (1 for the first review).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from orchestrator_core.errors import ErrorCode, NodeError
from orchestrator_core.nodes.base import NodeContext, NodeResult, NodeType, Port, Redo

_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")


_SCHEMA_TYPES = ("string", "number", "integer", "boolean")
_SCHEMA_KEYS = {
    "type",
    "title",
    "description",
    "enum",
    "maxLength",
    "minLength",
    "minimum",
    "maximum",
    "default",
}


def fields_schema_problem(schema: Any, field_names: set[str]) -> str | None:
    """What is wrong with a ``fields_schema`` (None: fine). Only flat objects of simple types."""
    if not isinstance(schema, Mapping):
        return "must be an object"
    if schema.get("type", "object") != "object":
        return "'type' must be 'object'"
    props = schema.get("properties")
    if not isinstance(props, Mapping) or not props:
        return "'properties' must be a non-empty object"
    for name, prop in props.items():
        if name not in field_names:
            return f"'{name}' is not one of the editable fields"
        if not isinstance(prop, Mapping):
            return f"'{name}' must be an object"
        unknown = sorted(set(prop) - _SCHEMA_KEYS)
        if unknown:
            return f"'{name}': unsupported keywords {', '.join(unknown)}"
        kind = prop.get("type", "string")
        if kind not in _SCHEMA_TYPES:
            return f"'{name}': type must be one of {', '.join(_SCHEMA_TYPES)}"
        enum = prop.get("enum")
        if enum is not None and (not isinstance(enum, list) or not enum):
            return f"'{name}': enum must be a non-empty list"
    return None


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

    fields_schema: dict[str, Any] | None = Field(
        None,
        title="Fields schema",
        description='Optional JSON Schema of the editable fields: {"properties": {name: {"type": '
        "string, number, integer or boolean; title, description, enum, minLength, maxLength, "
        "minimum, maximum}}}. The reviewer gets a form pre-filled with the draft; edits must match it.",
        json_schema_extra={"ui": {"widget": "json"}},
    )

    @model_validator(mode="after")
    def _fields_schema(self) -> HumanApprovalConfig:
        if self.fields_schema is not None:
            problem = fields_schema_problem(self.fields_schema, set(self.fields))
            if problem:
                raise ValueError(f"fields_schema: {problem}")
        return self

    redraft_from: str | None = Field(
        None,
        title="On 'request changes', redraft from",
        min_length=1,
        max_length=64,
        description="The id of an upstream node (usually the LLM step that drafted what is "
        "reviewed). When a reviewer requests changes, that node and everything after it run again "
        "with the feedback as review.feedback, and the item comes back to the inbox. Empty = "
        "follow the 'changes' port.",
    )
    max_rounds: int = Field(
        3,
        title="Review rounds at most",
        ge=1,
        le=20,
        description="With 'redraft from': how many times the item may be reviewed; a request for "
        "changes in the last round follows the 'changes' port.",
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


def _review(ctx: NodeContext) -> dict[str, Any]:
    """The ``review`` of the round this node runs in (``{}`` outside a review round)."""
    review = ctx.expression_context.get("review")
    return dict(review) if isinstance(review, Mapping) else {}


def execute(ctx: NodeContext, config: HumanApprovalConfig, /) -> NodeResult:
    review = _review(ctx)
    own = review.get("by") == ctx.node_id
    round_no = review["round"] if own and isinstance(review.get("round"), int) else 1
    title = ctx.render(config.title, field="title")
    instructions = ctx.render(config.instructions, field="instructions") if config.instructions else ""
    context = {label: ctx.render(t, field=f"context.{label}") for label, t in config.context.items()}
    if own and round_no > 1:  # shown to the reviewer with the item
        context.setdefault("Review round", f"{round_no} of {config.max_rounds}")
        context.setdefault("Earlier feedback", str(review.get("feedback") or ""))
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
    if config.fields_schema is not None:
        request["fields_schema"] = config.fields_schema
    if review.get("by") and isinstance(review.get("round"), int):
        # Each review round is a new inbox item: the approval is keyed by the round.
        request["approval_key"] = f"round-{review['round']}-{review['by']}"
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
    if config.redraft_from or round_no > 1:
        output["round"] = round_no
    if decision == "changes_requested":
        output["feedback"] = comment
        if config.redraft_from and round_no < config.max_rounds:
            entry = {
                "round": round_no,
                "feedback": comment,
                "decided_by": output["decided_by"],
                "values": fields,
            }
            earlier = review.get("history")
            history: list[Any] = list(earlier) if own and isinstance(earlier, list) else []
            next_review = {
                "by": ctx.node_id,
                "round": round_no + 1,
                "feedback": comment,
                "decided_by": output["decided_by"],
                "previous": fields,
                "history": [*history, entry],
            }
            return NodeResult(output=output, ports=(), redo=Redo(config.redraft_from, next_review))
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
