from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from backend.accounts.models import User
from backend.approvals.models import Approval
from backend.common.errors import NotFound


def approval_list_for_user(*, user: User) -> QuerySet[Approval]:
    """Admins see every approval; everyone else only those of queues they belong to."""
    qs = Approval.objects.select_related("queue", "run__workflow", "claimed_by", "decided_by")
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
    }
