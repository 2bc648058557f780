"""`DjangoUsageLedger`: the engine's `UsageLedger` port over the stored steps.

Budgets (``orchestrator_core/llm/budget.py``) ask it before every LLM call what was spent:

* per run — every step of the run and of all its child runs, at any depth (a run's tree: the
  run a person or trigger started and its descendants share one per-run budget, the root's;
  ``Run.root_run``); the running node's own row is left out: it counts itself;
* per workflow per day — steps of the workflow's runs that started since 00:00 UTC today;
* per user per month — steps of runs the run's starter started, since the 1st of the month (UTC).

Spend is what the steps recorded from the provider's reported usage (meta ``cost_usd``,
``tokens_in``, ``tokens_out``), so it is real cost, not an estimate. One query for the run's
workflow and user, one aggregate for the three scopes, one for approved allowances (of the
whole tree).

`DryRunUsageLedger` is for testing one node (no run): the workflow's day and the user's month.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from django.db.models import FloatField, Q, Sum, Value
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Cast, Coalesce
from django.utils import timezone

from backend.runs.models import Run, StepRun
from orchestrator_core.llm.budget import ALLOWANCE_KEY, merge_allowances
from orchestrator_core.ports import Spend


def _sum(key: str, where: Q) -> Coalesce:
    return Coalesce(
        Sum(Cast(KeyTextTransform(key, "meta"), FloatField()), filter=where),
        Value(0.0),
        output_field=FloatField(),
    )


def day_start(now: datetime) -> datetime:
    return now.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)


def month_start(now: datetime) -> datetime:
    return day_start(now).replace(day=1)


class DjangoUsageLedger:
    """Spending from the database (see the module docstring)."""

    def __init__(self, now: datetime | None = None) -> None:
        self._now = now

    def spent(self, run_id: str, *, exclude_node: str | None = None) -> Spend:
        row = Run.objects.filter(id=int(run_id)).values("workflow_id", "started_by_id", "root_run_id").first()
        if row is None:
            return Spend()
        root = row["root_run_id"] or int(run_id)
        return _spend(
            run_id=int(run_id),
            in_run=Q(run_id=root) | Q(run__root_run_id=root),
            workflow_id=row["workflow_id"],
            user_id=row["started_by_id"],
            now=self._now or timezone.now(),
            exclude_node=exclude_node,
        )


class DryRunUsageLedger:
    """For testing one node: nothing spent per run; the workflow's day and the user's month
    as stored (the same sums as `DjangoUsageLedger`)."""

    def __init__(self, *, workflow_id: int, user_id: int | None, now: datetime | None = None) -> None:
        self._workflow_id = workflow_id
        self._user_id = user_id
        self._now = now

    def spent(self, run_id: str, *, exclude_node: str | None = None) -> Spend:
        return _spend(
            run_id=None,
            in_run=Q(pk__in=[]),
            workflow_id=self._workflow_id,
            user_id=self._user_id,
            now=self._now or timezone.now(),
            exclude_node=None,
        )


def _spend(
    *,
    run_id: int | None,
    in_run: Q,
    workflow_id: int,
    user_id: int | None,
    now: datetime,
    exclude_node: str | None,
) -> Spend:
    in_day = Q(run__workflow_id=workflow_id, started_at__gte=day_start(now))
    in_month = (
        Q(run__started_by_id=user_id, started_at__gte=month_start(now))
        if user_id is not None
        else Q(pk__in=[])
    )
    steps = StepRun.objects.filter(meta__has_key="model").filter(in_run | in_day | in_month)
    if exclude_node is not None and run_id is not None:
        steps = steps.exclude(run_id=run_id, node_id=exclude_node)
    sums: dict[str, Any] = {}
    for name, where in (("run", in_run), ("day", in_day), ("month", in_month)):
        sums[f"{name}_usd"] = _sum("cost_usd", where)
        sums[f"{name}_in"] = _sum("tokens_in", where)
        sums[f"{name}_out"] = _sum("tokens_out", where)
    totals = steps.aggregate(**sums)
    allowances: dict[str, dict[str, float]] = {}
    if run_id is not None:
        granted = StepRun.objects.filter(in_run, meta__has_key=ALLOWANCE_KEY)
        if exclude_node is not None:
            granted = granted.exclude(run_id=run_id, node_id=exclude_node)
        allowances = merge_allowances(
            *(
                meta.get(ALLOWANCE_KEY)
                for meta in granted.values_list("meta", flat=True)
                if isinstance(meta, dict)
            )
        )

    def tokens(name: str) -> int:
        return int(totals[f"{name}_in"] + totals[f"{name}_out"])

    return Spend(
        run_usd=float(totals["run_usd"]),
        run_tokens=tokens("run"),
        workflow_day_usd=float(totals["day_usd"]),
        workflow_day_tokens=tokens("day"),
        user_month_usd=float(totals["month_usd"]),
        user_month_tokens=tokens("month"),
        allowances=allowances,
    )


__all__ = ["DjangoUsageLedger", "DryRunUsageLedger", "day_start", "month_start"]
