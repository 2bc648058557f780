"""Live inbox updates: ``ws /ws/inbox/`` receives new and decided approvals of the user's queues."""

from __future__ import annotations

from collections.abc import Iterable

from django.db import transaction

from backend.approvals.models import Approval
from backend.approvals.selectors import approval_summary
from backend.runs.events import publish_to_group

INBOX_ADMIN_GROUP = "inbox.admin"


def inbox_group(queue_id: int) -> str:
    return f"inbox.queue.{queue_id}"


def inbox_publish_on_commit(*, approval: Approval, kind: str, also_queue_ids: Iterable[int] = ()) -> None:
    """After commit, tell the queue's members and the admins: ``approval.created|claimed|voted|decided|
    escalated|timed_out``. ``also_queue_ids``: queues that must hear it too (the queue it left)."""
    approval = Approval.objects.select_related("queue", "run__workflow", "claimed_by", "decided_by").get(
        id=approval.id
    )
    message = {"type": "inbox.event", "event": {"type": kind, "approval": approval_summary(approval)}}
    queue_ids = [approval.queue_id, *[q for q in also_queue_ids if q != approval.queue_id]]

    def send() -> None:
        for queue_id in queue_ids:
            publish_to_group(inbox_group(queue_id), message)
        publish_to_group(INBOX_ADMIN_GROUP, message)

    transaction.on_commit(send)
