from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from backend.accounts.models import User
from backend.approvals.events import inbox_publish_on_commit
from backend.approvals.examples import example_record
from backend.approvals.models import Approval, ApprovalVote, Queue
from backend.approvals.notifications import (
    notifications_deliver_pending,
    notifications_plan,
    queue_notify_validate,
)
from backend.audit.services import audit_record
from backend.common.errors import ApiError, Conflict, Forbidden

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

    Called by the run store inside the transaction that saves the waiting step. A node that asks
    more than once (``llm.agent``, one approval per high-impact tool call) names each request
    with ``approval_key``: the approval is then idempotent per run, node and that key.
    """
    key = f"{run_id}:{node_id}"
    extra_key = request.get("approval_key") if isinstance(request, dict) else None
    if isinstance(extra_key, str) and extra_key:
        if len(extra_key) > 64:  # never truncate into another request's key: hash the rest
            extra_key = extra_key[:40] + "#" + hashlib.sha256(extra_key.encode()).hexdigest()[:23]
        key = f"{key}:{extra_key}"
    existing = Approval.objects.filter(key=key).first()
    if existing is not None:
        return existing
    request = request if isinstance(request, dict) else {}
    queue, _ = Queue.objects.get_or_create(name=str(request.get("queue") or "Default")[:100])
    title = str(request.get("title") or "Review")[:500]
    instructions = str(request.get("instructions") or "")
    context = request.get("context") if isinstance(request.get("context"), dict) else {}
    fields = request.get("fields") if isinstance(request.get("fields"), dict) else {}
    options = _review_options(request)
    approval = Approval.objects.create(
        **options,
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
    notifications_plan(approval=approval, event="created")
    return approval


def _review_options(request: dict[str, Any]) -> dict[str, Any]:
    """The node's optional settings (see ``human.approval``), clamped; defaults: one approver, no due."""
    required = request.get("approvals_required", 1)
    required = (
        min(max(required, 1), 10) if isinstance(required, int) and not isinstance(required, bool) else 1
    )
    minutes = request.get("due_in_minutes")
    minutes = minutes if isinstance(minutes, int) and not isinstance(minutes, bool) and minutes > 0 else None
    escalate_to = str(request.get("escalate_to") or "")[:100]
    on_due = Approval.OnDue.ESCALATE if request.get("on_due") == "escalate" and escalate_to else "timeout"
    return {
        "approvals_required": required,
        "allow_starter": request.get("allow_starter", True) is not False,
        "due_minutes": minutes,
        "due_at": timezone.now() + timedelta(minutes=minutes) if minutes else None,
        "on_due": on_due,
        "escalate_to": escalate_to if on_due == Approval.OnDue.ESCALATE else "",
    }


def _check_pending(approval: Approval) -> None:
    if approval.status != Approval.Status.PENDING:
        raise Conflict(f"This item was already {approval.status}.", code="APPROVAL_DECIDED")


def _check_four_eyes(approval: Approval, user: User) -> None:
    """Four eyes: the run's starter may neither claim nor decide the item (when the node says so,
    or the workflow's policy, global or its own, has ``four_eyes`` on)."""
    if approval.run.started_by_id == user.id and (not approval.allow_starter or _policy_four_eyes(approval)):
        raise Forbidden("You started this run, so someone else must review it (four eyes).", code="FOUR_EYES")


def _policy_four_eyes(approval: Approval) -> bool:
    from backend.policies.selectors import effective_policy

    return effective_policy(approval.run.workflow_id)[0].four_eyes


@transaction.atomic
def approval_claim(*, approval: Approval, user: User) -> Approval:
    """Claim a pending item for review.

    Raises:
        Conflict: APPROVAL_DECIDED, APPROVAL_CLAIMED (someone else holds it).
        Forbidden: FOUR_EYES (the run's starter may not review this item).
    """
    approval = Approval.objects.select_for_update(of=("self",)).select_related("run").get(id=approval.id)
    _check_pending(approval)
    _check_four_eyes(approval, user)
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


DECISIONS = ("approve", "reject", "request_changes")


def approval_fields_schema(approval: Approval) -> dict[str, Any] | None:
    """The ``fields_schema`` the node asked with (kept in its step's request), or None."""
    from backend.runs.models import StepRun

    request = (
        StepRun.objects.filter(run_id=approval.run_id, node_id=approval.node_id)
        .values_list("request", flat=True)
        .first()
    )
    schema = request.get("fields_schema") if isinstance(request, dict) else None
    return schema if isinstance(schema, dict) else None


