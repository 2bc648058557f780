from __future__ import annotations

import json
import math
import statistics
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from backend.accounts.models import User
from backend.approvals.models import Approval, Queue
from backend.common.errors import NotFound


def approval_list_for_user(*, user: User) -> QuerySet[Approval]:
    """Admins see every approval; everyone else only those of queues they belong to."""
    qs = Approval.objects.select_related(
        "queue", "run__workflow", "run__started_by", "claimed_by", "decided_by"
    )
    if user.is_admin:
        return qs
    return qs.filter(queue__members=user)


def approval_get_for_user(*, approval_id: Any, user: User) -> Approval:
    try:
        return approval_list_for_user(user=user).get(id=int(approval_id))
    except (Approval.DoesNotExist, ValueError, TypeError):
        raise NotFound("Approval not found.") from None


def approval_summary(a: Approval) -> dict[str, Any]:
    return {
        "id": a.id,
        "run_id": a.run_id,
        "workflow": {"id": a.run.workflow_id, "name": a.run.workflow.name},
        "node_id": a.node_id,
        "queue": a.queue.name,
        "title": a.title,
        "status": a.status,
        "claimed_by": a.claimed_by.username if a.claimed_by else None,
        "created_at": a.created_at.isoformat(),
        "decided_at": a.decided_at.isoformat() if a.decided_at else None,
        "decided_by": a.decided_by.username if a.decided_by else None,
        "approvals_required": a.approvals_required,
        "due_at": a.due_at.isoformat() if a.due_at else None,
    }


# --- Inbox filters and counts ------------------------------------------------------------------

DECIDED_STATUSES = tuple(s for s in Approval.Status.values if s not in ("pending", "cancelled"))


def due_soon_cutoff(now: datetime | None = None) -> datetime:
    """Pending items due before this instant are "due soon" (overdue ones included)."""
    hours = int(getattr(settings, "BATON_DUE_SOON_HOURS", 24) or 24)
    return (now or timezone.now()) + timedelta(hours=hours)


def approval_filter(
    qs: QuerySet[Approval],
    *,
    user: User,
    status: str = "pending",
    queue: str | None = None,
    due_soon: bool = False,
    mine: bool = False,
    now: datetime | None = None,
) -> QuerySet[Approval]:
    """The inbox list filters. ``status``: pending (default), decided, all or one status;
    ``due_soon``: pending items due within ``BATON_DUE_SOON_HOURS`` or overdue; ``mine``: items
    claimed by ``user``. Filters combine (AND)."""
    if status == "decided":
        qs = qs.filter(status__in=DECIDED_STATUSES)
    elif status != "all":
        qs = qs.filter(status=status)
    if queue:
        qs = qs.filter(queue__name=queue)
    if due_soon:
        qs = qs.filter(status=Approval.Status.PENDING, due_at__isnull=False, due_at__lte=due_soon_cutoff(now))
    if mine:
        qs = qs.filter(claimed_by=user)
    return qs


def approval_counts_for_user(*, user: User, now: datetime | None = None) -> dict[str, Any]:
    """Pending / due soon / mine (claimed by ``user``, pending), overall and per visible queue."""
    cutoff = due_soon_cutoff(now)
    pending = Q(status=Approval.Status.PENDING)
    figures = {
        "pending": Count("id", filter=pending),
        "due_soon": Count("id", filter=pending & Q(due_at__isnull=False, due_at__lte=cutoff)),
        "mine": Count("id", filter=pending & Q(claimed_by=user)),
    }
    rows = (
        approval_list_for_user(user=user)
        .filter(status=Approval.Status.PENDING)
        .order_by()
        .values("queue__name")
        .annotate(**figures)
    )
    by_queue = {q.name: {"pending": 0, "due_soon": 0, "mine": 0} for q in queue_list_for_user(user=user)}
    for row in rows:
        by_queue[row["queue__name"]] = {k: row[k] for k in figures}
    return {
        "pending": sum(v["pending"] for v in by_queue.values()),
        "due_soon": sum(v["due_soon"] for v in by_queue.values()),
        "mine": sum(v["mine"] for v in by_queue.values()),
        "queues": [{"queue": name, **v} for name, v in sorted(by_queue.items())],
    }


