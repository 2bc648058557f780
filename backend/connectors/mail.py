"""The engine's Mailer port: the outbox (always) plus SMTP in production or through a connector.

A message that names an ``smtp`` connector is delivered with the connector's host, port, TLS,
username, password (secret) and from address, to an address the egress policy checked (the same
private-host rules as HTTP connectors) on one of the connector's allowed hosts.
"""

from __future__ import annotations

import email.utils
import logging
import smtplib
import socket
import ssl
from email.message import EmailMessage as MimeMessage
from typing import Any

from django.conf import settings
from django.core.mail import EmailMessage as DjangoEmail

from backend.connectors.http import allowed_private_hosts
from backend.connectors.models import Connector, OutboxMessage
from backend.connectors.schemas import host_matches
from orchestrator_core.errors import ErrorCode, NodeError
from orchestrator_core.net import EgressPolicy
from orchestrator_core.net.policy import DestinationNotAllowed
from orchestrator_core.ports import EmailMessage

SMTP_TIMEOUT_SECONDS = 30.0

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


class PinnedSMTP(smtplib.SMTP):
    """Connects to the address the egress policy checked (no second DNS lookup); TLS still
    verifies the host name."""

    def __init__(self, address: str, **kwargs: Any) -> None:
        self._address = address
        super().__init__(**kwargs)

    def _get_socket(self, host: str, port: int, timeout: float) -> socket.socket:
        return socket.create_connection((self._address, port), timeout)


class PinnedSMTPSSL(smtplib.SMTP_SSL):
    def __init__(self, address: str, **kwargs: Any) -> None:
        self._address = address
        super().__init__(**kwargs)

    def _get_socket(self, host: str, port: int, timeout: float) -> socket.socket:
        raw = socket.create_connection((self._address, port), timeout)
        return self.context.wrap_socket(raw, server_hostname=host)


def _not_sent(message: str, *, code: ErrorCode = ErrorCode.EMAIL_FAILED, reason: str) -> NodeError:
    return NodeError(message, code=code, details={"sent": False, "reason": reason})


def smtp_connector(name: str) -> Connector:
    """The ``smtp`` connector called ``name``; else NODE_CONFIG_INVALID (nothing was sent)."""
    connector = Connector.objects.filter(name=name, kind=Connector.Kind.SMTP).first()
    if connector is None:
        raise _not_sent(
            f"No SMTP connector named {name[:100]!r}.", code=ErrorCode.NODE_CONFIG_INVALID, reason="connector"
        )
    return connector


def connector_sender(connector: Connector) -> str:
    return str((connector.config or {}).get("from_email") or "")


def send_via_connector(
    connector: Connector, *, sender: str, message: EmailMessage, headers: dict[str, str]
) -> None:
    """Deliver one message with the connector's settings. Raises what smtplib / the policy raise."""
    config = connector.config or {}
    host = str(config.get("host") or "")
    port = int(config.get("port") or 587)
    if not host_matches(host, [str(h) for h in connector.allowed_hosts or []]):
        raise DestinationNotAllowed(
            f"Destination not allowed: connector {connector.name!r} may not reach {host[:253]}.",
            details={"reason": "connector host", "host": host[:253]},
        )
    address = str(EgressPolicy.build(allowed_private_hosts()).resolve(host, port)[0])
    context = ssl.create_default_context()
    server: smtplib.SMTP
    if port == 465:
        server = PinnedSMTPSSL(address, timeout=SMTP_TIMEOUT_SECONDS, context=context)
    else:
        server = PinnedSMTP(address, timeout=SMTP_TIMEOUT_SECONDS)
    mime = MimeMessage()
    mime["From"] = sender
    mime["To"] = message.to
    mime["Subject"] = message.subject
    mime["Date"] = email.utils.formatdate(localtime=False)
    mime["Message-ID"] = email.utils.make_msgid(domain=(sender.rpartition("@")[2] or None))
    for name, value in headers.items():
        mime[name] = value
    mime.set_content(message.body)
    password = str((connector.secret or {}).get("password") or "")
    try:
        server.connect(host, port)
        server.ehlo()
        if bool(config.get("use_tls", True)) and port != 465:
            server.starttls(context=context)
            server.ehlo()
        if password:
            server.login(str(config.get("username") or ""), password)
        server.send_message(mime, from_addr=sender, to_addrs=[message.to])
        try:
            server.quit()
        except (smtplib.SMTPException, OSError):
            pass  # the message was accepted; a failed goodbye changes nothing
    finally:
        server.close()


class OutboxMailer:
    def send(self, message: EmailMessage, *, idempotency_key: str, run_id: str, node_id: str) -> Any:
        existing = OutboxMessage.objects.filter(idempotency_key=idempotency_key).first()
        if existing is not None:  # the same effect key never sends twice
            return {"message_id": f"outbox-{existing.id}", "transport": existing.transport}
        transport = settings.BATON_MAIL_TRANSPORT
        sender = message.sender or settings.DEFAULT_FROM_EMAIL
        connector: Connector | None = None
        if message.connector:
            connector = smtp_connector(message.connector)
            transport = "connector"
            sender = message.sender or connector_sender(connector) or settings.DEFAULT_FROM_EMAIL
            try:
                send_via_connector(
                    connector,
                    sender=sender,
                    message=message,
                    headers={"X-Baton-Idempotency-Key": idempotency_key},
                )
            except DestinationNotAllowed as exc:
                details = exc.details if isinstance(exc.details, dict) else {}
                exc.details = {**details, "sent": False}
                raise
            except NodeError as exc:  # DNS failures from the policy: nothing left
                raise _not_sent(exc.message, code=exc.code, reason="resolve") from exc
            except Exception as exc:
                # Only the exception's type: a server may echo the credentials in its reply.
                logger.warning(
                    "SMTP send through connector %s failed for run %s node %s: %s",
                    connector.name,
                    run_id,
                    node_id,
                    type(exc).__name__,
                )
                raise NodeError(
                    f"The mail server of connector {connector.name!r} refused the message "
                    f"({type(exc).__name__}).",
                    code=ErrorCode.EMAIL_FAILED,
                    details={"sent": False if smtp_not_sent(exc) else None, "reason": type(exc).__name__},
                ) from exc
        elif transport == "smtp":
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
            connector=connector.name if connector else "",
        )
        out = {"message_id": f"outbox-{row.id}", "transport": transport}
        if connector is not None:
            out["connector"] = connector.name
        return out
