"""``trigger.manual``: a person starts the run by filling a small form (or posting JSON)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from orchestrator_core.errors import BatonError, ErrorCode
from orchestrator_core.nodes.base import NodeContext, NodeResult, NodeType, Port

MAX_STRING_CHARS = 100_000
_IDENTIFIER = r"^[A-Za-z_][A-Za-z0-9_]{0,63}$"


class TriggerField(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(
        title="Name",
        pattern=_IDENTIFIER,
        description="Used in expressions as trigger.<name>: letters, digits and _.",
    )
    label: str = Field("", title="Label", max_length=200, description="Shown on the run form.")
    type: Literal["string", "text", "number", "boolean"] = Field("string", title="Type")
    required: bool = Field(True, title="Required")
    default: str | float | bool | None = Field(None, title="Default value")


RunTimeout = Annotated[
    int | None,
    Field(
        ge=1,
        le=86400,
        title="Run timeout (s)",
        description="Fail the whole run (RUN_TIMEOUT) if it is not over after this long; none = no limit.",
    ),
]
"""The optional whole-run deadline every trigger offers (read by `engine.runner.run_timeout_seconds`)."""


def unique_field_names(cls: type[BaseModel], value: list[TriggerField]) -> list[TriggerField]:
    """Validator shared by the triggers that take input fields: names must not repeat."""
    names = [f.name for f in value]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise ValueError(f"field names must be unique: {', '.join(dupes)}")
    return value


class TriggerManualConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    fields: list[TriggerField] = Field(
        default_factory=list,
        title="Input fields",
        description="What a person fills in to start a run. No fields: any JSON object is accepted.",
        max_length=50,
        json_schema_extra={"ui": {"widget": "fields"}},
    )
    run_timeout_seconds: RunTimeout = None

    _unique_names = field_validator("fields")(unique_field_names)


def execute(ctx: NodeContext, config: TriggerManualConfig, /) -> NodeResult:
    trigger = ctx.expression_context.get("trigger")
    output = dict(trigger) if isinstance(trigger, Mapping) else {"value": trigger}
    return NodeResult(output=output)


TRIGGER_MANUAL = NodeType(
    key="trigger.manual",
    version=1,
    title="Manual trigger",
    category="Triggers",
    icon="play",
    description="Start a run from a form in the app or the API; its fields become trigger.<name>.",
    config_model=TriggerManualConfig,
    execute=execute,
    inputs=(),
    outputs=(Port("out"),),
    is_trigger=True,
    quick=True,
)


def _trigger_config(document: Mapping[str, Any]) -> list[Mapping[str, Any]] | None:
    nodes = document.get("nodes") if isinstance(document, Mapping) else None
    if not isinstance(nodes, list):
        return None
    for node in nodes:
        if isinstance(node, Mapping) and node.get("type") == TRIGGER_MANUAL.key:
            config = node.get("config")
            raw = config.get("fields") if isinstance(config, Mapping) else None
            if not isinstance(raw, list):
                return []
            return [f for f in raw if isinstance(f, Mapping) and isinstance(f.get("name"), str)]
    return None


def trigger_fields(document: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The run form of a workflow: the fields of its first ``trigger.manual`` node.

    Returns:
        ``[{"name", "label", "type", "required"}]``; ``[]`` when there is no manual trigger or
        it declares no fields.
    """
    out: list[dict[str, Any]] = []
    for raw in _trigger_config(document) or []:
        name = str(raw["name"])
        out.append(
            {
                "name": name,
                "label": str(raw.get("label") or name),
                "type": str(raw.get("type") or "string"),
                "required": bool(raw.get("required", True)),
            }
        )
    return out


def _type_ok(kind: str, value: Any) -> bool:
    if kind in ("string", "text"):
        return isinstance(value, str)
    if kind == "number":
        return isinstance(value, int | float) and not isinstance(value, bool)
    if kind == "boolean":
        return isinstance(value, bool)
    return True


def check_trigger_input(document: Mapping[str, Any], inputs: Any) -> dict[str, Any]:
    """Check a run's trigger input against the workflow's trigger fields.

    Missing optional fields get their default (when one is set); unknown keys are kept.

    Returns:
        The input as a new dict.

    Raises:
        BatonError: INPUT_INVALID with ``details=[{"field", "message"}]``.
    """
    if not isinstance(inputs, Mapping):
        raise BatonError(
            "The run input must be a JSON object.",
            code=ErrorCode.INPUT_INVALID,
            details=[{"field": "", "message": "must be an object"}],
        )
    result = dict(inputs)
    problems: list[dict[str, Any]] = []
    raw_fields = _trigger_config(document) or []
    for raw in raw_fields:
        name = str(raw["name"])
        kind = str(raw.get("type") or "string")
        label = str(raw.get("label") or name)
        value = result.get(name)
        missing = value is None or (isinstance(value, str) and not value.strip())
        if missing:
            default = raw.get("default")
            if default is not None and value is None:
                result[name] = default
            elif raw.get("required", True):
                problems.append({"field": name, "message": f"{label} is required."})
            continue
        if not _type_ok(kind, value):
            expected = {"string": "text", "text": "text", "number": "a number", "boolean": "true or false"}
            problems.append({"field": name, "message": f"{label} must be {expected.get(kind, kind)}."})
    for key, value in result.items():
        if isinstance(value, str) and len(value) > MAX_STRING_CHARS:
            problems.append({"field": str(key), "message": f"must be at most {MAX_STRING_CHARS} characters."})
    if problems:
        raise BatonError("The run input is invalid.", code=ErrorCode.INPUT_INVALID, details=problems)
    return result
