"""Tell reviewers about new and escalated items: e-mail to the queue's members and/or a webhook.

The rows are written in the transaction that creates (or escalates) the approval and delivered
after commit; a crash before delivery leaves them ``pending`` and the due-items sweep
(`approvals_handle_due`) sends them later. Each row's ``key`` is the outbox's idempotency key and
the webhook's ``Idempotency-Key``, so a retry never sends the same e-mail twice.

The message carries the item's title and a link, ``<BATON_PUBLIC_URL>/inbox/<id>``: opening it
needs a sign-in and only shows the item. Nothing in a notification can decide it.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from backend.approvals.models import NOTIFY_EVENTS, Approval, ApprovalNotification, Queue
from backend.common.errors import ApiError
from backend.connectors.models import Connector

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 5
RETRY_AFTER = timedelta(minutes=1)
"""An attempt in flight (or failed) is retried after ``RETRY_AFTER * attempts``."""
WEBHOOK_TIMEOUT_SECONDS = 10.0
WEBHOOK_KINDS = (Connector.Kind.HTTP, Connector.Kind.SLACK)


def approval_link(approval_id: int) -> str:
    return f"{str(settings.BATON_PUBLIC_URL).rstrip('/')}/inbox/{approval_id}"


# --- Queue settings -----------------------------------------------------------------------------


def queue_notify_validate(
    *, email_connector: str | None, webhook_connector: str | None, events: Any
) -> dict[str, Any]:
    """Check the queue's notification settings; the values to save (only those given).

    Raises:
        ApiError: BAD_REQUEST for an unknown connector, a connector of the wrong kind or an event
            other than ``created`` / ``escalated``.
    """
    values: dict[str, Any] = {}
    problems: list[dict[str, str]] = []
    if email_connector is not None:
        if (
            email_connector
            and not Connector.objects.filter(name=email_connector, kind=Connector.Kind.SMTP).exists()
        ):
            problems.append({"field": "notify_email_connector", "message": "no smtp connector of that name"})
        values["notify_email_connector"] = email_connector
    if webhook_connector is not None:
        if (
            webhook_connector
            and not Connector.objects.filter(name=webhook_connector, kind__in=WEBHOOK_KINDS).exists()
        ):
            problems.append(
                {"field": "notify_webhook_connector", "message": "no http or slack connector of that name"}
            )
        values["notify_webhook_connector"] = webhook_connector
    if events is not None:
        if not isinstance(events, list) or any(e not in NOTIFY_EVENTS for e in events):
            problems.append({"field": "notify_events", "message": "a list of: created, escalated"})
        else:
            values["notify_events"] = [e for e in NOTIFY_EVENTS if e in events]
    if problems:
        raise ApiError(
            "Check the notification settings: " + "; ".join(p["message"] for p in problems) + ".",
            code="BAD_REQUEST",
            details=problems,
        )
    return values


# --- Planning (inside the caller's transaction) -------------------------------------------------


def notifications_plan(*, approval: Approval, event: str) -> list[int]:
    """Write the notifications that ``event`` (created / escalated) asks for in the approval's
    queue, and deliver them once the transaction commits. Idempotent per approval and event."""
    queue = Queue.objects.get(id=approval.queue_id)
    if event not in (queue.notify_events or []):
        return []
    rows: list[ApprovalNotification] = []
    base = f"approval:{approval.id}:{event}"
    if queue.notify_email_connector:
        for member in queue.members.exclude(email="").order_by("id"):
            rows.append(
                ApprovalNotification(
                    approval=approval,
                    key=f"{base}:email:{member.id}",
                    event=event,
                    channel=ApprovalNotification.Channel.EMAIL,
                    connector=queue.notify_email_connector,
                    recipient=member.email,
                )
            )
    if queue.notify_webhook_connector:
        rows.append(
            ApprovalNotification(
                approval=approval,
                key=f"{base}:webhook",
                event=event,
                channel=ApprovalNotification.Channel.WEBHOOK,
                connector=queue.notify_webhook_connector,
            )
        )
    if not rows:
        return []
    ApprovalNotification.objects.bulk_create(rows, ignore_conflicts=True)
    ids = list(
        ApprovalNotification.objects.filter(
            key__in=[r.key for r in rows], status=ApprovalNotification.Status.PENDING
        ).values_list("id", flat=True)
    )
    transaction.on_commit(lambda: notifications_deliver(ids))
    return ids


# --- Delivery (after commit) --------------------------------------------------------------------


def _message(approval: Approval, event: str) -> tuple[str, str]:
    link = approval_link(approval.id)
    what = "was escalated to" if event == "escalated" else "waits in"
    subject = f"[Baton] Review: {approval.title}"[:998]
    body = (
        f"{approval.title}\n\n"
        f"This item {what} the review queue '{approval.queue.name}' "
        f"(workflow '{approval.run.workflow.name}').\n\n"
        f"Open it (sign-in required): {link}\n"
    )
    return subject, body


def _send_email(n: ApprovalNotification, approval: Approval) -> None:
    from backend.connectors.mail import OutboxMailer
    from orchestrator_core.ports import EmailMessage

    connector = Connector.objects.filter(name=n.connector, kind=Connector.Kind.SMTP).first()
    if connector is None:
        raise LookupError(f"No smtp connector named {n.connector!r}.")
    subject, body = _message(approval, n.event)
    OutboxMailer().send(  # through the connector's server, login and from address
        EmailMessage(to=n.recipient, subject=subject, body=body, connector=connector.name),
        idempotency_key=n.key,
        run_id=str(approval.run_id),
        node_id=approval.node_id,
    )


def _send_webhook(n: ApprovalNotification, approval: Approval) -> None:
    from backend.connectors.http import DjangoHttpClient
    from orchestrator_core.ports import HttpRequest

    connector = Connector.objects.filter(name=n.connector, kind__in=WEBHOOK_KINDS).first()
    if connector is None:
        raise LookupError(f"No http or slack connector named {n.connector!r}.")
    subject, _ = _message(approval, n.event)
    link = approval_link(approval.id)
    if connector.kind == Connector.Kind.SLACK:
        url = str((connector.secret or {}).get("webhook_url") or "")
        payload: dict[str, Any] = {"text": f"{subject}\n<{link}|Open in Baton>"}
        channel = (connector.config or {}).get("channel")
        if channel:
            payload["channel"] = channel
        request = HttpRequest(
            method="POST",
            url=url,
            headers={"Content-Type": "application/json"},
            body=json.dumps(payload).encode(),
            timeout_seconds=WEBHOOK_TIMEOUT_SECONDS,
            max_response_bytes=64 * 1024,
            idempotency_key=n.key,
        )
    else:
        payload = {
            "type": f"approval.{n.event}",
            "approval": {
                "id": approval.id,
                "title": approval.title,
                "queue": approval.queue.name,
                "workflow": {"id": approval.run.workflow_id, "name": approval.run.workflow.name},
                "run_id": approval.run_id,
                "due_at": approval.due_at.isoformat() if approval.due_at else None,
                "url": link,
            },
        }
        request = HttpRequest(
            method="POST",
            url="",
            connector=connector.name,
            headers={"Content-Type": "application/json"},
            body=json.dumps(payload).encode(),
            timeout_seconds=WEBHOOK_TIMEOUT_SECONDS,
            max_response_bytes=64 * 1024,
            idempotency_key=n.key,
        )
    response = DjangoHttpClient().request(request)
    if response.status >= 400:
        raise RuntimeError(f"The webhook answered HTTP {response.status}.")


def _claim(n: ApprovalNotification, now: datetime) -> bool:
    """Take one attempt; False when another deliverer took it (or it is done)."""
    return (
        ApprovalNotification.objects.filter(
            id=n.id, status=ApprovalNotification.Status.PENDING, attempts=n.attempts
        ).update(attempts=F("attempts") + 1, next_attempt_at=now + RETRY_AFTER * (n.attempts + 1))
        == 1
    )


def notification_deliver(n: ApprovalNotification, *, now: datetime | None = None) -> bool:
    """One attempt at one notification; True when it was sent. Never raises."""
    now = now or timezone.now()
    if not _claim(n, now):
        return False
    approval = Approval.objects.select_related("queue", "run__workflow").get(id=n.approval_id)
    try:
        if n.channel == ApprovalNotification.Channel.EMAIL:
            _send_email(n, approval)
        else:
            _send_webhook(n, approval)
    except Exception as exc:  # a notification must never break the caller
        message = str(getattr(exc, "message", "") or exc)[:450] or type(exc).__name__
        failed = n.attempts + 1 >= MAX_ATTEMPTS
        logger.warning("Notification %s failed (attempt %s): %s", n.key, n.attempts + 1, message)
        ApprovalNotification.objects.filter(id=n.id).update(
            error=f"{type(exc).__name__}: {message}"[:500],
            status=ApprovalNotification.Status.FAILED if failed else ApprovalNotification.Status.PENDING,
        )
        return False
    ApprovalNotification.objects.filter(id=n.id).update(
        status=ApprovalNotification.Status.SENT, sent_at=timezone.now(), error=""
    )
    return True


def notifications_deliver(ids: Iterable[int], *, now: datetime | None = None) -> int:
    """Deliver the given pending notifications; how many were sent."""
    sent = 0
    for n in ApprovalNotification.objects.filter(
        id__in=list(ids), status=ApprovalNotification.Status.PENDING
    ).order_by("id"):
        sent += notification_deliver(n, now=now)
    return sent


def notifications_deliver_pending(*, now: datetime | None = None, limit: int = 200) -> int:
    """Retry what a crash or a failure left pending (called by the due-items sweep)."""
    now = now or timezone.now()
    due = ApprovalNotification.objects.filter(status=ApprovalNotification.Status.PENDING).filter(
        Q(next_attempt_at__lte=now) | Q(next_attempt_at__isnull=True, created_at__lte=now - RETRY_AFTER)
    )
    return notifications_deliver(list(due.order_by("id").values_list("id", flat=True)[:limit]), now=now)
