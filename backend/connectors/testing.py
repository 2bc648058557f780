"""``Test connection`` for a connector: one cheap, read-only check per kind.

Every check returns a result (``ok``, ``message``, ``duration_ms``, ``details``) and never raises:
a refused destination, a timeout or a wrong password is ``ok: false`` with a message. Secret
values are redacted from every message and detail. Nothing is sent: the SMTP check stops after
login, the Slack check only validates the webhook's host.
"""

from __future__ import annotations

import base64
import smtplib
import ssl
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from backend.accounts.models import User
from backend.audit.services import audit_record
from backend.connectors.http import DjangoHttpClient, allowed_private_hosts
from backend.connectors.mail import PinnedSMTP, PinnedSMTPSSL
from backend.connectors.models import Connector
from backend.connectors.schemas import OAUTH2
from orchestrator_core.errors import ErrorCode, NodeError
from orchestrator_core.net import EgressPolicy
from orchestrator_core.ports import HttpRequest, LLMRequest

TIMEOUT_SECONDS = 10.0
SLACK_HOST = "hooks.slack.com"
REDACTED = "[redacted]"


@dataclass
class CheckResult:
    ok: bool
    message: str
    details: dict[str, Any] = field(default_factory=dict)


def _node_error(exc: NodeError) -> CheckResult:
    return CheckResult(False, f"{exc.code}: {exc.message}", {"code": str(exc.code)})


def _check_http(connector: Connector) -> CheckResult:
    client = DjangoHttpClient()
    details: dict[str, Any] = {}
    if (connector.config or {}).get("auth_type") == OAUTH2:
        client.fetch_token(connector.name)  # CONNECTOR_AUTH_FAILED when the client is refused
        details["oauth2_token"] = "fetched"  # noqa: S105 - a status word, not the token
    request = HttpRequest(
        method="GET",
        url="",
        connector=connector.name,
        timeout_seconds=TIMEOUT_SECONDS,
        max_response_bytes=64 * 1024,
    )
    response = client.request(request)
    ok = response.status < 500
    token_note = "Got an OAuth2 token; the" if details else "The"
    return CheckResult(
        ok,
        f"{token_note} server answered HTTP {response.status}.",
        {**details, "status": response.status, "url": response.url},
    )


def _check_smtp(connector: Connector) -> CheckResult:
    config = connector.config or {}
    host = str(config.get("host") or "")
    port = int(config.get("port") or 587)
    use_tls = bool(config.get("use_tls", True))
    password = str((connector.secret or {}).get("password") or "")
    policy = EgressPolicy.build(allowed_private_hosts())
    addresses = policy.resolve(host, port)  # DestinationNotAllowed / NodeError(dns)
    address = str(addresses[0])
    context = ssl.create_default_context()
    implicit_tls = port == 465
    server: smtplib.SMTP
    if implicit_tls:
        server = PinnedSMTPSSL(address, timeout=TIMEOUT_SECONDS, context=context)
    else:
        server = PinnedSMTP(address, timeout=TIMEOUT_SECONDS)
    steps = ["connect"]
    try:
        code, _ = server.connect(host, port)
        if code != 220:
            return CheckResult(False, f"The mail server greeted with {code}.", {"steps": steps})
        server.ehlo()
        steps.append("ehlo")
        if use_tls and not implicit_tls:
            server.starttls(context=context)
            server.ehlo()
            steps.append("starttls")
        if password:
            server.login(str(config.get("username") or ""), password)
            steps.append("login")
        server.quit()
        steps.append("quit")
    finally:
        server.close()
    return CheckResult(True, f"Connected to {host}:{port}.", {"steps": steps, "address": address})


