"""Budgets: every LLM call is checked against the run's policy before it is made.

`RunContext.llm` asks `BudgetGuard.check` first. The guard adds up what was spent (the
`UsageLedger` port: this run, its workflow today, its user this month, plus the running step's
own usage), estimates the call (`CostEstimator`: prompt tokens x input price + ``max_tokens`` x
output price) and compares each scope of `BudgetLimits` that is set. When the call would go
over one, the policy's `OnBudget` decides:

* ``stop`` — the step fails with ``BUDGET_EXCEEDED`` naming the scope, the limit and the spend;
* ``downgrade`` — the call goes to the cheapest model of a lower tier that fits (the reason
  says ``downgraded from X to Y: budget per run $0.001000 would be exceeded …``), or stops when
  none does;
* ``approve`` — the run parks on a human approval ("Budget exceeded: approve spending more?");
  an approval raises that scope's limit *for this run only* (recorded on the step as
  ``meta.budget_allowance``), a rejection fails the step with ``BUDGET_EXCEEDED``.

What a call really cost is recorded afterwards from the provider's usage (step meta
``tokens_in``, ``tokens_out``, ``cost_usd``), and that is what the ledger sums next time.
"""

from __future__ import annotations

import dataclasses
import secrets
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from orchestrator_core.errors import ErrorCode, NodeError
from orchestrator_core.policy import Budget, OnBudget, RunPolicy
from orchestrator_core.ports import CostEstimate, LLMClient, LLMRequest, Spend, StepRecord

SCOPES = ("per_run", "per_workflow_day", "per_user_month")
SCOPE_LABELS = {
    "per_run": "per run",
    "per_workflow_day": "per workflow per day",
    "per_user_month": "per user per month",
}
DOWNGRADE_EXCLUDES = ("demo",)
"""Never downgrade real traffic to the offline demo model (it only pretends to answer)."""
APPROVAL_TITLE = "Budget exceeded: approve spending more?"
ALLOWANCE_KEY = "budget_allowance"
"""Step meta key of the extra budget an approval granted: ``{scope: {"usd": x, "tokens": n}}``."""
APPROVAL_KEY_PREFIX = "budget-"
"""A budget approval's ``approval_key`` starts with this: its answer is matched to budget requests
only, never to another park of the same step (an agent's tool approval, a child run's end)."""
DEFAULT_QUEUE = "Default"


def is_budget_request(request: Any) -> bool:
    """True for the request a budget approval parks with (see `approval_request`)."""
    if not isinstance(request, Mapping):
        return False
    key = request.get("approval_key")
    return isinstance(key, str) and key.startswith(APPROVAL_KEY_PREFIX)


def park_kind(request: Any) -> str | None:
    """What a park asks for, to match an answer to the request it answers: ``"budget"`` for a
    budget approval, else the request's ``approval_key`` (None for nodes that park once)."""
    if is_budget_request(request):
        return "budget"
    key = request.get("approval_key") if isinstance(request, Mapping) else None
    return key if isinstance(key, str) and key else None


def has_budgets(policy: RunPolicy) -> bool:
    return any(_budget(policy, scope).is_set for scope in SCOPES)


def _budget(policy: RunPolicy, scope: str) -> Budget:
    value: Budget = getattr(policy.budgets, scope)
    return value


def scope_spent(spend: Spend, scope: str) -> tuple[float, int]:
    """``(usd, tokens)`` spent in one scope."""
    if scope == "per_run":
        return spend.run_usd, spend.run_tokens
    if scope == "per_workflow_day":
        return spend.workflow_day_usd, spend.workflow_day_tokens
    return spend.user_month_usd, spend.user_month_tokens


def merge_allowances(*sources: Mapping[str, Any] | None) -> dict[str, dict[str, float]]:
    """Sum ``{scope: {"usd", "tokens"}}`` mappings (bad entries are ignored)."""
    total: dict[str, dict[str, float]] = {}
    for source in sources:
        if not isinstance(source, Mapping):
            continue
        for scope, extra in source.items():
            if scope not in SCOPES or not isinstance(extra, Mapping):
                continue
            into = total.setdefault(scope, {"usd": 0.0, "tokens": 0.0})
            for measure in ("usd", "tokens"):
                value = extra.get(measure)
                if isinstance(value, int | float) and not isinstance(value, bool):
                    into[measure] += float(value)
    return total


def with_usage(spend: Spend, *, usd: float, tokens: int, allowance: Mapping[str, Any] | None = None) -> Spend:
    """The spend plus the running step's own usage (counted in every scope) and allowance."""
    return dataclasses.replace(
        spend,
        run_usd=spend.run_usd + usd,
        run_tokens=spend.run_tokens + tokens,
        workflow_day_usd=spend.workflow_day_usd + usd,
        workflow_day_tokens=spend.workflow_day_tokens + tokens,
        user_month_usd=spend.user_month_usd + usd,
        user_month_tokens=spend.user_month_tokens + tokens,
        allowances=merge_allowances(spend.allowances, allowance),
    )


