"""Read the policies and merge them into the one a run executes under.

Merge rule (see ``docs/policies.md``): a workflow's policy may only TIGHTEN the global one.

- budgets: each cap is the lower of the two (a cap set on one side only applies as is);
- on_budget: the stricter of the two, ``stop`` > ``approve`` > ``downgrade`` (unset = global's);
- allowed_models / allowed_connectors: the intersection (None = everything, so None ∩ X = X);
- four_eyes, external_send_requires_approval, redact_pii, publish_review: OR;
- retention_days: the shorter of the two set values; when neither is set, ``BATON_RETENTION_DAYS``
  (0 = keep forever). A set value always wins over "keep forever".
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any, TypeVar

from django.conf import settings

from backend.policies.models import Policy
from orchestrator_core.policy import Budget, BudgetLimits, OnBudget, RunPolicy

_STRICTNESS = {OnBudget.DOWNGRADE: 0, OnBudget.APPROVE: 1, OnBudget.STOP: 2}

_T = TypeVar("_T", int, Decimal)


@dataclass(frozen=True)
class PolicyExtras:
    """The parts of the effective policy that the backend enforces (the core never sees them)."""

    publish_review: bool = False
    """Publishing a version needs another builder's approval (issue 6)."""
    retention_days: int = 0
    """Days to keep the workflow's finished runs; 0 keeps them forever."""


def _min(a: _T | None, b: _T | None) -> _T | None:
    if a is None:
        return b
    if b is None:
        return a
    return min(a, b)


def _intersect(a: list[str] | None, b: list[str] | None) -> frozenset[str] | None:
    if a is None and b is None:
        return None
    if a is None:
        return frozenset(b or ())
    if b is None:
        return frozenset(a)
    return frozenset(a) & frozenset(b)


def _usd(value: Decimal | None) -> float | None:
    return float(value) if value is not None else None


def _budget(g: Policy | None, w: Policy | None, usd: str, tokens: str) -> Budget:
    return Budget(
        max_usd=_usd(_min(getattr(g, usd, None), getattr(w, usd, None))),
        max_tokens=_min(getattr(g, tokens, None), getattr(w, tokens, None)),
    )


def settings_retention_days() -> int:
    return max(0, int(getattr(settings, "BATON_RETENTION_DAYS", 0) or 0))


def merge_policies(
    global_policy: Policy | None, workflow_policy: Policy | None
) -> tuple[RunPolicy, PolicyExtras]:
    """Merge two stored rows (either may be None) by the tighten-only rule of this module."""
    g, w = global_policy, workflow_policy
    on_budget = OnBudget((g.on_budget if g else None) or OnBudget.STOP)
    if w is not None and w.on_budget:
        candidate = OnBudget(w.on_budget)
        if _STRICTNESS[candidate] > _STRICTNESS[on_budget]:
            on_budget = candidate

    def flag(name: str) -> bool:
        return bool(getattr(g, name, False)) or bool(getattr(w, name, False))

    run_policy = RunPolicy(
        budgets=BudgetLimits(
            per_run=_budget(g, w, "run_max_usd", "run_max_tokens"),
            per_workflow_day=_budget(g, w, "workflow_day_max_usd", "workflow_day_max_tokens"),
            per_user_month=_budget(g, w, "user_month_max_usd", "user_month_max_tokens"),
        ),
        on_budget=on_budget,
        allowed_models=_intersect(getattr(g, "allowed_models", None), getattr(w, "allowed_models", None)),
        allowed_connectors=_intersect(
            getattr(g, "allowed_connectors", None), getattr(w, "allowed_connectors", None)
        ),
        four_eyes=flag("four_eyes"),
        external_send_requires_approval=flag("external_send_requires_approval"),
        redact_pii=flag("redact_pii"),
    )
    retention = _min(getattr(g, "retention_days", None), getattr(w, "retention_days", None))
    extras = PolicyExtras(
        publish_review=flag("publish_review"),
        retention_days=retention if retention is not None else settings_retention_days(),
    )
    return run_policy, extras


def policy_rows(workflow: Any) -> tuple[Policy | None, Policy | None]:
    """The global row and the workflow's row (either may be missing), in one query."""
    workflow_id = getattr(workflow, "pk", workflow)
    query = Policy.objects.filter(is_global=True)
    if workflow_id is not None:
        query = Policy.objects.filter(is_global=True) | Policy.objects.filter(workflow_id=workflow_id)
    g: Policy | None = None
    w: Policy | None = None
    for row in query:
        if row.is_global:
            g = row
        else:
            w = row
    return g, w


def effective_policy(workflow: Any) -> tuple[RunPolicy, PolicyExtras]:
    """The policy runs of ``workflow`` execute under: the global policy merged with the workflow's.

    Args:
        workflow: a ``Workflow``, its id, or None (the global policy alone).

    Returns:
        ``(RunPolicy, PolicyExtras)``. ``RunPolicy`` goes to the engine (``RunnerServices.policy``
        → ``ctx.policy``): budgets, ``on_budget``, allowed models/connectors (None = all),
        ``four_eyes``, ``external_send_requires_approval``, ``redact_pii``. ``PolicyExtras`` holds
        what only the backend enforces: ``publish_review`` and ``retention_days`` (0 = forever,
        already resolved against ``BATON_RETENTION_DAYS``).

    One database query. With no policy rows at all the result is ``RunPolicy()`` (allows
    everything, limits nothing) and ``PolicyExtras(retention_days=BATON_RETENTION_DAYS)``.
    The merge only tightens: see this module's docstring.
    """
    return merge_policies(*policy_rows(workflow))


def run_policy_to_dict(run_policy: RunPolicy, extras: PolicyExtras) -> dict[str, Any]:
    """The effective policy as JSON (the shape the API shows as ``effective``)."""

    def budget(b: Budget) -> dict[str, Any]:
        return {"max_usd": b.max_usd, "max_tokens": b.max_tokens}

    def names(values: frozenset[str] | None) -> list[str] | None:
        return sorted(values) if values is not None else None

    return {
        "budgets": {
            "per_run": budget(run_policy.budgets.per_run),
            "per_workflow_day": budget(run_policy.budgets.per_workflow_day),
            "per_user_month": budget(run_policy.budgets.per_user_month),
        },
        "on_budget": str(run_policy.on_budget),
        "allowed_models": names(run_policy.allowed_models),
        "allowed_connectors": names(run_policy.allowed_connectors),
        "four_eyes": run_policy.four_eyes,
        "external_send_requires_approval": run_policy.external_send_requires_approval,
        "redact_pii": run_policy.redact_pii,
        "publish_review": extras.publish_review,
        "retention_days": extras.retention_days,
    }


def policy_overrides() -> Any:
    """Every per-workflow policy with its workflow, by workflow name."""
    return (
        Policy.objects.filter(is_global=False)
        .select_related("workflow", "updated_by")
        .order_by("workflow__name", "workflow_id")
    )