def _check_model(connector: Connector) -> CheckResult:
    from backend.common.engine import llm_client, model_catalog

    models = (connector.config or {}).get("models") or []
    if not models:
        return CheckResult(False, "The connector lists no models.")
    first = models[0]
    name = str(first if isinstance(first, str) else first.get("name", ""))
    entry = next((m for m in model_catalog() if m.spec.name == name), None)
    if entry is None or entry.connector != connector.name:
        return CheckResult(
            False, f"Model {name!r} is defined elsewhere first; rename it to test it.", {"model": name}
        )
    reply = llm_client().complete(
        LLMRequest(model=name, messages=[{"role": "user", "content": "Reply with OK."}], max_tokens=5)
    )
    return CheckResult(
        True,
        f"Model {reply.model!r} answered.",
        {
            "model": reply.model,
            "prompt_tokens": reply.prompt_tokens,
            "completion_tokens": reply.completion_tokens,
        },
    )


def _check_slack(connector: Connector) -> CheckResult:
    url = str((connector.secret or {}).get("webhook_url") or "")
    if not url:
        return CheckResult(False, "No webhook URL is stored.")
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if parts.scheme != "https" or host != SLACK_HOST:
        return CheckResult(False, f"The webhook URL must be an https URL on {SLACK_HOST}.", {"host": host})
    return CheckResult(True, "The webhook URL looks valid (nothing was posted).", {"host": host})


_CHECKS = {
    Connector.Kind.HTTP: _check_http,
    Connector.Kind.SMTP: _check_smtp,
    Connector.Kind.MODEL: _check_model,
    Connector.Kind.SLACK: _check_slack,
}


def _redact(value: Any, secrets: list[str]) -> Any:
    if isinstance(value, str):
        for secret in secrets:
            value = value.replace(secret, REDACTED)
        return value
    if isinstance(value, dict):
        return {k: _redact(v, secrets) for k, v in value.items()}
    if isinstance(value, list):
        return [_redact(v, secrets) for v in value]
    return value


def _secret_forms(connector: Connector) -> list[str]:
    """The secret values and the base64 forms they travel in (HTTP basic, SMTP AUTH PLAIN and
    LOGIN): a server that echoes what it received must not get them into a message. Longest first."""
    values = [str(v) for v in (connector.secret or {}).values() if v]
    username = str((connector.config or {}).get("username") or "")
    forms = set(values)
    for value in values:
        for raw in (value, f"{username}:{value}", f"\0{username}\0{value}"):
            forms.add(base64.b64encode(raw.encode()).decode())
    return sorted(forms, key=len, reverse=True)


def connector_test(*, connector: Connector, user: User, request: Any = None) -> dict[str, Any]:
    """Run the check for the connector's kind; ``{ok, message, duration_ms, details}``. Never raises
    for a failed check (the caller checked that ``user`` is an admin)."""
    started = time.monotonic()
    check = _CHECKS.get(Connector.Kind(connector.kind)) if connector.kind in Connector.Kind.values else None
    try:
        if check is None:
            result = CheckResult(False, f"Connectors of kind {connector.kind!r} cannot be tested.")
        else:
            result = check(connector)
    except NodeError as exc:
        result = _node_error(exc)
    except (OSError, smtplib.SMTPException, ssl.SSLError) as exc:
        text = str(exc)[:300]
        result = CheckResult(
            False,
            f"{type(exc).__name__}: {text}" if text else type(exc).__name__,
            {"code": type(exc).__name__},
        )
    except Exception as exc:  # a check must never turn into a 500
        result = CheckResult(
            False, f"The check failed ({type(exc).__name__}).", {"code": ErrorCode.NODE_FAILED}
        )
    secrets = _secret_forms(connector)
    out = {
        "ok": result.ok,
        "message": _redact(result.message, secrets),
        "duration_ms": int((time.monotonic() - started) * 1000),
        "details": _redact(result.details, secrets),
    }
    audit_record(
        actor=user,
        action="connector.test",
        request=request,
        target=connector,
        data={
            "name": connector.name,
            "kind": connector.kind,
            "ok": out["ok"],
            "message": out["message"][:300],
        },
    )
    return out
