"""The engine's Mailer port: the outbox (always) plus SMTP in production."""

from __future__ import annotations

import logging
import smtplib
import socket
from typing import Any

from django.conf import settings
from django.core.mail import EmailMessage as DjangoEmail

from backend.connectors.models import OutboxMessage
from orchestrator_core.errors import ErrorCode, NodeError
from orchestrator_core.ports import EmailMessage

logger = logging.getLogger(__name__)

NOT_SENT_ERRORS: tuple[type[BaseException], ...] = (
    smtplib.SMTPResponseException,  # the server answered with an error code (connect, auth, data...)
    smtplib.SMTPRecipientsRefused,
    smtplib.SMTPNotSupportedError,
    ConnectionRefusedError,
    socket.gaierror,
)
"""Failures after which the message certainly did not leave: a retry may send it.

A dropped connection or a timeout (``SMTPServerDisconnected``, ``TimeoutError``) stays unknown:
the server may have accepted the message just before.
"""


def smtp_not_sent(exc: BaseException) -> bool:
    """True when ``exc`` (raised by an SMTP send) proves the message was not sent."""
    return isinstance(exc, NOT_SENT_ERRORS)


class OutboxMailer:
    def send(self, message: EmailMessage, *, idempotency_key: str, run_id: str, node_id: str) -> Any:
        existing = OutboxMessage.objects.filter(idempotency_key=idempotency_key).first()
        if existing is not None:  # the same effect key never sends twice
            return {"message_id": f"outbox-{existing.id}", "transport": existing.transport}
        transport = settings.BATON_MAIL_TRANSPORT
        sender = message.sender or settings.DEFAULT_FROM_EMAIL
        if transport == "smtp":
            try:
                DjangoEmail(
                    subject=message.subject,
                    body=message.body,
                    from_email=sender,
                    to=[message.to],
                    headers={"X-Baton-Idempotency-Key": idempotency_key},
                ).send(fail_silently=False)
            except Exception as exc:
                logger.warning("SMTP send failed for run %s node %s: %s", run_id, node_id, type(exc).__name__)
                raise NodeError(
                    f"The mail server refused the message ({type(exc).__name__}).",
                    code=ErrorCode.EMAIL_FAILED,
                    details={"sent": False if smtp_not_sent(exc) else None, "reason": type(exc).__name__},
                ) from exc
        row = OutboxMessage.objects.create(
            run_id=int(run_id),
            node_id=node_id,
            idempotency_key=idempotency_key,
            sender=sender,
            to=message.to,
            subject=message.subject,
            body=message.body,
            transport=transport,
        )
        return {"message_id": f"outbox-{row.id}", "transport": transport}