# --- Review context (what produced the draft) ---------------------------------------------------

_SUMMARY_CHARS = 400
_PASSAGE_CHARS = 2000
_MAX_PASSAGES = 20


def _short(value: Any, limit: int = _SUMMARY_CHARS) -> str:
    text = value if isinstance(value, str) else json.dumps(value, default=str, ensure_ascii=False)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _summary(output: Any) -> str:
    """A one-line reading of a step's output: ``key: value`` pairs, whitespace collapsed."""
    if isinstance(output, dict):
        parts = (
            f"{k}: {v if isinstance(v, str) else json.dumps(v, default=str, ensure_ascii=False)}"
            for k, v in output.items()
        )
        text = " · ".join(parts)
    else:
        text = output if isinstance(output, str) else json.dumps(output, default=str, ensure_ascii=False)
    return _short(" ".join(text.split()))


def _passage(item: Any, node_id: str) -> dict[str, Any] | None:
    if isinstance(item, str):
        return {"source": node_id, "text": _short(item, _PASSAGE_CHARS), "score": None}
    if not isinstance(item, dict):
        return None
    text = next((item[k] for k in ("text", "content", "page_content", "snippet") if item.get(k)), None)
    if text is None:
        return None
    metadata = item.get("metadata")
    meta: dict[str, Any] = metadata if isinstance(metadata, dict) else {}
    source = next(
        (str(d[k]) for d in (item, meta) for k in ("source", "url", "title", "id") if d.get(k)), node_id
    )
    score = item.get("score")
    return {
        "source": source[:300],
        "text": _short(text, _PASSAGE_CHARS),
        "score": score if isinstance(score, (int, float)) and not isinstance(score, bool) else None,
    }


def approval_review_context(a: Approval) -> dict[str, Any]:
    """What produced the draft: the run's trigger input, its earlier steps (label, type, status,
    output summary, model, cost), passages retrieved upstream (step outputs with ``passages`` or
    ``documents``) and the cost so far; plus the node's optional ``fields_schema``."""
    from backend.runs.models import StepRun

    document = a.run.version.document if a.run.version_id else {}
    nodes = {n.get("id"): n for n in (document or {}).get("nodes", []) if isinstance(n, dict)}
    steps: list[dict[str, Any]] = []
    passages: list[dict[str, Any]] = []
    cost = 0.0
    fields_schema: Any = None
    for step in StepRun.objects.filter(run_id=a.run_id).order_by("started_at", "id"):
        meta = step.meta or {}
        step_cost = float(meta.get("cost_usd") or 0.0) + float(meta.get("children_cost_usd") or 0.0)
        cost += step_cost
        if step.node_id == a.node_id:
            if isinstance(step.request, dict) and isinstance(step.request.get("fields_schema"), dict):
                fields_schema = step.request["fields_schema"]
            continue
        node = nodes.get(step.node_id) or {}
        output = step.output
        if str(node.get("type") or "").startswith("trigger."):
            continue  # its output is the trigger input, shown on its own
        steps.append(
            {
                "node_id": step.node_id,
                "label": node.get("label") or step.node_id,
                "type": node.get("type") or "",
                "status": step.status,
                "summary": _summary(output) if output is not None else "",
                "model": meta.get("model") or None,
                "cost_usd": round(step_cost, 6) if step_cost else None,
                "tokens_in": meta.get("tokens_in"),
                "tokens_out": meta.get("tokens_out"),
            }
        )
        if isinstance(output, dict):
            for key in ("passages", "documents"):
                items = output.get(key)
                if isinstance(items, list):
                    for item in items:
                        p = _passage(item, step.node_id)
                        if p is not None and len(passages) < _MAX_PASSAGES:
                            passages.append(p)
    return {
        "trigger": a.run.inputs,
        "steps": steps,
        "passages": passages,
        "cost_usd": round(cost, 6),
        "fields_schema": fields_schema,
    }


