"""Live inbox updates: ``ws /ws/inbox/`` receives new and decided approvals of the user's queues."""

from __future__ import annotations

from django.db import transaction

from backend.approvals.models import Approval
from backend.approvals.selectors import approval_summary
from backend.runs.events import publish_to_group

INBOX_ADMIN_GROUP = "inbox.admin"


def inbox_group(queue_id: int) -> str:
    return f"inbox.queue.{queue_id}"


def inbox_publish_on_commit(*, approval: Approval, kind: str) -> None:
    """After commit, tell the queue's members and the admins: ``approval.created|claimed|decided``."""
    approval = Approval.objects.select_related("queue", "run__workflow", "claimed_by", "decided_by").get(
        id=approval.id
    )
    message = {"type": "inbox.event", "event": {"type": kind, "approval": approval_summary(approval)}}
    queue_id = approval.queue_id

    def send() -> None:
        publish_to_group(inbox_group(queue_id), message)
        publish_to_group(INBOX_ADMIN_GROUP, message)

    transaction.on_commit(send)
