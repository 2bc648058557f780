"""``http.request``: call an HTTP API, through the SSRF guard and (optionally) a connector.

Auth never lives in the workflow: a connector (``kind=http``) holds the base URL, the
credentials and the hosts they may be sent to; the server resolves it by name. Non-GET
requests go through the effect ledger and carry ``Idempotency-Key: <run>:<node>:0``.
"""

from __future__ import annotations

import json
import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from orchestrator_core.errors import ErrorCode, NodeError
from orchestrator_core.nodes.base import NodeContext, NodeResult, NodeType, Port
from orchestrator_core.ports import JSON, HttpRequest, HttpResponse

FORBIDDEN_CONFIG_HEADERS = frozenset(
    {
        "authorization",
        "proxy-authorization",
        "cookie",
        "host",
        "content-length",
        "transfer-encoding",
        "connection",
        "idempotency-key",
    }
)
SAFE_RESPONSE_HEADERS = (
    "content-type",
    "content-length",
    "content-language",
    "etag",
    "last-modified",
    "location",
    "retry-after",
    "date",
    "cache-control",
    "link",
    "x-request-id",
    "x-ratelimit-limit",
    "x-ratelimit-remaining",
    "x-ratelimit-reset",
)
MAX_TEXT_CHARS = 256 * 1024
"""A text body longer than this is cut in the output (``body_truncated: true``)."""
MIB = 1024 * 1024
_HEADER_RE = re.compile(r"^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,100}$")


class HttpRequestConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    connector: str | None = Field(
        None,
        title="Connector",
        max_length=100,
        description="An HTTP connector: its base URL, credentials and allowed hosts apply.",
        json_schema_extra={"ui": {"widget": "connector-picker", "kind": "http"}},
    )
    method: Literal["GET", "POST", "PUT", "PATCH", "DELETE"] = Field(
        "GET", title="Method", description="GET is read-only; the others are sent once per run."
    )
    url: str = Field(
        title="URL",
        min_length=1,
        max_length=2048,
        description="A template; relative to the connector's base URL when a connector is set.",
        json_schema_extra={"ui": {"template": True}},
    )
    headers: dict[str, str] = Field(
        {},
        title="Headers",
        description="Templates. No Authorization, Cookie or Host: credentials come from the connector.",
    )
    query: dict[str, str] = Field({}, title="Query parameters", description="Templates.")
    body: JSON = Field(
        None,
        title="Body",
        description="A template string, or JSON whose string values are templates (sent as JSON).",
        json_schema_extra={"ui": {"widget": "textarea"}},
    )
    timeout_seconds: float = Field(
        30, ge=1, le=120, title="Timeout (s)", description="For the whole request, 1-120 seconds."
    )
    max_response_bytes: int = Field(
        MIB,
        ge=1,
        le=10 * MIB,
        title="Max response size (bytes)",
        description="A larger response fails with HTTP_RESPONSE_TOO_LARGE (at most 10 MiB).",
    )
    expect_json: bool = Field(False, title="Expect JSON", description="Fail when the response is not JSON.")

    @field_validator("headers")
    @classmethod
    def _headers(cls, value: dict[str, str]) -> dict[str, str]:
        if len(value) > 50:
            raise ValueError("at most 50 headers")
        for name in value:
            if not _HEADER_RE.match(name):
                raise ValueError(f"{name[:100]!r} is not an HTTP header name")
            if name.lower() in FORBIDDEN_CONFIG_HEADERS:
                raise ValueError(f"{name} may not be set here; credentials come from a connector")
        return value

    @field_validator("query")
    @classmethod
    def _query(cls, value: dict[str, str]) -> dict[str, str]:
        if len(value) > 100:
            raise ValueError("at most 100 query parameters")
        return value


def _render_json(ctx: NodeContext, value: JSON, path: str) -> JSON:
    if isinstance(value, str):
        return ctx.render(value, field=path)
    if isinstance(value, list):
        return [_render_json(ctx, v, f"{path}[{i}]") for i, v in enumerate(value)]
    if isinstance(value, dict):
        return {str(k): _render_json(ctx, v, f"{path}.{k}") for k, v in value.items()}
    return value


def _parse_body(response: HttpResponse, expect_json: bool) -> tuple[JSON, bool]:
    content_type = response.headers.get("content-type", "").lower()
    text = response.body.decode("utf-8", errors="replace")
    if expect_json or "json" in content_type:
        try:
            return json.loads(text) if text.strip() else None, False
        except ValueError as exc:
            if expect_json and response.status < 400:
                raise NodeError(
                    "The response is not JSON.",
                    code=ErrorCode.HTTP_ERROR,
                    details={"status": response.status, "reason": "invalid json", "permanent": True},
                ) from exc
    if len(text) > MAX_TEXT_CHARS:
        return text[:MAX_TEXT_CHARS], True
    return text, False


def execute(ctx: NodeContext, config: HttpRequestConfig, /) -> NodeResult:
    send = getattr(ctx, "http", None)
    if send is None:
        raise NodeError("HTTP requests are not available in this runtime.", code=ErrorCode.NODE_FAILED)
    url = ctx.render(config.url, field="url").strip()
    headers = {name: ctx.render(v, field=f"headers.{name}") for name, v in config.headers.items()}
    for name, value in headers.items():
        if "\r" in value or "\n" in value:
            raise NodeError(f"Header {name} contains a line break.", code=ErrorCode.INPUT_INVALID)
    query = {name: ctx.render(v, field=f"query.{name}") for name, v in config.query.items()}
    content: bytes | None = None
    if config.body is not None and config.method != "GET":
        if isinstance(config.body, str):
            content = ctx.render(config.body, field="body").encode()
        else:
            content = json.dumps(_render_json(ctx, config.body, "body")).encode()
            if not any(k.lower() == "content-type" for k in headers):
                headers["Content-Type"] = "application/json"
    request = HttpRequest(
        method=config.method,
        url=url,
        connector=config.connector or None,
        headers=headers,
        query=query,
        body=content,
        timeout_seconds=config.timeout_seconds,
        max_response_bytes=config.max_response_bytes,
    )
    response: HttpResponse = send(request)
    body, truncated = _parse_body(response, config.expect_json)
    if response.status >= 400:
        snippet = body if isinstance(body, str) else json.dumps(body)
        details: dict[str, Any] = {"status": response.status, "body": snippet[:500]}
        if response.status < 500 and response.status != 429:
            details["permanent"] = True
        raise NodeError(
            f"The server answered HTTP {response.status}.", code=ErrorCode.HTTP_ERROR, details=details
        )
    output: dict[str, JSON] = {
        "status": response.status,
        "headers": {k: response.headers[k] for k in SAFE_RESPONSE_HEADERS if k in response.headers},
        "body": body,
        "url": response.url,
    }
    if truncated:
        output["body_truncated"] = True
    return NodeResult(output=output)


HTTP_REQUEST = NodeType(
    key="http.request",
    version=1,
    title="HTTP request",
    category="Actions",
    icon="globe",
    description=(
        "Call an HTTP API. Private and internal addresses are refused; credentials come from a "
        "connector. Non-GET requests are sent once per run (with an Idempotency-Key)."
    ),
    config_model=HttpRequestConfig,
    execute=execute,
    inputs=(Port("in"),),
    outputs=(Port("out"),),
    side_effect=True,
)
