"""LLM usage reads: tokens and cost summed from the steps' meta, over the runs a user may see.

Every LLM step records ``meta = {model, tokens_in, tokens_out, cost_usd, ...}`` (see
``orchestrator_core/nodes/builtin/llm_common.py``); a step is counted when its meta names a
model. Sums are done by the database (JSON key -> float) on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.db.models import Count, F, FloatField, QuerySet, Sum
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Cast, Coalesce, TruncDate
from django.utils import timezone

from backend.accounts.models import User
from backend.runs.models import StepRun
from backend.runs.selectors import run_list_for_user

GROUPS = ("day", "workflow", "model", "user")
MAX_DAYS = 366


def _number(key: str) -> Coalesce:
    return Coalesce(Sum(Cast(KeyTextTransform(key, "meta"), FloatField())), 0.0, output_field=FloatField())


def usage_steps_for_user(*, user: User, days: int, workflow_id: int | None = None) -> QuerySet[StepRun]:
    """LLM steps of runs the user may see, created in the last ``days`` days."""
    since = timezone.now() - timedelta(days=days)
    runs = run_list_for_user(user=user).filter(created_at__gte=since)
    if workflow_id is not None:
        runs = runs.filter(workflow_id=workflow_id)
    return StepRun.objects.filter(run__in=runs.values("id"), meta__has_key="model")


def usage_summary(*, user: User, group_by: str, days: int, workflow_id: int | None = None) -> dict[str, Any]:
    """``{group_by, days, rows: [{key, label, runs, steps, tokens_in, tokens_out, cost_usd}], totals}``.

    Rows are ordered by key (days ascending, others by cost, highest first).
    """
    assert group_by in GROUPS
    steps = usage_steps_for_user(user=user, days=days, workflow_id=workflow_id)
    sums = {
        "runs": Count("run_id", distinct=True),
        "steps": Count("id"),
        "tokens_in": _number("tokens_in"),
        "tokens_out": _number("tokens_out"),
        "cost_usd": _number("cost_usd"),
    }
    if group_by == "day":
        grouped = steps.annotate(g_key=TruncDate("run__created_at"), g_label=TruncDate("run__created_at"))
    elif group_by == "workflow":
        grouped = steps.annotate(g_key=F("run__workflow_id"), g_label=F("run__workflow__name"))
    elif group_by == "model":
        model = KeyTextTransform("model", "meta")
        grouped = steps.annotate(g_key=model, g_label=model)
    else:
        grouped = steps.annotate(g_key=F("run__started_by_id"), g_label=F("run__started_by__username"))
    rows = [
        {
            "key": None if r["g_key"] is None else str(r["g_key"]),
            "label": "" if r["g_label"] is None else str(r["g_label"]),
            "runs": r["runs"],
            "steps": r["steps"],
            "tokens_in": int(r["tokens_in"]),
            "tokens_out": int(r["tokens_out"]),
            "cost_usd": round(float(r["cost_usd"]), 6),
        }
        for r in grouped.values("g_key", "g_label").annotate(**sums).order_by()
    ]
    if group_by == "day":
        rows.sort(key=lambda r: r["key"] or "")
    else:
        rows.sort(key=lambda r: (-r["cost_usd"], -r["tokens_in"] - r["tokens_out"], r["key"] or ""))
    totals = steps.aggregate(**sums)
    return {
        "group_by": group_by,
        "days": days,
        "rows": rows,
        "totals": {
            "runs": totals["runs"],
            "steps": totals["steps"],
            "tokens_in": int(totals["tokens_in"]),
            "tokens_out": int(totals["tokens_out"]),
            "cost_usd": round(float(totals["cost_usd"]), 6),
        },
    }
