"""The governance policy a run executes under: budgets, allowed models and connectors, review rules.

The backend merges the global policy with the workflow's own (``backend/policies``) into one
`RunPolicy` and hands it to the runner through `RunnerServices.policy`; nodes read it from
their context (``ctx.policy``). The core never reads a database: it only enforces what it is
given. The default (`RunPolicy()`) allows everything and limits nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


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
