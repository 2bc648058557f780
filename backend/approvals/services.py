from __future__ import annotations

import hashlib
import json
from typing import Any

from django.db import transaction
from django.utils import timezone

from backend.accounts.models import User
from backend.approvals.events import inbox_publish_on_commit
from backend.approvals.models import Approval, Queue
from backend.audit.services import audit_record
from backend.common.errors import ApiError, Conflict

MAX_FIELD_CHARS = 100_000


def payload_hash(*, title: str, instructions: str, context: Any, fields: Any) -> str:
    """The hash of exactly what a reviewer is shown; a decision must name it."""
    blob = json.dumps(
        {"title": title, "instructions": instructions, "context": context, "fields": fields},
        sort_keys=True,
        separators=(",", ":"),
        default=str,
    )
    return hashlib.sha256(blob.encode()).hexdigest()


def approval_open(*, run_id: int, node_id: str, request: Any) -> Approval:
    """Create the approval for a waiting step (idempotent per run and node).

    Called by the run store inside the transaction that saves the waiting step.
    """
    key = f"{run_id}:{node_id}"
    existing = Approval.objects.filter(key=key).first()
    if existing is not None:
        return existing
    request = request if isinstance(request, dict) else {}
    queue, _ = Queue.objects.get_or_create(name=str(request.get("queue") or "Default")[:100])
    title = str(request.get("title") or "Review")[:500]
    instructions = str(request.get("instructions") or "")
    context = request.get("context") if isinstance(request.get("context"), dict) else {}
    fields = request.get("fields") if isinstance(request.get("fields"), dict) else {}
    approval = Approval.objects.create(
        run_id=run_id,
        node_id=node_id,
        key=key,
        queue=queue,
        title=title,
        instructions=instructions,
        context=context,
        fields=fields,
        payload_hash=payload_hash(title=title, instructions=instructions, context=context, fields=fields),
    )
    inbox_publish_on_commit(approval=approval, kind="approval.created")
    return approval


def _check_pending(approval: Approval) -> None:
    if approval.status != Approval.Status.PENDING:
        raise Conflict(f"This item was already {approval.status}.", code="APPROVAL_DECIDED")


@transaction.atomic
def approval_claim(*, approval: Approval, user: User) -> Approval:
    approval = Approval.objects.select_for_update().get(id=approval.id)
    _check_pending(approval)
    claimed = (
        Approval.objects.filter(id=approval.id, status=Approval.Status.PENDING)
        .filter(claimed_by__isnull=True)
        .update(claimed_by=user, claimed_at=timezone.now())
    )
    approval.refresh_from_db()
    if claimed:
        inbox_publish_on_commit(approval=approval, kind="approval.claimed")
    if not claimed and approval.claimed_by_id != user.id:
        who = approval.claimed_by.username if approval.claimed_by else "someone"
        raise Conflict(
            f"{who} is already reviewing this item.", code="APPROVAL_CLAIMED", details={"claimed_by": who}
        )
    return approval


@transaction.atomic
def approval_release(*, approval: Approval, user: User) -> Approval:
    Approval.objects.filter(id=approval.id, status=Approval.Status.PENDING, claimed_by=user).update(
        claimed_by=None, claimed_at=None
    )
    approval.refresh_from_db()
    return approval


@transaction.atomic
def approval_decide(
    *,
    approval: Approval,
    user: User,
    decision: str,
    payload_hash_seen: str,
    edited: Any = None,
    comment: str = "",
) -> Approval:
    """Record the decision once and resume the run.

    Raises:
        Conflict: APPROVAL_DECIDED (second decision), PAYLOAD_CHANGED (the reviewer saw another
            payload), APPROVAL_CLAIMED (someone else is reviewing it).
        ApiError: edited fields that the approval does not offer.
    """
    from backend.runs.models import StepRun
    from backend.runs.services import run_resume

    approval = Approval.objects.select_for_update().get(id=approval.id)
    _check_pending(approval)
    if payload_hash_seen != approval.payload_hash:
        raise Conflict("The item changed since you opened it; reload it.", code="PAYLOAD_CHANGED")
    if approval.claimed_by_id not in (None, user.id) and not user.is_admin:
        who = approval.claimed_by.username if approval.claimed_by else "someone"
        raise Conflict(f"{who} is reviewing this item.", code="APPROVAL_CLAIMED", details={"claimed_by": who})
    edited = edited or {}
    if not isinstance(edited, dict):
        raise ApiError("'edited' must be an object of field values.", code="BAD_REQUEST")
    unknown = sorted(set(edited) - set(approval.fields))
    if unknown:
        raise ApiError(
            f"These fields cannot be edited: {', '.join(unknown)}.",
            code="BAD_REQUEST",
            details=[{"field": f, "message": "not an editable field"} for f in unknown],
        )
    for name, value in edited.items():
        if not isinstance(value, str) or len(value) > MAX_FIELD_CHARS:
            raise ApiError(
                f"Field '{name}' must be text of at most {MAX_FIELD_CHARS} characters.",
                code="BAD_REQUEST",
                details=[{"field": name, "message": "invalid value"}],
            )
    changed = {k: v for k, v in edited.items() if v != approval.fields.get(k)}
    status = Approval.Status.APPROVED if decision == "approve" else Approval.Status.REJECTED
    now = timezone.now()
    updated = Approval.objects.filter(id=approval.id, status=Approval.Status.PENDING).update(
        status=status,
        decided_by=user,
        decided_at=now,
        edited=changed or None,
        comment=comment,
        claimed_by=approval.claimed_by or user,
        claimed_at=approval.claimed_at or now,
    )
    if updated != 1:  # lost a race with another decision
        raise Conflict("This item was already decided.", code="APPROVAL_DECIDED")
    answer = {
        "decision": decision,
        "edited": changed or None,
        "comment": comment,
        "decided_by": user.username,
    }
    StepRun.objects.filter(run_id=approval.run_id, node_id=approval.node_id, status="waiting").update(
        resume=answer
    )
    run_resume(run_id=approval.run_id)
    inbox_publish_on_commit(approval=approval, kind="approval.decided")
    audit_record(
        actor=user,
        action=f"approval.{status}",
        target=approval,
        data={
            "run": approval.run_id,
            "node": approval.node_id,
            "edited_fields": sorted(changed),
            "before": {k: approval.fields.get(k) for k in changed},
            "after": changed,
            "comment": comment,
        },
    )
    approval.refresh_from_db()
    return approval


def approvals_cancel_for_run(*, run_id: int) -> None:
    Approval.objects.filter(run_id=run_id, status=Approval.Status.PENDING).update(
        status=Approval.Status.CANCELLED
    )