def _schema_problem(prop: dict[str, Any], value: Any) -> str | None:
    """Why ``value`` does not match one property of a ``fields_schema`` (None: it does)."""
    kind = prop.get("type", "string")
    is_number = isinstance(value, (int, float)) and not isinstance(value, bool)
    if kind == "string" and not isinstance(value, str):
        return "must be text"
    if kind == "boolean" and not isinstance(value, bool):
        return "must be true or false"
    if kind == "number" and not is_number:
        return "must be a number"
    if kind == "integer" and not (is_number and float(value).is_integer()):
        return "must be a whole number"
    enum = prop.get("enum")
    if isinstance(enum, list) and value not in enum:
        return f"must be one of {', '.join(map(str, enum))}"
    if isinstance(value, str):
        if isinstance(prop.get("maxLength"), int) and len(value) > prop["maxLength"]:
            return f"at most {prop['maxLength']} characters"
        if isinstance(prop.get("minLength"), int) and len(value) < prop["minLength"]:
            return f"at least {prop['minLength']} characters"
    if is_number:
        low, high = prop.get("minimum"), prop.get("maximum")
        if isinstance(low, (int, float)) and value < low:
            return f"at least {low}"
        if isinstance(high, (int, float)) and value > high:
            return f"at most {high}"
    return None


