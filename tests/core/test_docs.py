from __future__ import annotations

from orchestrator_core.nodes.docs import render_markdown
from tests.conftest import ROOT


def test_docs_nodes_md_matches_the_registry():
    expected = render_markdown()
    actual = (ROOT / "docs" / "nodes.md").read_text()
    assert actual == expected, (
        "docs/nodes.md is stale: python -m orchestrator_core.nodes.docs > docs/nodes.md"
    )


def test_every_node_type_is_documented():
    text = render_markdown()
    for key in (
        "trigger.manual",
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
    ):
        assert f"## `{key}`" in text
