from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from core_helpers import FIXTURES, make_doc

from orchestrator_core import ErrorCode, WorkflowInvalid, validate_workflow
from orchestrator_core.nodes.registry import NodeRegistry
from orchestrator_core.validation import validate_or_raise

TRIGGER = ("t", "trigger.manual", {})


def tpl(text: str = "hi") -> dict[str, Any]:
    return {"template": text}


def codes(doc: dict[str, Any], registry: NodeRegistry) -> list[ErrorCode]:
    return [i.code for i in validate_workflow(doc, registry)]


@pytest.mark.parametrize("path", sorted(FIXTURES.glob("*.json")), ids=lambda p: p.name)
def test_every_fixture_validates(path: Path, registry: NodeRegistry) -> None:
    assert validate_workflow(json.loads(path.read_text()), registry) == []


def test_valid_minimal(registry: NodeRegistry) -> None:
    doc = make_doc([TRIGGER, ("a", "data.template", tpl())], [("t", "out", "a", "in")])
    assert validate_workflow(doc, registry) == []
    assert validate_or_raise(doc, registry).node_ids == ("t", "a")


def test_malformed_document_becomes_issues(registry: NodeRegistry) -> None:
    issues = validate_workflow({"nodes": [{"id": "9x", "type": "data.template"}]}, registry)
    assert issues
    assert issues[0].code == ErrorCode.WORKFLOW_INVALID
    assert validate_workflow({"nodes": "x"}, registry)[0].code == ErrorCode.WORKFLOW_INVALID


def test_duplicate_node_id(registry: NodeRegistry) -> None:
    doc = make_doc(
        [TRIGGER, ("a", "data.template", tpl()), ("a", "data.template", tpl())], [("t", "out", "a", "in")]
    )
    issues = validate_workflow(doc, registry)
    assert [i.code for i in issues] == [ErrorCode.NODE_ID_DUPLICATE]
    assert issues[0].node_id == "a"


def test_unknown_type_and_version(registry: NodeRegistry) -> None:
    doc = make_doc([TRIGGER, ("a", "nope.x", {})], [("t", "out", "a", "in")])
    assert codes(doc, registry) == [ErrorCode.NODE_TYPE_UNKNOWN]
    doc["nodes"][1] = {"id": "a", "type": "data.template", "type_version": 9, "config": tpl()}
    assert codes(doc, registry) == [ErrorCode.NODE_TYPE_UNKNOWN]


def test_config_invalid_one_issue_per_error(registry: NodeRegistry) -> None:
    doc = make_doc(
        [TRIGGER, ("a", "llm.prompt", {"prompt": "", "temperature": 5, "bogus": 1})],
        [("t", "out", "a", "in")],
    )
    issues = validate_workflow(doc, registry)
    assert [i.code for i in issues] == [ErrorCode.NODE_CONFIG_INVALID] * 3
    messages = " ".join(i.message for i in issues)
    assert "'prompt'" in messages
    assert "'temperature'" in messages
    assert "'bogus'" in messages


def test_bad_templates_and_conditions(registry: NodeRegistry) -> None:
    doc = make_doc(
        [
            TRIGGER,
            ("a", "data.template", tpl("Hi {{ trigger.[ }}")),
            ("b", "logic.if", {"condition": "a ||| b"}),
            ("c", "human.approval", {"title": "x", "fields": {"reply": "{{ __import__('os') }}"}}),
        ],
        [("t", "out", "a", "in"), ("a", "out", "b", "in"), ("b", "true", "c", "in")],
    )
    issues = validate_workflow(doc, registry)
    assert [(i.code, i.node_id) for i in issues] == [
        (ErrorCode.EXPRESSION_INVALID, "a"),
        (ErrorCode.EXPRESSION_INVALID, "b"),
        (ErrorCode.EXPRESSION_INVALID, "c"),
    ]
    assert "field 'template'" in issues[0].message
    assert "position" in issues[0].message
    assert "field 'fields.reply'" in issues[2].message