# --- Queues -------------------------------------------------------------------------------------


def queue_list_for_user(*, user: User) -> QuerySet[Queue]:
    """Admins see every queue; everyone else the queues they belong to."""
    qs = Queue.objects.prefetch_related("members").annotate(
        pending=Count("approvals", filter=Q(approvals__status=Approval.Status.PENDING))
    )
    return qs if user.is_admin else qs.filter(members=user)


def queue_get_for_user(*, queue_id: Any, user: User) -> Queue:
    try:
        return queue_list_for_user(user=user).get(id=int(queue_id))
    except (Queue.DoesNotExist, ValueError, TypeError):
        raise NotFound("Queue not found.") from None


def queue_summary(q: Queue) -> dict[str, Any]:
    return {
        "id": q.id,
        "name": q.name,
        "description": q.description,
        "members": sorted(u.username for u in q.members.all()),
        "pending": getattr(q, "pending", None) or 0,
        "notify_email_connector": q.notify_email_connector or None,
        "notify_webhook_connector": q.notify_webhook_connector or None,
        "notify_events": list(q.notify_events or []),
    }


# --- Statistics ---------------------------------------------------------------------------------

HUMAN_DECISIONS = (Approval.Status.APPROVED, Approval.Status.REJECTED, Approval.Status.CHANGES_REQUESTED)


def _percentile(sorted_values: list[float], fraction: float) -> float:
    """Nearest-rank percentile of already sorted values."""
    return sorted_values[max(math.ceil(fraction * len(sorted_values)) - 1, 0)]


def _figures(rows: list[tuple[str, bool, float]]) -> dict[str, Any]:
    approved = [edited for status, edited, _ in rows if status == Approval.Status.APPROVED]
    seconds = sorted(s for _, _, s in rows)
    return {
        "decided": len(rows),
        "approved": len(approved),
        "approval_rate": round(len(approved) / len(rows), 4) if rows else None,
        "edit_rate": round(sum(approved) / len(approved), 4) if approved else None,
        "median_seconds": round(statistics.median(seconds), 3) if seconds else None,
        "p90_seconds": round(_percentile(seconds, 0.9), 3) if seconds else None,
    }


def approval_stats_for_user(
    *,
    user: User,
    days: int = 30,
    queue: str | None = None,
    workflow_id: int | None = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """Human decisions (approved, rejected, changes requested) of the last ``days`` days, by queue
    and by workflow, among the approvals the user may see.

    ``approval_rate`` = approved / decided; ``edit_rate`` = approved with edits / approved;
    time to decision = ``decided_at - created_at``; median and nearest-rank p90, in seconds.
    """
    now = now or timezone.now()
    qs = approval_list_for_user(user=user).filter(
        status__in=HUMAN_DECISIONS, decided_at__gte=now - timedelta(days=days), decided_at__isnull=False
    )
    if queue:
        qs = qs.filter(queue__name=queue)
    if workflow_id is not None:
        qs = qs.filter(run__workflow_id=workflow_id)
    by_queue: dict[str, list[tuple[str, bool, float]]] = {}
    by_workflow: dict[tuple[int, str], list[tuple[str, bool, float]]] = {}
    for a in qs.order_by("id"):
        assert a.decided_at is not None
        row = (a.status, bool(a.edited), (a.decided_at - a.created_at).total_seconds())
        by_queue.setdefault(a.queue.name, []).append(row)
        by_workflow.setdefault((a.run.workflow_id, a.run.workflow.name), []).append(row)
    return {
        "days": days,
        "queues": [{"queue": name, **_figures(rows)} for name, rows in sorted(by_queue.items())],
        "workflows": [
            {"workflow": {"id": wid, "name": name}, **_figures(rows)}
            for (wid, name), rows in sorted(by_workflow.items())
        ],
    }