def meta_usage(meta: Mapping[str, Any]) -> tuple[float, int]:
    """``(cost_usd, tokens_in + tokens_out)`` recorded in a step's meta."""

    def number(key: str) -> float:
        value = meta.get(key)
        return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else 0.0

    return number("cost_usd"), int(number("tokens_in") + number("tokens_out"))


@dataclass(frozen=True)
class Overrun:
    """One budget the call would exceed."""

    scope: str
    measure: str
    """``usd`` or ``tokens``."""
    limit: float
    """The policy's limit plus what approvals added for this run."""
    spent: float
    estimate: float
    model: str

    def amount(self, value: float) -> str:
        return f"${value:.6f}" if self.measure == "usd" else f"{int(value)} tokens"

    def describe(self) -> str:
        return (
            f"budget {SCOPE_LABELS[self.scope]} {self.amount(self.limit)} would be exceeded "
            f"(spent {self.amount(self.spent)}, this call to {self.model} est {self.amount(self.estimate)})"
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "scope": self.scope,
            "measure": self.measure,
            "limit": self.limit,
            "spent": round(self.spent, 9) if self.measure == "usd" else int(self.spent),
            "estimate": round(self.estimate, 9) if self.measure == "usd" else int(self.estimate),
            "model": self.model,
        }


def overruns(policy: RunPolicy, spend: Spend, estimate: CostEstimate) -> list[Overrun]:
    """Every scope and measure the call would take over its limit, in scope order.

    A call whose price is unknown counts $0 (its tokens still count).
    """
    found = []
    for scope in SCOPES:
        budget = _budget(policy, scope)
        usd, tokens = scope_spent(spend, scope)
        extra = spend.allowances.get(scope, {})
        if budget.max_usd is not None:
            limit = budget.max_usd + float(extra.get("usd", 0.0))
            cost = estimate.usd or 0.0
            if usd + cost > limit:
                found.append(Overrun(scope, "usd", limit, usd, cost, estimate.model))
        if budget.max_tokens is not None:
            limit = budget.max_tokens + float(extra.get("tokens", 0.0))
            if tokens + estimate.tokens > limit:
                found.append(Overrun(scope, "tokens", limit, tokens, estimate.tokens, estimate.model))
    return found


def remaining_usd(policy: RunPolicy, spend: Spend) -> float | None:
    """The smallest dollar amount left in any scope (None: no dollar budget)."""
    left = []
    for scope in SCOPES:
        budget = _budget(policy, scope)
        if budget.max_usd is not None:
            extra = float(spend.allowances.get(scope, {}).get("usd", 0.0))
            left.append(budget.max_usd + extra - scope_spent(spend, scope)[0])
    return max(0.0, min(left)) if left else None


def estimate(client: LLMClient, request: LLMRequest) -> CostEstimate:
    """The client's own estimate (`CostEstimator`), else ~4 characters a token at an unknown price."""
    estimator = getattr(client, "estimate_cost", None)
    if callable(estimator):
        result: CostEstimate = estimator(request)
        return result
    chars = sum(len(str(m.get("content", ""))) for m in request.messages)
    return CostEstimate(
        model=request.model,
        tier=1,
        prompt_tokens=chars // 4 + 1,
        max_output_tokens=request.max_tokens,
        usd=None,
    )


def exceeded(over: Overrun, suffix: str = "") -> NodeError:
    text = over.describe()
    return NodeError(
        f"{text[0].upper()}{text[1:]}{suffix}.", code=ErrorCode.BUDGET_EXCEEDED, details=over.as_dict()
    )


def allowance(over: list[Overrun]) -> dict[str, dict[str, float]]:
    """What an approval adds, per scope: enough for this call, and at least the limit again."""
    extra: dict[str, dict[str, float]] = {}
    for o in over:
        needed = o.spent + o.estimate - o.limit
        value = max(o.limit, needed)
        into = extra.setdefault(o.scope, {"usd": 0.0, "tokens": 0.0})
        into[o.measure] = max(
            into[o.measure], round(value, 9) if o.measure == "usd" else float(int(value) + 1)
        )
    return extra


def approval_request(
    over: list[Overrun],
    extra: Mapping[str, Mapping[str, float]],
    *,
    queue: str = DEFAULT_QUEUE,
    key: str | None = None,
) -> dict[str, Any]:
    """The human approval a budget overrun asks for (the ``human.approval`` request format).

    ``approval_key`` (``budget-<random>`` unless ``key`` is given: a re-park keeps its key) makes
    it a separate approval from any other park of the same step, and marks the answer as a budget
    decision (`park_kind`).
    """
    first = over[0]
    raised = ", ".join(
        f"{SCOPE_LABELS[o.scope]} to {o.amount(o.limit + extra[o.scope][o.measure])}" for o in over
    )
    return {
        "kind": "approval",
        "queue": queue or DEFAULT_QUEUE,
        "approval_key": key or f"{APPROVAL_KEY_PREFIX}{secrets.token_hex(4)}",
        "title": APPROVAL_TITLE,
        "instructions": (
            f"The next call to {first.model} would go over the run's budget: {first.describe()}. "
            f"Approve to raise this run's limit ({raised}); reject to stop the step with BUDGET_EXCEEDED."
        ),
        "context": {
            "budget": SCOPE_LABELS[first.scope],
            "limit": first.amount(first.limit),
            "spent": first.amount(first.spent),
            "this call (estimate)": first.amount(first.estimate),
            "model": first.model,
            "approving raises": raised,
        },
        "fields": {},
        "budget": [o.as_dict() for o in over],
    }


