"""The workflow document as typed, immutable Python objects.

A workflow document is JSON (see DESIGN.md section 4)::

    {"schema_version": 1,
     "nodes": [{"id": "n1", "type": "llm.prompt", "type_version": 1, "config": {...},
                "position": {"x": 0, "y": 0}, "label": "Draft reply",
                "settings": {"retry": {"max_attempts": 3}, "timeout_seconds": 60}}],
     "edges": [{"id": "e1", "source": "n1", "source_port": "text",
                "target": "n2", "target_port": "in"}]}

`parse_workflow` checks only the *shape* of the document (types, required keys, limits).
Graph rules (known node types, config, cycles, ports...) live in `validation.py`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from orchestrator_core.errors import ErrorCode, WorkflowInvalid

SCHEMA_VERSION = 1
MAX_NODES = 500
MAX_EDGES = 2000
NODE_ID_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")
"""Node ids are used in expressions (`steps.<id>.text`), so they must be JMESPath identifiers."""


@dataclass(frozen=True)
class Position:
    x: float = 0.0
    y: float = 0.0


@dataclass(frozen=True)
class Node:
    id: str
    """Unique within the workflow; an identifier usable in expressions."""
    type: str
    """Registry key of the node type, e.g. ``llm.prompt``."""
    type_version: int = 1
    config: Mapping[str, Any] = field(default_factory=dict)
    """Raw config as stored; the node type's pydantic model validates it."""
    position: Position = field(default_factory=Position)
    label: str = ""
    settings: Mapping[str, Any] = field(default_factory=dict)
    """Reliability settings (retry, timeout_seconds, on_error) as stored; validated by
    ``nodes.settings.NodeSettings``. Empty means the defaults (no retry, no timeout, fail)."""


@dataclass(frozen=True)
class Edge:
    id: str
    source: str
    source_port: str
    target: str
    target_port: str


@dataclass(frozen=True)
class Workflow:
    nodes: tuple[Node, ...]
    edges: tuple[Edge, ...]
    schema_version: int = SCHEMA_VERSION

    def node(self, node_id: str) -> Node:
        for node in self.nodes:
            if node.id == node_id:
                return node
        raise KeyError(node_id)

    @property
    def node_ids(self) -> tuple[str, ...]:
        return tuple(n.id for n in self.nodes)

    def incoming(self, node_id: str) -> tuple[Edge, ...]:
        return tuple(e for e in self.edges if e.target == node_id)

    def outgoing(self, node_id: str) -> tuple[Edge, ...]:
        return tuple(e for e in self.edges if e.source == node_id)

    def to_document(self) -> dict[str, Any]:
        """Serialize back to the stored JSON form (round-trips with `parse_workflow`)."""
        return {
            "schema_version": self.schema_version,
            "nodes": [
                {
                    "id": n.id,
                    "type": n.type,
                    "type_version": n.type_version,
                    "config": dict(n.config),
                    "position": {"x": n.position.x, "y": n.position.y},
                    "label": n.label,
                    **({"settings": dict(n.settings)} if n.settings else {}),
                }
                for n in self.nodes
            ],
            "edges": [
                {
                    "id": e.id,
                    "source": e.source,
                    "source_port": e.source_port,
                    "target": e.target,
                    "target_port": e.target_port,
                }
                for e in self.edges
            ],
        }


def _problem(message: str, **where: Any) -> dict[str, Any]:
    return {"code": str(ErrorCode.WORKFLOW_INVALID), "message": message, **where}


def _str(obj: Mapping[str, Any], key: str, problems: list[dict[str, Any]], where: str, **ids: Any) -> str:
    value = obj.get(key)
    if not isinstance(value, str) or not value:
        problems.append(_problem(f"{where}: '{key}' must be a non-empty string", **ids))
        return ""
    return value


