"""Sharing a workflow with a user or a queue (group): writes."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from backend.accounts.models import User
from backend.approvals.models import Queue
from backend.audit.services import audit_record
from backend.common.errors import ApiError
from backend.workflows.models import Workflow, WorkflowShare


def share_to_dict(share: WorkflowShare) -> dict[str, Any]:
    return {
        "id": share.id,
        "user": share.user.username if share.user else None,
        "queue": share.queue.name if share.queue else None,
        "permission": share.permission,
        "created_at": share.created_at.isoformat() if share.created_at else None,
    }


def _target(
    *, workflow: Workflow, username: str | None, queue: str | None
) -> tuple[User | None, Queue | None]:
    if bool(username) == bool(queue):
        raise ApiError(
            "Give exactly one of username or queue.",
            code="SHARE_TARGET_INVALID",
            details=[{"field": "username", "message": "Give exactly one of username or queue."}],
        )
    if username:
        user = User.objects.filter(username=username, is_active=True).first()
        if user is None:
            raise ApiError("No active user with that username.", code="SHARE_TARGET_NOT_FOUND")
        if user.id == workflow.owner_id:
            raise ApiError("The owner already has every permission.", code="SHARE_TARGET_INVALID")
        return user, None
    found = Queue.objects.filter(name=queue).first()
    if found is None:
        raise ApiError("No queue with that name.", code="SHARE_TARGET_NOT_FOUND")
    return None, found


@transaction.atomic
def workflow_share_upsert(
    *,
    workflow: Workflow,
    actor: User,
    permission: str,
    username: str | None = None,
    queue: str | None = None,
    request: Any = None,
) -> tuple[WorkflowShare, bool]:
    """Share the workflow (or change an existing share's permission). Returns (share, created)."""
    user, group = _target(workflow=workflow, username=username, queue=queue)
    share = (
        WorkflowShare.objects.select_for_update().filter(workflow=workflow, user=user, queue=group).first()
    )
    created = share is None
    before = None if share is None else share.permission
    if share is None:
        share = WorkflowShare.objects.create(workflow=workflow, user=user, queue=group, permission=permission)
    elif share.permission != permission:
        share.permission = permission
        share.save(update_fields=["permission"])
    if before != permission:
        audit_record(
            actor=actor,
            action="workflow.share",
            request=request,
            target=workflow,
            data={
                "user": username or None,
                "queue": queue or None,
                "before": before,
                "after": permission,
            },
        )
    return share, created


@transaction.atomic
def workflow_share_delete(*, share: WorkflowShare, actor: User, request: Any = None) -> None:
    audit_record(
        actor=actor,
        action="workflow.unshare",
        request=request,
        target=share.workflow,
        data={
            "user": share.user.username if share.user else None,
            "queue": share.queue.name if share.queue else None,
            "before": share.permission,
        },
    )
    share.delete()