def _downgrade(
    client: LLMClient, request: LLMRequest, est: CostEstimate, policy: RunPolicy, spend: Spend
) -> tuple[LLMRequest, CostEstimate] | None:
    """The request on the cheapest model of a lower tier that fits every budget, or None."""
    estimator = getattr(client, "estimate_cost", None)
    if not callable(estimator) or est.tier <= 1:
        return None
    options: dict[str, Any] = {
        **dict(request.options),
        "min_tier": 1,
        "max_tier": est.tier - 1,
        "exclude": [est.model, *DOWNGRADE_EXCLUDES],
        "budget_usd": remaining_usd(policy, spend),
    }
    try:
        cheaper: CostEstimate = estimator(
            dataclasses.replace(request, model="auto", options=options, fallbacks=())
        )
    except NodeError:
        return None
    if overruns(policy, spend, cheaper):
        return None
    return dataclasses.replace(request, model=cheaper.model, fallbacks=()), cheaper


@dataclass(frozen=True)
class Checked:
    """What `BudgetGuard.check` decided: the request to send and why it changed ('' = unchanged)."""

    request: LLMRequest
    reason: str = ""
    allowance: Mapping[str, Mapping[str, float]] | None = None
    """Set when an approval just raised the limits: record it on the step."""


def check(
    *,
    client: LLMClient,
    request: LLMRequest,
    policy: RunPolicy,
    spend: Spend,
    already_approved: bool,
    ask: Callable[[Any], Any],
    queue: str = DEFAULT_QUEUE,
    key: str | None = None,
) -> Checked:
    """Apply the policy to one call (see the module docstring).

    Args:
        spend: everything spent so far, the running step included.
        already_approved: an approval was already used by this step (a second overrun stops).
        ask: ``ctx.interrupt`` — returns the approval's answer when resuming, else parks the run.
        queue: the approval queue of a budget approval (``on_budget=approve``).
        key: the ``approval_key`` to reuse (the step already parked on a budget approval).

    Raises:
        NodeError: BUDGET_EXCEEDED.
    """
    if not has_budgets(policy):
        return Checked(request)
    est = estimate(client, request)
    over = overruns(policy, spend, est)
    if not over:
        return Checked(request)
    first = over[0]
    if policy.on_budget == OnBudget.DOWNGRADE:
        down = _downgrade(client, request, est, policy, spend)
        if down is None:
            raise exceeded(first, "; no model of a lower tier fits")
        cheaper_request, cheaper = down
        return Checked(cheaper_request, f"downgraded from {est.model} to {cheaper.model}: {first.describe()}")
    if policy.on_budget == OnBudget.APPROVE and not already_approved:
        extra = allowance(over)
        answer = ask(approval_request(over, extra, queue=queue, key=key))
        decision = answer.get("decision") if isinstance(answer, Mapping) else None
        if decision == "approve":
            who = answer.get("decided_by") if isinstance(answer, Mapping) else None
            return Checked(request, f"over budget, approved by {who or 'a reviewer'}", extra)
        who = answer.get("decided_by") if isinstance(answer, Mapping) else None
        raise exceeded(
            first, f"; spending more was not approved ({decision or 'no decision'} by {who or 'nobody'})"
        )
    raise exceeded(first)


class StepsUsage:
    """A `UsageLedger` over the runner's own step records: the run's spend only (used when the
    runtime has no ledger; workflow and user scopes then count this run alone)."""

    def __init__(self, steps: Mapping[str, StepRecord]) -> None:
        self._steps = steps

    def spent(self, run_id: str, *, exclude_node: str | None = None) -> Spend:
        return spend_from_metas(
            [s.meta for node_id, s in list(self._steps.items()) if node_id != exclude_node]
        )


def spend_from_metas(metas: Iterable[Mapping[str, Any] | None], *, per_run_only: bool = False) -> Spend:
    """A `Spend` whose every scope (or only ``per_run``) sums the metas' usage and allowances."""
    usd, tokens = 0.0, 0
    allowances: list[Mapping[str, Any] | None] = []
    for meta in metas:
        if not isinstance(meta, Mapping):
            continue
        cost, used = meta_usage(meta)
        usd += cost
        tokens += used
        allowances.append(meta.get(ALLOWANCE_KEY))
    if per_run_only:
        return Spend(run_usd=usd, run_tokens=tokens, allowances=merge_allowances(*allowances))
    return with_usage(Spend(allowances=merge_allowances(*allowances)), usd=usd, tokens=tokens)
