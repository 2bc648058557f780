"""Render the node-type reference (``docs/nodes.md``) from the registry, so it cannot drift.

Regenerate with ``python -m orchestrator_core.nodes.docs > docs/nodes.md``; a test fails
when the file and the registry disagree.
"""

from __future__ import annotations

import json
from typing import Any

from orchestrator_core.nodes.base import NodeType
from orchestrator_core.nodes.registry import NodeRegistry, default_registry

HEADER = """# Node types

Every node type Baton ships, generated from the registry
(`python -m orchestrator_core.nodes.docs > docs/nodes.md`). Templates are text with
`{{ expression }}` placeholders; expressions are [JMESPath](https://jmespath.org) over the
run's context:

| name | what |
|---|---|
| `trigger` | the run's input (the trigger form, a webhook body) |
| `steps.<node_id>` | the output of an earlier step, e.g. `steps.draft.text` |
| `run.id` | the run's id |
| `vars` | workflow variables (empty for now) |

Expressions are never Python; their length, nesting and result size are limited, and
errors name the node, the field and the position (`EXPRESSION_INVALID`, `EXPRESSION_LIMIT`).
"""


def _type_name(prop: dict[str, Any] | bool) -> str:
    if not isinstance(prop, dict):  # ``additionalProperties: true``
        return "any"
    if "anyOf" in prop:
        return " or ".join(_type_name(p) for p in prop["anyOf"])
    if "$ref" in prop:
        return str(prop["$ref"]).rsplit("/", 1)[-1]
    kind = prop.get("type", "any")
    if kind == "array":
        return f"list of {_type_name(prop.get('items', {}))}"
    if kind == "object" and "additionalProperties" in prop:
        return f"map of {_type_name(prop['additionalProperties'])}"
    return str(kind)


def _config_rows(schema: dict[str, Any]) -> list[str]:
    required = set(schema.get("required", []))
    rows = []
    for name, prop in schema.get("properties", {}).items():
        default = "required" if name in required else f"`{json.dumps(prop.get('default'))}`"
        description = " ".join(str(prop.get("description", "")).split())
        rows.append(f"| `{name}` | {_type_name(prop)} | {default} | {description} |")
    return rows


def render_node(node_type: NodeType) -> str:
    schema = node_type.config_model.model_json_schema()
    lines = [f"## `{node_type.key}` — {node_type.title}", ""]
    if node_type.description:
        lines += [node_type.description, ""]
    facts = [f"category {node_type.category}", f"version {node_type.version}"]
    if node_type.is_trigger:
        facts.append("trigger")
    if node_type.side_effect:
        facts.append("acts on the world (sent once per run, through the effect ledger)")
    sentence = ", ".join(facts)
    lines += [sentence[:1].upper() + sentence[1:] + ".", ""]
    inputs = ", ".join(f"`{p.name}`" for p in node_type.inputs) or "none"
    outputs = ", ".join(f"`{p.name}`" for p in node_type.outputs) or "none"
    lines += [f"Ports: in {inputs}; out {outputs}.", ""]
    rows = _config_rows(schema)
    if rows:
        lines += ["| config | type | default | description |", "|---|---|---|---|", *rows, ""]
    example = {
        name: prop.get("default") for name, prop in schema.get("properties", {}).items() if "default" in prop
    }
    lines += ["Config example (defaults):", "", "```json", json.dumps(example, indent=2), "```", ""]
    return "\n".join(lines)


def render_markdown(registry: NodeRegistry | None = None) -> str:
    registry = registry or default_registry()
    types = sorted(registry.types(), key=lambda t: (t.category, t.key))
    return HEADER + "\n" + "\n".join(render_node(t) for t in types)


if __name__ == "__main__":
    print(render_markdown(), end="")