def test_edges(registry: NodeRegistry) -> None:
    doc = make_doc(
        [TRIGGER, ("a", "data.template", tpl()), ("b", "data.template", tpl())],
        [
            ("t", "out", "a", "in"),
            ("a", "out", "ghost", "in"),
            ("t", "nope", "b", "in"),
            ("a", "out", "b", "wrong"),
            ("t", "out", "a", "in"),
            ("a", "out", "t", "in"),
        ],
    )
    doc["edges"].append(dict(doc["edges"][0]))  # same id twice
    issues = validate_workflow(doc, registry)
    got = [(i.code, i.edge_id) for i in issues]
    assert (ErrorCode.EDGE_DANGLING, "e2") in got
    assert (ErrorCode.PORT_UNKNOWN, "e3") in got
    assert (ErrorCode.PORT_UNKNOWN, "e4") in got
    assert (ErrorCode.EDGE_DUPLICATE, "e5") in got
    assert (ErrorCode.PORT_UNKNOWN, "e6") in got  # into a trigger
    assert (ErrorCode.EDGE_DUPLICATE, "e1") in got
    assert (ErrorCode.NODE_UNREACHABLE, None) in got  # b: all its edges were bad


def test_cycle(registry: NodeRegistry) -> None:
    doc = make_doc(
        [
            TRIGGER,
            ("a", "data.template", tpl()),
            ("b", "data.template", tpl()),
            ("c", "data.template", tpl()),
        ],
        [("t", "out", "a", "in"), ("a", "out", "b", "in"), ("b", "out", "c", "in"), ("c", "out", "a", "in")],
    )
    issues = validate_workflow(doc, registry)
    assert [i.code for i in issues] == [ErrorCode.GRAPH_CYCLE]
    assert "a, b, c" in issues[0].message


def test_self_loop(registry: NodeRegistry) -> None:
    doc = make_doc(
        [TRIGGER, ("a", "data.template", tpl())], [("t", "out", "a", "in"), ("a", "out", "a", "in")]
    )
    assert codes(doc, registry) == [ErrorCode.GRAPH_CYCLE]


def test_triggers_and_reachability(registry: NodeRegistry) -> None:
    assert codes(make_doc([("a", "data.template", tpl())], []), registry) == [ErrorCode.TRIGGER_MISSING]
    doc = make_doc(
        [TRIGGER, ("t2", "trigger.manual", {}), ("a", "data.template", tpl())], [("t", "out", "a", "in")]
    )
    issues = validate_workflow(doc, registry)
    assert [(i.code, i.node_id) for i in issues] == [(ErrorCode.TRIGGER_MULTIPLE, "t2")]
    doc = make_doc(
        [TRIGGER, ("a", "data.template", tpl()), ("lonely", "data.template", tpl())],
        [("t", "out", "a", "in")],
    )
    assert [(i.code, i.node_id) for i in validate_workflow(doc, registry)] == [
        (ErrorCode.NODE_UNREACHABLE, "lonely")
    ]


def test_validate_or_raise(registry: NodeRegistry) -> None:
    with pytest.raises(WorkflowInvalid) as info:
        validate_or_raise(make_doc([("a", "data.template", tpl())], []), registry)
    assert info.value.details == [
        {
            "code": "TRIGGER_MISSING",
            "message": info.value.details[0]["message"],
            "node_id": None,
            "edge_id": None,
        }  # type: ignore[index]
    ]


def test_500_nodes_validate(registry: NodeRegistry) -> None:
    """Correctness at the size limit; the speed figure lives in `make bench`, not in a timed test."""
    nodes = [TRIGGER] + [
        (f"n{i}", "data.template", tpl(f"{{{{ steps.n{max(i - 1, 0)}.text }}}} {i}")) for i in range(499)
    ]
    edges = [("t", "out", "n0", "in")] + [(f"n{i - 1}", "out", f"n{i}", "in") for i in range(1, 499)]
    edges += [("t", "out", f"n{i}", "in") for i in range(2, 499, 2)]
    doc = make_doc(nodes, edges)
    assert validate_workflow(doc, registry) == []
