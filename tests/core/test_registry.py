from __future__ import annotations

import pytest

from orchestrator_core import NodeRegistry, NodeType, default_registry
from orchestrator_core.nodes.builtin.data_template import DATA_TEMPLATE
from orchestrator_core.nodes.builtin.llm_prompt import LLM_PROMPT


def test_default_registry_has_the_builtins() -> None:
    reg = default_registry()
    keys = {t.key for t in reg.types()}
    assert keys == {
        "trigger.manual",
        "trigger.webhook",
        "trigger.schedule",
        "llm.prompt",
        "llm.classify",
        "data.template",
        "logic.if",
        "human.approval",
        "email.send",
        "logic.switch",
        "logic.merge",
        "data.transform",
        "flow.delay",
        "http.request",
        "flow.subworkflow",
        "logic.loop",
        "llm.agent",
    }
    assert "llm.prompt" in reg
    assert "nope" not in reg
    described = reg.describe()
    assert [(d["category"], d["title"]) for d in described] == sorted(
        (d["category"], d["title"]) for d in described
    )
    prompt = next(d for d in described if d["key"] == "llm.prompt")
    assert prompt["icon"] == "sparkles"
    assert prompt["config_schema"]["properties"]["model"]["ui"] == {"widget": "model-picker"}
    assert prompt["config_schema"]["properties"]["prompt"]["ui"] == {"widget": "textarea", "template": True}
    email = next(d for d in described if d["key"] == "email.send")
    assert email["side_effect"] is True
    trigger = next(d for d in described if d["key"] == "trigger.manual")
    assert trigger["is_trigger"] is True
    assert trigger["inputs"] == []


def test_versions_and_duplicates() -> None:
    v2 = NodeType(**{**LLM_PROMPT.__dict__, "version": 2})
    reg = NodeRegistry([LLM_PROMPT, v2, DATA_TEMPLATE])
    assert reg.get("llm.prompt") is v2
    assert reg.get("llm.prompt", 1) is LLM_PROMPT
    with pytest.raises(KeyError):
        reg.get("llm.prompt", 3)
    with pytest.raises(KeyError):
        reg.get("unknown")
    with pytest.raises(ValueError, match="twice"):
        NodeRegistry([LLM_PROMPT, LLM_PROMPT])
