"""The governance policy a run executes under: budgets, allowed models and connectors, review rules.

The backend merges the global policy with the workflow's own (``backend/policies``) into one
`RunPolicy` and hands it to the runner through `RunnerServices.policy`; nodes read it from
their context (``ctx.policy``). The core never reads a database: it only enforces what it is
given. The default (`RunPolicy()`) allows everything and limits nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from orchestrator_core.llm.redact import redact


class OnBudget(StrEnum):
    """What happens when an LLM call would exceed a budget."""

    STOP = "stop"
    """The step fails with ``BUDGET_EXCEEDED``."""
    DOWNGRADE = "downgrade"
    """The call goes to a cheaper model (a lower tier) that fits, or stops when none does."""
    APPROVE = "approve"
    """The run waits for a person to approve spending more (a human approval)."""


@dataclass(frozen=True)
class Budget:
    """A cap in dollars and/or tokens; None means no cap on that measure."""

    max_usd: float | None = None
    max_tokens: int | None = None

    @property
    def is_set(self) -> bool:
        return self.max_usd is not None or self.max_tokens is not None


@dataclass(frozen=True)
class BudgetLimits:
    per_run: Budget = field(default_factory=Budget)
    per_workflow_day: Budget = field(default_factory=Budget)
    """Spending of every run of the workflow during the current UTC day."""
    per_user_month: Budget = field(default_factory=Budget)
    """Spending of every run started by the run's user during the current UTC month."""


@dataclass(frozen=True)
class RunPolicy:
    """The effective policy of one run (global merged with the workflow's)."""

    budgets: BudgetLimits = field(default_factory=BudgetLimits)
    on_budget: OnBudget = OnBudget.STOP
    allowed_models: frozenset[str] | None = None
    """Model names LLM nodes may call (``auto`` picks among them); None allows every model."""
    allowed_connectors: frozenset[str] | None = None
    """Connector names nodes may use; None allows every connector."""
    four_eyes: bool = False
    """The run's starter may never decide its approvals (on top of each node's own setting)."""
    external_send_requires_approval: bool = False
    """Every node that acts outside (e-mail, non-GET HTTP) must come after a human approval."""
    redact_pii: bool = False
    """Remove e-mail addresses, phone and card numbers from prompts sent to external providers
    and from stored step data."""


def redact_data(value: Any) -> Any:
    """``value`` (JSON) with e-mail addresses, phone and card numbers replaced in every string
    (keys are kept): what the runner stores for a step when the policy's ``redact_pii`` is on."""
    if isinstance(value, str):
        return redact(value)[0]
    if isinstance(value, Mapping):
        return {key: redact_data(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [redact_data(item) for item in value]
    return value


APPROVAL_NODE_TYPE = "human.approval"


def _is_external_send(node: Mapping[str, Any], side_effect_types: frozenset[str]) -> bool:
    if node.get("type") not in side_effect_types:
        return False
    config = node.get("config")
    method = str(config.get("method", "GET")).upper() if isinstance(config, Mapping) else "GET"
    return not (node.get("type") == "http.request" and method in ("GET", "HEAD"))


def sends_without_approval(document: Mapping[str, Any], side_effect_types: frozenset[str]) -> list[str]:
    """Ids of the nodes that act outside (a ``side_effect`` node type; an ``http.request`` only
    when it is not a GET/HEAD) and that a trigger reaches without passing a ``human.approval``:
    what the policy's ``external_send_requires_approval`` forbids. Sorted; [] when none."""
    nodes = {
        str(n.get("id")): n for n in document.get("nodes") or () if isinstance(n, Mapping) and n.get("id")
    }
    successors: dict[str, list[str]] = {}
    for edge in document.get("edges") or ():
        if isinstance(edge, Mapping):
            successors.setdefault(str(edge.get("source")), []).append(str(edge.get("target")))
    frontier = [i for i, n in nodes.items() if str(n.get("type", "")).startswith("trigger.")]
    seen = set(frontier)
    found: set[str] = set()
    while frontier:
        node_id = frontier.pop()
        node = nodes.get(node_id)
        if node is None or node.get("type") == APPROVAL_NODE_TYPE:
            continue  # what follows an approval was seen by a person
        if _is_external_send(node, side_effect_types):
            found.add(node_id)
        for target in successors.get(node_id, ()):
            if target not in seen:
                seen.add(target)
                frontier.append(target)
    return sorted(found)
