from __future__ import annotations

import pytest
from node_harness import run_node
from pydantic import ValidationError

from orchestrator_core import BatonError, ErrorCode, check_trigger_input, trigger_fields
from orchestrator_core.nodes.builtin.trigger_manual import TRIGGER_MANUAL

DOC = {
    "nodes": [
        {
            "id": "t",
            "type": "trigger.manual",
            "config": {
                "fields": [
                    {"name": "from", "label": "Customer e-mail", "type": "string"},
                    {"name": "n", "type": "number", "required": False},
                    {"name": "vip", "type": "boolean", "required": False, "default": False},
                ]
            },
        }
    ]
}


def test_output_is_the_trigger_input() -> None:
    result, _ = run_node(TRIGGER_MANUAL, {}, trigger={"a": 1})
    assert result.output == {"a": 1}


def test_trigger_fields() -> None:
    assert trigger_fields(DOC) == [
        {"name": "from", "label": "Customer e-mail", "type": "string", "required": True},
        {"name": "n", "label": "n", "type": "number", "required": False},
        {"name": "vip", "label": "vip", "type": "boolean", "required": False},
    ]
    assert trigger_fields({"nodes": []}) == []
    assert trigger_fields({}) == []


def test_check_trigger_input() -> None:
    assert check_trigger_input(DOC, {"from": "a@b.c", "extra": 1}) == {
        "from": "a@b.c",
        "extra": 1,
        "vip": False,
    }
    assert check_trigger_input({"nodes": []}, {"anything": [1]}) == {"anything": [1]}
    with pytest.raises(BatonError) as info:
        check_trigger_input(DOC, {"n": "3", "vip": "yes", "big": "x" * 100_001})
    assert info.value.code == ErrorCode.INPUT_INVALID
    assert [d["field"] for d in info.value.details] == ["from", "n", "vip", "big"]  # type: ignore[union-attr]
    with pytest.raises(BatonError):
        check_trigger_input(DOC, ["not", "an", "object"])
    with pytest.raises(BatonError):
        check_trigger_input(DOC, {"from": "x", "n": True})


def test_config_rules() -> None:
    with pytest.raises(ValidationError):
        TRIGGER_MANUAL.config_model.model_validate({"fields": [{"name": "a b"}]})
    with pytest.raises(ValidationError):
        TRIGGER_MANUAL.config_model.model_validate({"fields": [{"name": "a"}, {"name": "a"}]})
