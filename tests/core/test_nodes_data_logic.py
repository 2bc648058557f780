from __future__ import annotations

import pytest
from node_harness import run_node

from orchestrator_core import ExpressionError
from orchestrator_core.nodes.builtin.data_template import DATA_TEMPLATE
from orchestrator_core.nodes.builtin.logic_if import LOGIC_IF, truthy


def test_template() -> None:
    result, ctx = run_node(
        DATA_TEMPLATE,
        {"template": "{{ trigger.a }}-{{ steps.x.b }}"},
        trigger={"a": 1},
        steps={"x": {"b": "z"}},
    )
    assert result.output == {"text": "1-z"}
    assert ctx.inputs == {"template": "1-z"}


def test_template_error_names_the_field() -> None:
    with pytest.raises(ExpressionError, match="Node 'n', field 'template'"):
        run_node(DATA_TEMPLATE, {"template": "{{ a[ }}"})


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        ("trigger.n > `1`", True),
        ("trigger.n < `1`", False),
        ("trigger.zero", True),  # 0 is true in JMESPath
        ("trigger.empty", False),
        ("trigger.list", False),
        ("trigger.missing", False),
        ("trigger.text", True),
    ],
)
def test_if(condition: str, expected: bool) -> None:
    trigger = {"n": 2, "zero": 0, "empty": "", "list": [], "text": "x"}
    result, _ = run_node(LOGIC_IF, {"condition": condition}, trigger=trigger)
    assert result.output == {"result": expected}
    assert result.ports == (("true",) if expected else ("false",))


def test_truthy() -> None:
    assert [truthy(v) for v in (False, None, "", [], {}, 0, 0.0, "a", [0], {"a": 1}, True)] == [
        False,
        False,
        False,
        False,
        False,
        True,
        True,
        True,
        True,
        True,
        True,
    ]
