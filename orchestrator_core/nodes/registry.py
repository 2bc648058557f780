"""The node-type registry: an explicit, validated list of `NodeType` specs."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from orchestrator_core.nodes.base import NodeType
from orchestrator_core.nodes.builtin.data_template import DATA_TEMPLATE
from orchestrator_core.nodes.builtin.data_transform import DATA_TRANSFORM
from orchestrator_core.nodes.builtin.email_send import EMAIL_SEND
from orchestrator_core.nodes.builtin.flow_delay import FLOW_DELAY
from orchestrator_core.nodes.builtin.flow_subworkflow import FLOW_SUBWORKFLOW
from orchestrator_core.nodes.builtin.http_request import HTTP_REQUEST
from orchestrator_core.nodes.builtin.human_approval import HUMAN_APPROVAL
from orchestrator_core.nodes.builtin.llm_agent import LLM_AGENT
from orchestrator_core.nodes.builtin.llm_classify import LLM_CLASSIFY
from orchestrator_core.nodes.builtin.llm_prompt import LLM_PROMPT
from orchestrator_core.nodes.builtin.logic_if import LOGIC_IF
from orchestrator_core.nodes.builtin.logic_loop import LOGIC_LOOP
from orchestrator_core.nodes.builtin.logic_merge import LOGIC_MERGE
from orchestrator_core.nodes.builtin.logic_switch import LOGIC_SWITCH
from orchestrator_core.nodes.builtin.trigger_manual import TRIGGER_MANUAL
from orchestrator_core.nodes.builtin.trigger_schedule import TRIGGER_SCHEDULE
from orchestrator_core.nodes.builtin.trigger_webhook import TRIGGER_WEBHOOK


class NodeRegistry:
    """Node types by ``(key, version)``.

    Args:
        types: the node types; a duplicate ``(key, version)`` raises ValueError.
    """

    def __init__(self, types: Iterable[NodeType]) -> None:
        self._types: dict[tuple[str, int], NodeType] = {}
        self._latest: dict[str, NodeType] = {}
        for node_type in types:
            ident = (node_type.key, node_type.version)
            if ident in self._types:
                raise ValueError(f"Node type {node_type.key} v{node_type.version} is registered twice.")
            self._types[ident] = node_type
            latest = self._latest.get(node_type.key)
            if latest is None or node_type.version > latest.version:
                self._latest[node_type.key] = node_type

    def get(self, key: str, version: int | None = None) -> NodeType:
        """The node type, the latest version when ``version`` is None.

        Raises:
            KeyError: unknown key or version.
        """
        if version is None:
            return self._latest[key]
        return self._types[(key, version)]

    def __contains__(self, key: object) -> bool:
        return key in self._latest

    def types(self) -> tuple[NodeType, ...]:
        return tuple(self._types.values())

    def describe(self) -> list[dict[str, Any]]:
        """Every node type's description (what ``GET /api/node-types/`` serves), by category and title."""
        ordered = sorted(self._types.values(), key=lambda t: (t.category, t.title, t.key, t.version))
        return [t.describe() for t in ordered]


def default_registry() -> NodeRegistry:
    """The built-in node types."""
    return NodeRegistry(
        [
            TRIGGER_MANUAL,
            TRIGGER_WEBHOOK,
            TRIGGER_SCHEDULE,
            LLM_PROMPT,
            LLM_CLASSIFY,
            DATA_TEMPLATE,
            DATA_TRANSFORM,
            LOGIC_IF,
            LOGIC_SWITCH,
            LOGIC_MERGE,
            FLOW_DELAY,
            FLOW_SUBWORKFLOW,
            LOGIC_LOOP,
            HUMAN_APPROVAL,
            EMAIL_SEND,
            HTTP_REQUEST,
            LLM_AGENT,
        ]
    )
