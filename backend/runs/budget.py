"""`DjangoUsageLedger`: the engine's `UsageLedger` port over the stored steps.

Budgets (``orchestrator_core/llm/budget.py``) ask it before every LLM call what was spent:

* per run — every step of the run (the running node's own row left out: it counts itself);
* per workflow per day — steps of the workflow's runs that started since 00:00 UTC today;
* per user per month — steps of runs the run's starter started, since the 1st of the month (UTC).

Spend is what the steps recorded from the provider's reported usage (meta ``cost_usd``,
``tokens_in``, ``tokens_out``), so it is real cost, not an estimate. One query for the run's
workflow and user, one aggregate for the three scopes, one for approved allowances.
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
        row = Run.objects.filter(id=int(run_id)).values("workflow_id", "started_by_id").first()
        if row is None:
            return Spend()
        now = self._now or timezone.now()
        in_run = Q(run_id=int(run_id))
        in_day = Q(run__workflow_id=row["workflow_id"], started_at__gte=day_start(now))
        in_month = (
            Q(run__started_by_id=row["started_by_id"], started_at__gte=month_start(now))
            if row["started_by_id"] is not None
            else Q(pk__in=[])
        )
        steps = StepRun.objects.filter(meta__has_key="model").filter(in_run | in_day | in_month)
        if exclude_node is not None:
            steps = steps.exclude(run_id=int(run_id), node_id=exclude_node)
        sums: dict[str, Any] = {}
        for name, where in (("run", in_run), ("day", in_day), ("month", in_month)):
            sums[f"{name}_usd"] = _sum("cost_usd", where)
            sums[f"{name}_in"] = _sum("tokens_in", where)
            sums[f"{name}_out"] = _sum("tokens_out", where)
        totals = steps.aggregate(**sums)
        granted = StepRun.objects.filter(run_id=int(run_id), meta__has_key=ALLOWANCE_KEY)
        if exclude_node is not None:
            granted = granted.exclude(node_id=exclude_node)
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


__all__ = ["DjangoUsageLedger", "day_start", "month_start"]
