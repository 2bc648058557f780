from __future__ import annotations

import pytest

from orchestrator_core.errors import ErrorCode, ExpressionError
from orchestrator_core.expressions import (
    MAX_EXPRESSION_CHARS,
    check_expression,
    check_template,
    evaluate,
    render,
)

CTX = {
    "trigger": {"from": "a@example.com", "subject": "Hi", "n": 3, "tags": ["x", "y"]},
    "steps": {"draft": {"text": "Hello"}, "classify": {"label": "refund"}},
    "run": {"id": "r1"},
    "vars": {},
}


def test_evaluate_paths_and_comparisons() -> None:
    assert evaluate("trigger.subject", CTX) == "Hi"
    assert evaluate("steps.classify.label == 'refund'", CTX) is True
    assert evaluate("trigger.n > `2`", CTX) is True
    assert evaluate("length(trigger.tags)", CTX) == 2
    assert evaluate("steps.missing.text", CTX) is None
    assert evaluate("run.id", CTX) == "r1"


def test_render_values() -> None:
    assert render("To {{ trigger.from }}: {{steps.draft.text}}", CTX) == "To a@example.com: Hello"
    assert render("{{ steps.nope }}|{{ trigger.n }}|{{ trigger.tags }}", CTX) == '|3|["x","y"]'
    assert render("no placeholders", CTX) == "no placeholders"


def test_invalid_expression_names_node_field_and_position() -> None:
    with pytest.raises(ExpressionError) as info:
        evaluate("trigger.[", CTX, node_id="draft", field="prompt")
    assert info.value.code == ErrorCode.EXPRESSION_INVALID
    assert info.value.message.startswith("Node 'draft', field 'prompt': invalid expression at position ")


def test_render_position_counts_from_template_start() -> None:
    with pytest.raises(ExpressionError) as info:
        render("Hello {{ a ||| b }}", CTX, node_id="n", field="f")
    assert "position 13" in info.value.message


@pytest.mark.parametrize(
    "template",
    [
        "{{ __import__('os') }}",
        "{{ __import__('os').system('id') }}",
        "{{ ().__class__ }}",
        "{{ open('/etc/passwd') }}",
        "{{ eval('1') }}",
    ],
)
def test_injection_attempts_are_invalid(template: str) -> None:
    with pytest.raises(ExpressionError) as info:
        render(template, CTX)
    assert info.value.code == ErrorCode.EXPRESSION_INVALID
    assert check_template(template)


def test_limits() -> None:
    with pytest.raises(ExpressionError) as info:
        evaluate("a" * (MAX_EXPRESSION_CHARS + 1), CTX)
    assert info.value.code == ErrorCode.EXPRESSION_LIMIT
    with pytest.raises(ExpressionError) as info:
        evaluate("[" * 40 + "a" + "]" * 40, CTX)
    assert info.value.code == ErrorCode.EXPRESSION_LIMIT
    with pytest.raises(ExpressionError) as info:
        render("x" * 20_001, CTX)
    assert info.value.code == ErrorCode.EXPRESSION_LIMIT
    big = {"trigger": {"s": "x" * 200_000}}
    with pytest.raises(ExpressionError) as info:
        evaluate("[trigger.s, trigger.s]", big)
    assert info.value.code == ErrorCode.EXPRESSION_LIMIT
    with pytest.raises(ExpressionError) as info:
        render("{{ trigger.s }}{{ trigger.s }}", big)
    assert info.value.code == ErrorCode.EXPRESSION_LIMIT


def test_runtime_type_error_is_invalid() -> None:
    with pytest.raises(ExpressionError) as info:
        evaluate("length(trigger.n)", CTX)
    assert info.value.code == ErrorCode.EXPRESSION_INVALID


def test_unclosed_placeholder() -> None:
    assert check_template("Hi {{ trigger.x") == [(3, "'{{' is never closed with '}}'")]
    with pytest.raises(ExpressionError):
        render("Hi {{ trigger.x", CTX)


def test_check_helpers() -> None:
    assert check_expression("steps.a.b == 'x'") is None
    problem = check_expression("a ||| b")
    assert problem is not None
    assert problem.startswith("position 4")
    assert check_expression("") is not None
    assert check_template("{{ a }} and {{ b.c }}") == []
    [(pos, _msg)] = check_template("ok {{ a }} bad {{ a[ }}")
    assert pos >= 17
