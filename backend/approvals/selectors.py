from __future__ import annotations

import math
import statistics
from datetime import datetime, timedelta
from typing import Any

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
