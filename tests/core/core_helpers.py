"""Helpers shared by the core tests (a plain module: `conftest` is taken by tests/conftest.py)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "fixtures" / "workflows"


def load_fixture(name: str) -> dict[str, Any]:
    return json.loads((FIXTURES / name).read_text())


def make_doc(
    nodes: list[tuple[str, str, dict[str, Any]]], edges: list[tuple[str, str, str, str]]
) -> dict[str, Any]:
    """A document from (id, type, config) nodes and (source, source_port, target, target_port) edges."""
    return {
        "schema_version": 1,
        "nodes": [{"id": i, "type": t, "type_version": 1, "config": c} for i, t, c in nodes],
        "edges": [
            {"id": f"e{n}", "source": s, "source_port": sp, "target": t, "target_port": tp}
            for n, (s, sp, t, tp) in enumerate(edges, 1)
        ],
    }


MakeDoc = Callable[..., dict[str, Any]]
