"""``email.send``: send one e-mail, exactly once per run (through the effect ledger)."""

from __future__ import annotations

import re
from collections.abc import Mapping

from pydantic import BaseModel, ConfigDict, Field

from orchestrator_core.errors import ErrorCode, NodeError
from orchestrator_core.nodes.base import NodeContext, NodeResult, NodeType, Port
from orchestrator_core.ports import EmailMessage

EMAIL_RE = re.compile(r"^[^@\s<>,;:\"()\[\]]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9-]+)+$")
MAX_EMAIL_CHARS = 254


class EmailSendConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    to: str = Field(
        title="To",
        min_length=1,
        description="Recipient address; a template like {{ trigger.from }}.",
        json_schema_extra={"ui": {"template": True}},
    )
    subject: str = Field(
        title="Subject",
        min_length=1,
        max_length=2000,
        description="A template.",
        json_schema_extra={"ui": {"template": True}},
    )
    body: str = Field(
        title="Body",
        min_length=1,
        description="A template, e.g. {{ steps.review.values.reply }}.",
        json_schema_extra={"ui": {"widget": "textarea", "template": True}},
    )
    connector: str | None = Field(
        None,
        title="Connector",
        max_length=100,
        description="An SMTP connector to send through (its server, login and from address); "
        "empty = the server's default mail transport.",
        json_schema_extra={"ui": {"widget": "connector-picker", "kind": "smtp"}},
    )


def valid_email(address: str) -> bool:
    return len(address) <= MAX_EMAIL_CHARS and EMAIL_RE.match(address) is not None


def execute(ctx: NodeContext, config: EmailSendConfig, /) -> NodeResult:
    to = ctx.render(config.to, field="to").strip()
    # A subject is one header line: newlines would allow header injection.
    subject = " ".join(ctx.render(config.subject, field="subject").split())
    body = ctx.render(config.body, field="body")
    if not valid_email(to):
        raise NodeError(f"{to[:100]!r} is not a valid e-mail address.", code=ErrorCode.INPUT_INVALID)
    result = ctx.send_email(
        EmailMessage(to=to, subject=subject, body=body, connector=config.connector or None)
    )
    message_id = result.get("message_id") if isinstance(result, Mapping) else None
    return NodeResult(output={"to": to, "subject": subject, "message_id": message_id})


EMAIL_SEND = NodeType(
    key="email.send",
    version=1,
    title="Send e-mail",
    category="Actions",
    icon="mail",
    description="Send an e-mail (once per run, even across crashes and retries).",
    config_model=EmailSendConfig,
    execute=execute,
    inputs=(Port("in"),),
    outputs=(Port("out"),),
    side_effect=True,
)