def _as_draft_text(value: Any) -> str:
    """A typed value as the draft would spell it (``true``, ``3``), to tell real edits apart."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return value if isinstance(value, str) else json.dumps(value)


def _validate_edited(approval: Approval, edited: Any) -> dict[str, Any]:
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
    schema = approval_fields_schema(approval)
    props = schema.get("properties") if schema else None
    props = props if isinstance(props, dict) else {}
    problems = [
        {"field": name, "message": problem}
        for name, value in edited.items()
        if isinstance(props.get(name), dict) and (problem := _schema_problem(props[name], value))
    ]
    if problems:
        raise ApiError(
            "Some edited fields do not match the form: "
            + "; ".join(f"{p['field']} {p['message']}" for p in problems)
            + ".",
            code="FIELDS_INVALID",
            details=problems,
        )
    typed = {name for name in edited if isinstance(props.get(name), dict)}
    for name, value in edited.items():
        if name in typed and not isinstance(value, str):
            continue
        if not isinstance(value, str) or len(value) > MAX_FIELD_CHARS:
            raise ApiError(
                f"Field '{name}' must be text of at most {MAX_FIELD_CHARS} characters.",
                code="BAD_REQUEST",
                details=[{"field": name, "message": "invalid value"}],
            )
    return {k: v for k, v in edited.items() if _as_draft_text(v) != approval.fields.get(k)}


def _resume_step(approval: Approval, answer: dict[str, Any]) -> None:
    from backend.runs.models import StepRun
    from backend.runs.services import run_resume

    StepRun.objects.filter(run_id=approval.run_id, node_id=approval.node_id, status="waiting").update(
        resume=answer
    )
    run_resume(run_id=approval.run_id)


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
    """Record one reviewer's vote; resolve the approval and resume the run once it is decided.

    ``approve`` counts towards ``approvals_required`` (distinct reviewers); the approval stays
    pending until enough approving votes exist, then the approvers' edits are merged in vote order
    (the last approver's value of a field wins) and the run resumes exactly once. One ``reject``
    rejects and one ``request_changes`` (comment required) resolves it as ``changes_requested``.

    Raises:
        Conflict: APPROVAL_DECIDED (already resolved), PAYLOAD_CHANGED (the reviewer saw another
            payload), APPROVAL_CLAIMED (someone else is reviewing it), ALREADY_VOTED.
        Forbidden: FOUR_EYES (the run's starter may not decide this item).
        ApiError: an unknown decision, edited fields that the approval does not offer, a change
            request without a comment.
    """
    if decision not in DECISIONS:
        raise ApiError(f"'decision' must be one of {', '.join(DECISIONS)}.", code="BAD_REQUEST")
    approval = Approval.objects.select_for_update().select_related("run").get(id=approval.id)
    _check_pending(approval)
    if payload_hash_seen != approval.payload_hash:
        raise Conflict("The item changed since you opened it; reload it.", code="PAYLOAD_CHANGED")
    _check_four_eyes(approval, user)
    if (
        approval.claimed_by_id not in (None, user.id)
        and not user.is_admin
        and approval.approvals_required == 1
    ):
        who = approval.claimed_by.username if approval.claimed_by else "someone"
        raise Conflict(f"{who} is reviewing this item.", code="APPROVAL_CLAIMED", details={"claimed_by": who})
    if ApprovalVote.objects.filter(approval=approval, user=user).exists():
        raise Conflict("You already voted on this item.", code="ALREADY_VOTED")
    comment = comment or ""
    if decision == "request_changes" and not comment.strip():
        raise ApiError(
            "Say what should change: a comment is required.",
            code="BAD_REQUEST",
            details=[{"field": "comment", "message": "required when requesting changes"}],
        )
    changed = _validate_edited(approval, edited) if decision == "approve" else {}
    try:
        with transaction.atomic():
            ApprovalVote.objects.create(
                approval=approval, user=user, decision=decision, edited=changed or None, comment=comment
            )
    except IntegrityError:
        raise Conflict("You already voted on this item.", code="ALREADY_VOTED") from None
    now = timezone.now()
    if decision == "approve":
        approving = list(approval.votes.filter(decision="approve").order_by("created_at", "id"))
        if len(approving) < approval.approvals_required:
            Approval.objects.filter(id=approval.id).update(claimed_by=None, claimed_at=None)
            inbox_publish_on_commit(approval=approval, kind="approval.voted")
            audit_record(
                actor=user,
                action="approval.voted",
                target=approval,
                data={
                    "run": approval.run_id,
                    "node": approval.node_id,
                    "approvals": len(approving),
                    "required": approval.approvals_required,
                    "edited_fields": sorted(changed),
                    "comment": comment,
                },
            )
            approval.refresh_from_db()
            return approval
        merged: dict[str, Any] = {}
        for vote in approving:  # the last approver's edits win over earlier ones
            merged.update(vote.edited or {})
        changed = {k: v for k, v in merged.items() if _as_draft_text(v) != approval.fields.get(k)}
    status = {
        "approve": Approval.Status.APPROVED,
        "reject": Approval.Status.REJECTED,
        "request_changes": Approval.Status.CHANGES_REQUESTED,
    }[decision]
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
        "decision": "changes_requested" if decision == "request_changes" else decision,
        "edited": changed or None,
        "comment": comment,
        "decided_by": user.username,
    }
    _resume_step(approval, answer)
    approval.refresh_from_db()
    example_record(approval=approval, reviewer=user)
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


def approvals_handle_due(*, now: datetime | None = None) -> dict[str, int]:
    """Act on pending approvals whose deadline passed; safe to run anywhere, any time.

    ``on_due=escalate`` (first time): move the item to the ``escalate_to`` queue, drop the claim,
    start a fresh deadline of the same length (after which it times out). Otherwise the approval
    becomes ``timed_out`` and the node resumes on its ``timeout`` port.
    """
    now = now or timezone.now()
    done = {"escalated": 0, "timed_out": 0}
    due_ids = list(
        Approval.objects.filter(status=Approval.Status.PENDING, due_at__lte=now).values_list("id", flat=True)
    )
    for approval_id in due_ids:
        with transaction.atomic():
            approval = (
                Approval.objects.select_for_update()
                .filter(id=approval_id, status=Approval.Status.PENDING, due_at__lte=now)
                .first()
            )
            if approval is None:
                continue
            if (
                approval.on_due == Approval.OnDue.ESCALATE
                and approval.escalate_to
                and approval.escalated_at is None
            ):
                _escalate(approval, now)
                done["escalated"] += 1
            else:
                _time_out(approval, now)
                done["timed_out"] += 1
    notifications_deliver_pending(now=now)
    return done


def _escalate(approval: Approval, now: datetime) -> None:
    old_queue_id = approval.queue_id
    old_queue_name = approval.queue.name
    queue, _ = Queue.objects.get_or_create(name=approval.escalate_to)
    approval.queue = queue
    approval.claimed_by = None
    approval.claimed_at = None
    approval.escalated_at = now
    approval.due_at = now + timedelta(minutes=approval.due_minutes) if approval.due_minutes else None
    approval.save(update_fields=["queue", "claimed_by", "claimed_at", "escalated_at", "due_at"])
    inbox_publish_on_commit(approval=approval, kind="approval.escalated", also_queue_ids=[old_queue_id])
    notifications_plan(approval=approval, event="escalated")
    audit_record(
        actor=None,
        action="approval.escalated",
        target=approval,
        data={"run": approval.run_id, "node": approval.node_id, "from": old_queue_name, "to": queue.name},
    )


def _time_out(approval: Approval, now: datetime) -> None:
    Approval.objects.filter(id=approval.id).update(status=Approval.Status.TIMED_OUT, decided_at=now)
    _resume_step(approval, {"decision": "timeout", "edited": None, "comment": "", "decided_by": ""})
    inbox_publish_on_commit(approval=approval, kind="approval.timed_out")
    audit_record(
        actor=None,
        action="approval.timed_out",
        target=approval,
        data={"run": approval.run_id, "node": approval.node_id},
    )


# --- Queues -------------------------------------------------------------------------------------


def _require_admin(user: User) -> None:
    if not user.is_admin:
        raise Forbidden("Only an admin may manage queues.")


def _users_by_name(usernames: Iterable[str]) -> list[User]:
    names = sorted(set(usernames))
    users = list(User.objects.filter(username__in=names))
    unknown = sorted(set(names) - {u.username for u in users})
    if unknown:
        raise ApiError(
            f"Unknown users: {', '.join(unknown)}.",
            code="BAD_REQUEST",
            details=[{"field": "members", "message": f"unknown user '{u}'"} for u in unknown],
        )
    return users


@transaction.atomic
def queue_create(
    *,
    user: User,
    name: str,
    description: str = "",
    members: list[str] | None = None,
    notify_email_connector: str | None = None,
    notify_webhook_connector: str | None = None,
    notify_events: list[str] | None = None,
) -> Queue:
    """Create a queue. ``notify_*``: e-mail the members (an smtp connector) and/or post to a webhook
    (an http or slack connector) when an item is ``created`` / ``escalated`` (``notify_events``)."""
    _require_admin(user)
    people = _users_by_name(members or [])
    notify = queue_notify_validate(
        email_connector=notify_email_connector,
        webhook_connector=notify_webhook_connector,
        events=notify_events,
    )
    if Queue.objects.filter(name=name).exists():
        raise Conflict(f"A queue named '{name}' exists.", code="QUEUE_EXISTS")
    queue = Queue.objects.create(name=name, description=description, **notify)
    queue.members.set(people)
    audit_record(actor=user, action="queue.create", target=queue, data={"members": sorted(members or [])})
    return queue


@transaction.atomic
def queue_update(
    *,
    user: User,
    queue: Queue,
    name: str | None = None,
    description: str | None = None,
    members: list[str] | None = None,
    notify_email_connector: str | None = None,
    notify_webhook_connector: str | None = None,
    notify_events: list[str] | None = None,
) -> Queue:
    """Change what is given (``None`` keeps the value); ``members`` replaces the member list."""
    _require_admin(user)
    people = _users_by_name(members) if members is not None else None
    notify = queue_notify_validate(
        email_connector=notify_email_connector,
        webhook_connector=notify_webhook_connector,
        events=notify_events,
    )
    for attr, value in notify.items():
        setattr(queue, attr, value)
    if name is not None and name != queue.name:
        if Queue.objects.filter(name=name).exclude(id=queue.id).exists():
            raise Conflict(f"A queue named '{name}' exists.", code="QUEUE_EXISTS")
        queue.name = name
    if description is not None:
        queue.description = description
    queue.save()
    if people is not None:
        queue.members.set(people)
    audit_record(
        actor=user,
        action="queue.update",
        target=queue,
        data={
            "name": queue.name,
            "members": sorted(members) if members is not None else None,
            **notify,
        },
    )
    return queue


@transaction.atomic
def queue_delete(*, user: User, queue: Queue) -> None:
    """Delete a queue that no approval uses: 409 QUEUE_IN_USE while it has pending items or history."""
    _require_admin(user)
    pending = queue.approvals.filter(status=Approval.Status.PENDING).count()
    total = queue.approvals.count()
    if total:
        message = (
            f"{pending} pending item(s) wait in this queue."
            if pending
            else "Decided items keep this queue for the record."
        )
        raise Conflict(message, code="QUEUE_IN_USE", details={"pending": pending, "total": total})
    audit_record(actor=user, action="queue.delete", target=queue, data={"name": queue.name})
    queue.delete()


def approvals_cancel_for_run(*, run_id: int) -> None:
    Approval.objects.filter(run_id=run_id, status=Approval.Status.PENDING).update(
        status=Approval.Status.CANCELLED
    )
