"""``trigger.schedule``: the clock starts a run on a cron schedule, with a static input."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from croniter import croniter  # type: ignore[import-untyped]
from pydantic import BaseModel, ConfigDict, Field, field_validator

from orchestrator_core.nodes.base import NodeContext, NodeResult, NodeType, Port
from orchestrator_core.nodes.builtin.trigger_manual import RunTimeout


class TriggerScheduleConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    cron: str = Field(
        title="Cron",
        description="Five fields: minute hour day-of-month month day-of-week, e.g. '0 8 * * 1-5'.",
        min_length=1,
        max_length=200,
    )
    timezone: str = Field("UTC", title="Time zone", description="IANA name, e.g. 'Europe/Paris'.")
    inputs: dict[str, Any] = Field(
        default_factory=dict,
        title="Inputs",
        description="The run's trigger input (plus trigger.scheduled_at, the tick's time).",
        json_schema_extra={"ui": {"widget": "key-value"}},
    )
    run_timeout_seconds: RunTimeout = None

    @field_validator("cron")
    @classmethod
    def _cron(cls, value: str) -> str:
        if len(value.split()) != 5 or not croniter.is_valid(value):
            raise ValueError("must be a 5-field cron expression, e.g. '*/15 * * * *'")
        return value

    @field_validator("timezone")
    @classmethod
    def _timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as e:
            raise ValueError(f"unknown time zone '{value}'") from e
        return value


def execute(ctx: NodeContext, config: TriggerScheduleConfig, /) -> NodeResult:
    trigger = ctx.expression_context.get("trigger")
    output = dict(trigger) if isinstance(trigger, Mapping) else {"value": trigger}
    return NodeResult(output=output)


TRIGGER_SCHEDULE = NodeType(
    key="trigger.schedule",
    version=1,
    title="Schedule trigger",
    category="Triggers",
    icon="clock",
    description="Start a run on a cron schedule in a time zone; a missed tick fires once, never a backlog.",
    config_model=TriggerScheduleConfig,
    execute=execute,
    inputs=(),
    outputs=(Port("out"),),
    is_trigger=True,
    quick=True,
)


def schedule_config(document: Mapping[str, Any]) -> TriggerScheduleConfig | None:
    """The parsed config of the workflow's schedule trigger; None when it has none (or it is invalid)."""
    nodes = document.get("nodes") if isinstance(document, Mapping) else None
    for node in nodes if isinstance(nodes, list) else []:
        if isinstance(node, Mapping) and node.get("type") == TRIGGER_SCHEDULE.key:
            try:
                return TriggerScheduleConfig.model_validate(dict(node.get("config") or {}))
            except ValueError:
                return None
    return None


def latest_tick(config: TriggerScheduleConfig, now: datetime) -> datetime:
    """The most recent tick at or before ``now`` (an aware datetime), in the schedule's time zone."""
    local = now.astimezone(ZoneInfo(config.timezone))
    # croniter's get_prev is strictly before its start: start at the next whole minute.
    start = local.replace(second=0, microsecond=0) + timedelta(minutes=1)
    tick: datetime = croniter(config.cron, start).get_prev(datetime)
    return tick


def schedule_trigger_input(config: TriggerScheduleConfig, tick: datetime) -> dict[str, Any]:
    """The trigger input of the run fired at ``tick``: the static inputs plus ``scheduled_at``."""
    return {"scheduled_at": tick.isoformat(), **config.inputs}