def parse_workflow(doc: Any) -> Workflow:
    """Parse a workflow document into a `Workflow`.

    Args:
        doc: the decoded JSON document.

    Returns:
        The immutable workflow.

    Raises:
        WorkflowInvalid: the document has the wrong shape; ``details`` lists every problem as
            ``{code, message, node_id?, edge_id?}``.
    """
    if not isinstance(doc, Mapping):
        raise WorkflowInvalid("The workflow document must be a JSON object.")
    problems: list[dict[str, Any]] = []
    version = doc.get("schema_version", SCHEMA_VERSION)
    if version != SCHEMA_VERSION:
        problems.append(_problem(f"Unsupported schema_version {version!r}; expected {SCHEMA_VERSION}."))
    raw_nodes = doc.get("nodes", [])
    raw_edges = doc.get("edges", [])
    if not isinstance(raw_nodes, list) or not isinstance(raw_edges, list):
        raise WorkflowInvalid("'nodes' and 'edges' must be lists.", details=problems or None)
    if len(raw_nodes) > MAX_NODES or len(raw_edges) > MAX_EDGES:
        raise WorkflowInvalid(
            f"Too many nodes or edges (max {MAX_NODES} nodes, {MAX_EDGES} edges).",
            code=ErrorCode.WORKFLOW_TOO_LARGE,
        )
    nodes: list[Node] = []
    for i, raw in enumerate(raw_nodes):
        if not isinstance(raw, Mapping):
            problems.append(_problem(f"nodes[{i}] must be an object"))
            continue
        node_id = _str(raw, "id", problems, f"nodes[{i}]")
        if node_id and not NODE_ID_RE.match(node_id):
            problems.append(
                _problem(
                    f"nodes[{i}]: id {node_id!r} must start with a letter or _ and contain only "
                    "letters, digits and _ (max 64)",
                    node_id=node_id,
                )
            )
        type_key = _str(raw, "type", problems, f"nodes[{i}]", node_id=node_id)
        type_version = raw.get("type_version", 1)
        if not isinstance(type_version, int) or isinstance(type_version, bool) or type_version < 1:
            problems.append(
                _problem(f"nodes[{i}]: 'type_version' must be a positive integer", node_id=node_id)
            )
            type_version = 1
        config = raw.get("config", {})
        if not isinstance(config, Mapping):
            problems.append(_problem(f"nodes[{i}]: 'config' must be an object", node_id=node_id))
            config = {}
        pos = raw.get("position", {}) or {}
        try:
            position = Position(float(pos.get("x", 0)), float(pos.get("y", 0)))
        except (TypeError, ValueError, AttributeError):
            problems.append(_problem(f"nodes[{i}]: 'position' must be {{x, y}} numbers", node_id=node_id))
            position = Position()
        label = raw.get("label", "") or ""
        if not isinstance(label, str):
            problems.append(_problem(f"nodes[{i}]: 'label' must be a string", node_id=node_id))
            label = ""
        settings = raw.get("settings", {})
        if settings is None:
            settings = {}
        if not isinstance(settings, Mapping):
            problems.append(_problem(f"nodes[{i}]: 'settings' must be an object", node_id=node_id))
            settings = {}
        nodes.append(
            Node(node_id, type_key, type_version, dict(config), position, label[:200], dict(settings))
        )
    edges: list[Edge] = []
    for i, raw in enumerate(raw_edges):
        if not isinstance(raw, Mapping):
            problems.append(_problem(f"edges[{i}] must be an object"))
            continue
        edge_id = _str(raw, "id", problems, f"edges[{i}]")
        edges.append(
            Edge(
                edge_id,
                _str(raw, "source", problems, f"edges[{i}]", edge_id=edge_id),
                _str(raw, "source_port", problems, f"edges[{i}]", edge_id=edge_id),
                _str(raw, "target", problems, f"edges[{i}]", edge_id=edge_id),
                _str(raw, "target_port", problems, f"edges[{i}]", edge_id=edge_id),
            )
        )
    if problems:
        raise WorkflowInvalid("The workflow document is malformed.", details=problems)
    return Workflow(tuple(nodes), tuple(edges), SCHEMA_VERSION)
