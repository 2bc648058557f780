"""Expressions and templates: JMESPath only, never Python, always bounded.

The context every expression sees::

    {"trigger": <the run's trigger input>,
     "steps": {<node_id>: <that node's output>},   # succeeded steps only
     "run": {"id": <run id>},
     "vars": {},
     "review": {...}}                               # only in a review round (docs/engine.md)

Templates embed expressions as ``{{ steps.draft.text }}``: strings are inserted as-is, null as
the empty string, anything else as compact JSON.

Limits (a workflow author can never hang or crash a worker):

- an expression is at most `MAX_EXPRESSION_CHARS` characters and nests brackets at most
  `MAX_NESTING` deep;
- a template is at most `MAX_TEMPLATE_CHARS` characters, its output at most `MAX_RESULT_BYTES`;
- a result serializes to at most `MAX_RESULT_BYTES` of JSON.

JMESPath is not Turing-complete: evaluation time is bounded by the size of the data, which
the result-size guard keeps small. Every failure raises `ExpressionError` with code
``EXPRESSION_INVALID`` or ``EXPRESSION_LIMIT`` and a message naming node, field and position.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterator, Mapping
from typing import Any

import jmespath
from jmespath import exceptions as jp_exceptions
from jmespath.functions import Functions
from jmespath.parser import ParsedResult

from orchestrator_core.errors import ErrorCode, ExpressionError

MAX_EXPRESSION_CHARS = 1000
MAX_NESTING = 32
MAX_TEMPLATE_CHARS = 20_000
MAX_RESULT_BYTES = 256 * 1024

_PLACEHOLDER_RE = re.compile(r"\{\{(.*?)\}\}", re.DOTALL)
_KNOWN_FUNCTIONS = frozenset(Functions().FUNCTION_TABLE)


def _where(node_id: str, field: str) -> str:
    parts = []
    if node_id:
        parts.append(f"Node '{node_id}'")
    if field:
        parts.append(f"field '{field}'")
    return ", ".join(parts) + ": " if parts else ""


def _nesting_depth(expression: str) -> int:
    """Deepest bracket nesting, ignoring brackets inside quoted strings and literals."""
    depth = deepest = 0
    quote = ""
    escaped = False
    for ch in expression:
        if quote:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == quote:
                quote = ""
            continue
        if ch in "'\"`":
            quote = ch
        elif ch in "([{":
            depth += 1
            deepest = max(deepest, depth)
        elif ch in ")]}":
            depth -= 1
    return deepest


def _clean_message(exc: Exception) -> str:
    lines = str(exc).splitlines()
    text = lines[0] if lines else type(exc).__name__
    for suffix in (", for expression:", " for expression:", ":"):
        if text.endswith(suffix):
            text = text[: -len(suffix)]
    return text.strip() or "invalid expression"


def _walk(tree: Any) -> Iterator[Mapping[str, Any]]:
    stack = [tree]
    while stack:
        item = stack.pop()
        if isinstance(item, Mapping):
            yield item
            stack.extend(item.get("children", ()) or ())
        elif isinstance(item, list):
            stack.extend(item)


@functools.lru_cache(maxsize=4096)
def _compile(expression: str) -> ParsedResult:
    """Parse once; raises jmespath errors, `_LimitError` or `_UnknownFunction` (not cached)."""
    if len(expression) > MAX_EXPRESSION_CHARS:
        raise _LimitError(f"expression is longer than {MAX_EXPRESSION_CHARS} characters", 0)
    if _nesting_depth(expression) > MAX_NESTING:
        raise _LimitError(f"expression nests deeper than {MAX_NESTING} levels", 0)
    parsed = jmespath.compile(expression)
    for node in _walk(parsed.parsed):
        if node.get("type") == "function_expression" and node.get("value") not in _KNOWN_FUNCTIONS:
            raise _UnknownFunction(f"unknown function {node.get('value')}()", 0)
    return parsed


class _LimitError(Exception):
    def __init__(self, message: str, position: int) -> None:
        super().__init__(message)
        self.position = position


class _UnknownFunction(_LimitError):
    pass


def _problem(expression: str) -> tuple[ErrorCode, int, str] | None:
    """Parse-only check: (code, position, message) or None when the expression is fine."""
    if not expression.strip():
        return ErrorCode.EXPRESSION_INVALID, 0, "empty expression"
    try:
        _compile(expression)
    except _UnknownFunction as e:
        return ErrorCode.EXPRESSION_INVALID, e.position, str(e)
    except _LimitError as e:
        return ErrorCode.EXPRESSION_LIMIT, e.position, str(e)
    except jp_exceptions.ParseError as e:
        return ErrorCode.EXPRESSION_INVALID, int(getattr(e, "lex_position", 0) or 0), _clean_message(e)
    except (jp_exceptions.JMESPathError, RecursionError, ValueError, TypeError) as e:
        return ErrorCode.EXPRESSION_INVALID, 0, _clean_message(e)
    return None


def _raise(code: ErrorCode, position: int, message: str, node_id: str, field: str) -> ExpressionError:
    kind = "expression too large" if code == ErrorCode.EXPRESSION_LIMIT else "invalid expression"
    return ExpressionError(
        f"{_where(node_id, field)}{kind} at position {position}: {message}",
        code=code,
        details={"node_id": node_id or None, "field": field or None, "position": position},
    )


def _check_size(value: Any, node_id: str, field: str) -> None:
    try:
        size = len(json.dumps(value, ensure_ascii=False, allow_nan=False).encode())
    except (TypeError, ValueError) as e:
        raise _raise(ErrorCode.EXPRESSION_INVALID, 0, f"result is not JSON: {e}", node_id, field) from None
    if size > MAX_RESULT_BYTES:
        raise _raise(
            ErrorCode.EXPRESSION_LIMIT, 0, f"result is larger than {MAX_RESULT_BYTES} bytes", node_id, field
        )


def _evaluate_at(expression: str, context: Mapping[str, Any], node_id: str, field: str, offset: int) -> Any:
    problem = _problem(expression)
    if problem is not None:
        code, position, message = problem
        raise _raise(code, position + offset, message, node_id, field)
    try:
        value = _compile(expression).search(context)
    except (jp_exceptions.JMESPathError, RecursionError, ValueError, TypeError, KeyError) as e:
        raise _raise(ErrorCode.EXPRESSION_INVALID, offset, _clean_message(e), node_id, field) from None
    _check_size(value, node_id, field)
    return value


def evaluate(expression: str, context: Mapping[str, Any], *, node_id: str = "", field: str = "") -> Any:
    """Evaluate one JMESPath expression against the context.

    Args:
        expression: plain JMESPath (no ``{{ }}``), e.g. ``steps.classify.label == 'refund'``.
        context: the expression context (see the module docstring).
        node_id: named in error messages.
        field: the config field, named in error messages.

    Returns:
        The JSON value (None when a path does not exist).

    Raises:
        ExpressionError: EXPRESSION_INVALID (syntax, unknown function, type error) or
            EXPRESSION_LIMIT (too long, too deep, result too large).
    """
    return _evaluate_at(expression.strip(), context, node_id, field, 0)


def _to_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def render(template: str, context: Mapping[str, Any], *, node_id: str = "", field: str = "") -> str:
    """Replace each ``{{ expr }}`` in the template with the expression's value.

    Raises:
        ExpressionError: as `evaluate`, plus EXPRESSION_LIMIT when the template or its output
            is too large. Positions count from the start of the template.
    """
    if len(template) > MAX_TEMPLATE_CHARS:
        raise _raise(
            ErrorCode.EXPRESSION_LIMIT,
            0,
            f"template is longer than {MAX_TEMPLATE_CHARS} characters",
            node_id,
            field,
        )
    if "{{" not in template:
        return template
    out: list[str] = []
    size = 0
    last = 0
    for match in _PLACEHOLDER_RE.finditer(template):
        out.append(template[last : match.start()])
        expr = match.group(1)
        lead = len(expr) - len(expr.lstrip())
        text = _to_text(_evaluate_at(expr.strip(), context, node_id, field, match.start(1) + lead))
        out.append(text)
        size += len(text.encode()) + match.start() - last
        if size > MAX_RESULT_BYTES:
            raise _raise(
                ErrorCode.EXPRESSION_LIMIT,
                match.start(),
                f"output is larger than {MAX_RESULT_BYTES} bytes",
                node_id,
                field,
            )
        last = match.end()
    rest = template[last:]
    if "{{" in rest:
        pos = last + rest.index("{{")
        raise _raise(ErrorCode.EXPRESSION_INVALID, pos, "'{{' is never closed with '}}'", node_id, field)
    out.append(rest)
    return "".join(out)


def check_expression(expr: str) -> str | None:
    """Parse-only check of a plain expression: a message (with the position) or None when fine."""
    problem = _problem(expr.strip())
    if problem is None:
        return None
    _code, position, message = problem
    return f"position {position}: {message}"


def check_template(template: str) -> list[tuple[int, str]]:
    """Parse-only check of a template: ``[(position, message), ...]``, empty when fine."""
    if len(template) > MAX_TEMPLATE_CHARS:
        return [(0, f"template is longer than {MAX_TEMPLATE_CHARS} characters")]
    problems: list[tuple[int, str]] = []
    last = 0
    for match in _PLACEHOLDER_RE.finditer(template):
        expr = match.group(1)
        lead = len(expr) - len(expr.lstrip())
        problem = _problem(expr.strip())
        if problem is not None:
            _code, position, message = problem
            problems.append((match.start(1) + lead + position, message))
        last = match.end()
    rest = template[last:]
    if "{{" in rest:
        problems.append((last + rest.index("{{"), "'{{' is never closed with '}}'"))
    return problems


def expression_context(
    *,
    trigger: Any,
    steps: Mapping[str, Any],
    run_id: str,
    variables: Mapping[str, Any] | None = None,
    review: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Build the documented expression context.

    ``review`` (only for a node that runs again in a review round, see docs/engine.md):
    ``{round, feedback, decided_by, previous, history, by}``; absent otherwise.
    """
    context = {"trigger": trigger, "steps": dict(steps), "run": {"id": run_id}, "vars": dict(variables or {})}
    if review is not None:
        context["review"] = dict(review)
    return context
