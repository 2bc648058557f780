"""trigger.webhook and trigger.schedule: config validation, output, schedule ticks."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from core_helpers import load_fixture, make_doc
from node_harness import run_node

from orchestrator_core import BatonError, ErrorCode, validate_workflow
from orchestrator_core.nodes.builtin.trigger_schedule import (
    TRIGGER_SCHEDULE,
    TriggerScheduleConfig,
    latest_tick,
    schedule_config,
    schedule_trigger_input,
)
from orchestrator_core.nodes.builtin.trigger_webhook import (
    TRIGGER_WEBHOOK,
    check_webhook_input,
    webhook_config,
)
from orchestrator_core.nodes.registry import NodeRegistry


def _issues(doc: dict, registry: NodeRegistry) -> list[tuple[str, str]]:
    return [(str(i.code), i.message) for i in validate_workflow(doc, registry)]


def test_webhook_output_is_the_trigger_input() -> None:
    result, _ = run_node(TRIGGER_WEBHOOK, {}, trigger={"body": {"a": 1}, "query": {"q": "x"}})
    assert result.output == {"body": {"a": 1}, "query": {"q": "x"}}


def test_webhook_response_node_must_exist(registry: NodeRegistry) -> None:
    doc = make_doc([("h", "trigger.webhook", {"respond": "wait", "response_node": "nope"})], [])
    assert _issues(doc, registry) == [
        ("NODE_CONFIG_INVALID", "Node 'h', field 'response_node': there is no node 'nope'.")
    ]
    assert _issues(load_fixture("webhook_echo.json"), registry) == []


def test_webhook_wait_needs_a_response_node(registry: NodeRegistry) -> None:
    [(code, message)] = _issues(make_doc([("h", "trigger.webhook", {"respond": "wait"})], []), registry)
    assert code == "NODE_CONFIG_INVALID"
    assert "response_node is required" in message


@pytest.mark.parametrize("timeout", [0, 31])
def test_webhook_timeout_is_bounded(registry: NodeRegistry, timeout: int) -> None:
    doc = make_doc([("h", "trigger.webhook", {"timeout_seconds": timeout})], [])
    [(code, message)] = _issues(doc, registry)
    assert code == "NODE_CONFIG_INVALID"
    assert "timeout_seconds" in message


def test_webhook_body_checked_against_fields() -> None:
    doc = load_fixture("webhook_echo.json")
    assert webhook_config(doc) is not None
    assert check_webhook_input(doc, body={"name": "Ann"}, query={"a": "1"}) == {
        "body": {"name": "Ann"},
        "query": {"a": "1"},
    }
    with pytest.raises(BatonError) as e:
        check_webhook_input(doc, body={"nom": "Ann"}, query={})
    assert e.value.code == ErrorCode.INPUT_INVALID
    # No fields declared: any JSON body.
    bare = make_doc([("h", "trigger.webhook", {})], [])
    assert check_webhook_input(bare, body=[1, 2], query={}) == {"body": [1, 2], "query": {}}


@pytest.mark.parametrize(
    ("config", "field"),
    [
        ({"cron": "every day"}, "cron"),
        ({"cron": "* * * * * *"}, "cron"),
        ({"cron": "61 * * * *"}, "cron"),
        ({"cron": "0 8 * * *", "timezone": "Mars/Olympus"}, "timezone"),
    ],
)
def test_invalid_schedule_is_rejected(registry: NodeRegistry, config: dict, field: str) -> None:
    [(code, message)] = _issues(make_doc([("s", "trigger.schedule", config)], []), registry)
    assert code == "NODE_CONFIG_INVALID"
    assert f"field '{field}'" in message


def test_schedule_fixture_and_ticks(registry: NodeRegistry) -> None:
    doc = load_fixture("scheduled_digest.json")
    assert _issues(doc, registry) == []
    config = schedule_config(doc)
    assert config is not None
    # 08:00 Paris on a weekday is 07:00 UTC in winter.
    now = datetime(2026, 1, 6, 7, 0, 0, tzinfo=UTC)  # Tuesday
    tick = latest_tick(config, now)
    assert tick.astimezone(UTC) == now
    assert latest_tick(config, now.replace(second=59)) == tick
    # Just before: the previous weekday's tick (Monday), never a backlog.
    assert latest_tick(config, now.replace(hour=6, minute=59)).astimezone(UTC) == datetime(
        2026, 1, 5, 7, 0, tzinfo=UTC
    )
    assert schedule_trigger_input(config, tick) == {"scheduled_at": tick.isoformat(), "team": "Support"}


def test_schedule_output_is_the_trigger_input() -> None:
    result, _ = run_node(TRIGGER_SCHEDULE, {"cron": "* * * * *"}, trigger={"x": 1})
    assert result.output == {"x": 1}
    assert TriggerScheduleConfig(cron="*/5 * * * *").timezone == "UTC"


@pytest.mark.parametrize("key", ["trigger.manual", "trigger.webhook"])
def test_trigger_field_names_must_be_unique(key: str) -> None:
    from pydantic import ValidationError

    from orchestrator_core import default_registry

    model = default_registry().get(key).config_model
    with pytest.raises(ValidationError, match="field names must be unique: a"):
        model.model_validate({"fields": [{"name": "a"}, {"name": "a"}]})
