"""What each connector kind accepts: non-secret ``config`` and write-only ``secret``, as pydantic models.

Error messages name fields, never values: a secret must not come back in a 400 either.
"""

from __future__ import annotations

import re
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

_HOST_RE = re.compile(
    r"^(\*\.)?(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$"
)
_HEADER_RE = re.compile(r"^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,100}$")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


def _check_url(value: str, *, https_only: bool = False) -> str:
    parts = urlsplit(value)
    schemes = {"https"} if https_only else {"http", "https"}
    if parts.scheme not in schemes or not parts.hostname:
        raise ValueError(f"must be an absolute {' or '.join(sorted(schemes))} URL")
    if parts.username or parts.password:
        raise ValueError("must not contain credentials; put them in the secret")
    return value


def url_host(value: str) -> str:
    return (urlsplit(value).hostname or "").lower()


def _check_host(value: str) -> str:
    if not _HOST_RE.match(value.lower()):
        raise ValueError("must be a host name")
    return value.lower()


def _when(field: str, *values: str) -> dict[str, Any]:
    """UI hint: the form shows the field only when config ``field`` has one of ``values``."""
    return {"ui": {"when": {"field": field, "values": list(values)}}}


OAUTH2 = "oauth2_client_credentials"


class SmtpConfig(_Strict):
    host: str = Field(min_length=1, max_length=253, title="SMTP host")
    port: int = Field(default=587, ge=1, le=65535, title="Port", description="587 (STARTTLS) or 465 (TLS).")
    username: str = Field(default="", max_length=254, title="Username")
    use_tls: bool = Field(default=True, title="Use TLS")
    from_email: str = Field(
        default="",
        max_length=254,
        title="From address",
        description="Default sender of e-mails sent with it.",
    )

    @field_validator("host")
    @classmethod
    def _host(cls, value: str) -> str:
        return _check_host(value)


class SmtpSecret(_Strict):
    password: str = Field(default="", max_length=1024, title="SMTP password")


class HttpConfig(_Strict):
    base_url: str = Field(
        min_length=1, max_length=2048, title="Base URL", description="e.g. https://api.example.com"
    )
    auth_type: Literal["none", "bearer", "basic", "header", "oauth2_client_credentials"] = Field(
        default="none", title="Authentication"
    )
    username: str = Field(
        default="", max_length=254, title="Username", json_schema_extra=_when("auth_type", "basic")
    )
    header_name: str = Field(
        default="", max_length=100, title="Header name", json_schema_extra=_when("auth_type", "header")
    )
    token_url: str = Field(
        default="",
        max_length=2048,
        title="Token URL",
        description="OAuth2 token endpoint; its host must be an allowed host.",
        json_schema_extra=_when("auth_type", OAUTH2),
    )
    client_id: str = Field(
        default="", max_length=500, title="Client ID", json_schema_extra=_when("auth_type", OAUTH2)
    )
    scope: str = Field(
        default="",
        max_length=1000,
        title="Scope",
        description="Optional, space separated.",
        json_schema_extra=_when("auth_type", OAUTH2),
    )
    audience: str = Field(
        default="",
        max_length=1000,
        title="Audience",
        description="Optional (Auth0-style token endpoints).",
        json_schema_extra=_when("auth_type", OAUTH2),
    )
    client_auth: Literal["basic", "post"] = Field(
        default="basic",
        title="Client authentication",
        description="basic: HTTP basic header; post: client_id and client_secret in the form body.",
        json_schema_extra=_when("auth_type", OAUTH2),
    )

    @field_validator("base_url")
    @classmethod
    def _url(cls, value: str) -> str:
        return _check_url(value)

    @field_validator("token_url")
    @classmethod
    def _token_url(cls, value: str) -> str:
        return _check_url(value) if value else value

    @field_validator("header_name")
    @classmethod
    def _header(cls, value: str) -> str:
        if value and not _HEADER_RE.match(value):
            raise ValueError("must be an HTTP header name")
        return value


class HttpSecret(_Strict):
    token: str = Field(
        default="", max_length=4096, title="Bearer token", json_schema_extra=_when("auth_type", "bearer")
    )
    password: str = Field(
        default="", max_length=1024, title="Password", json_schema_extra=_when("auth_type", "basic")
    )
    header_value: str = Field(
        default="", max_length=4096, title="Header value", json_schema_extra=_when("auth_type", "header")
    )
    client_secret: str = Field(
        default="", max_length=4096, title="Client secret", json_schema_extra=_when("auth_type", OAUTH2)
    )


class ModelEntry(_Strict):
    """One model of a provider, with optional routing facts (a plain name means all defaults)."""

    name: str = Field(min_length=1, max_length=200, description="What nodes write in 'model'.")
    litellm_model: str = Field(
        default="", max_length=300, description="Default: '<provider>/<name>' (openai for openai_compatible)."
    )
    tier: int = Field(default=1, ge=1, le=3)
    context_window: int | None = Field(default=None, ge=1)
    input_cost_per_token: float | None = Field(default=None, ge=0, description="USD; default: litellm's map.")
    output_cost_per_token: float | None = Field(default=None, ge=0)


class ModelConfig(_Strict):
    provider: Literal["openai", "anthropic", "azure", "ollama", "openai_compatible"] = Field(title="Provider")
    base_url: str = Field(
        default="",
        max_length=2048,
        title="Base URL",
        description="Required for azure, ollama and openai_compatible.",
    )
    models: list[str | ModelEntry] = Field(
        min_length=1,
        max_length=50,
        title="Models",
        description="Model names, one per line.",
        json_schema_extra={"ui": {"widget": "string-list"}},
    )

    @field_validator("base_url")
    @classmethod
    def _url(cls, value: str) -> str:
        return _check_url(value) if value else value

    @field_validator("models")
    @classmethod
    def _models(cls, value: list[str | ModelEntry]) -> list[str | ModelEntry]:
        if any(isinstance(m, str) and (not m.strip() or len(m) > 200) for m in value):
            raise ValueError("every model name must be 1-200 characters")
        cleaned = [m.strip() if isinstance(m, str) else m for m in value]
        names = [m if isinstance(m, str) else m.name for m in cleaned]
        if len(set(names)) != len(names):
            raise ValueError("model names must be unique")
        if {"demo", "auto"} & set(names):
            raise ValueError("'demo' and 'auto' are reserved model names")
        return cleaned


class ModelSecret(_Strict):
    api_key: str = Field(default="", max_length=4096, title="API key")


class SlackConfig(_Strict):
    channel: str = Field(default="", max_length=80, title="Channel", description="Optional, e.g. #alerts")


class SlackSecret(_Strict):
    webhook_url: str = Field(
        min_length=1, max_length=2048, title="Webhook URL", description="https://hooks.slack.com/…"
    )

    @field_validator("webhook_url")
    @classmethod
    def _url(cls, value: str) -> str:
        return _check_url(value, https_only=True)


KINDS: dict[str, tuple[type[_Strict], type[_Strict]]] = {
    "smtp": (SmtpConfig, SmtpSecret),
    "http": (HttpConfig, HttpSecret),
    "model": (ModelConfig, ModelSecret),
    "slack": (SlackConfig, SlackSecret),
}

# Providers that need a base_url / an api_key.
_NEEDS_BASE_URL = {"azure", "ollama", "openai_compatible"}
_NEEDS_API_KEY = {"openai", "anthropic", "azure"}


class ConnectorInvalid(Exception):
    def __init__(self, problems: list[dict[str, str]]):
        super().__init__("connector settings are not valid")
        self.problems = problems


def _problems(prefix: str, exc: ValidationError) -> list[dict[str, str]]:
    # loc and msg only: pydantic's "input" would echo the submitted (maybe secret) value.
    return [
        {"field": ".".join([prefix, *(str(p) for p in err["loc"])]), "message": err["msg"]}
        for err in exc.errors(include_url=False, include_input=False, include_context=False)
    ]


def _cross_checks(kind: str, config: BaseModel, secret: BaseModel) -> list[dict[str, str]]:
    c, s = config.model_dump(), secret.model_dump()
    out: list[dict[str, str]] = []

    def need(field: str, message: str) -> None:
        out.append({"field": field, "message": message})

    if kind == "http":
        auth = c["auth_type"]
        if auth == "bearer" and not s["token"]:
            need("secret.token", "is required for auth_type bearer")
        if auth == "basic":
            if not c["username"]:
                need("config.username", "is required for auth_type basic")
            if not s["password"]:
                need("secret.password", "is required for auth_type basic")
        if auth == "header":
            if not c["header_name"]:
                need("config.header_name", "is required for auth_type header")
            if not s["header_value"]:
                need("secret.header_value", "is required for auth_type header")
        if auth == OAUTH2:
            for name in ("token_url", "client_id"):
                if not c[name]:
                    need(f"config.{name}", f"is required for auth_type {OAUTH2}")
            if not s["client_secret"]:
                need("secret.client_secret", f"is required for auth_type {OAUTH2}")
    elif kind == "model":
        if c["provider"] in _NEEDS_BASE_URL and not c["base_url"]:
            need("config.base_url", f"is required for provider {c['provider']}")
        if c["provider"] in _NEEDS_API_KEY and not s["api_key"]:
            need("secret.api_key", f"is required for provider {c['provider']}")
    elif kind == "smtp" and c["username"] and not s["password"]:
        need("secret.password", "is required when username is set")
    return out


def connector_settings_validate(
    *, kind: str, config: Any, secret: Any, allowed_hosts: Any
) -> tuple[dict[str, Any], dict[str, Any], list[str]]:
    """Normalized ``(config, secret, allowed_hosts)``, or ``ConnectorInvalid`` with field problems.

    Empty secret fields are dropped. An empty ``allowed_hosts`` is filled with the host the
    settings name (SMTP host, base URL or webhook URL).
    """
    if kind not in KINDS:
        raise ConnectorInvalid([{"field": "kind", "message": f"must be one of {', '.join(KINDS)}"}])
    config_model, secret_model = KINDS[kind]
    problems: list[dict[str, str]] = []
    parsed: dict[str, BaseModel] = {}
    for prefix, model, value in (("config", config_model, config), ("secret", secret_model, secret)):
        if not isinstance(value, dict):
            problems.append({"field": prefix, "message": "must be an object"})
            continue
        try:
            parsed[prefix] = model.model_validate(value)
        except ValidationError as exc:
            problems.extend(_problems(prefix, exc))
    hosts: list[str] = []
    if not isinstance(allowed_hosts, list) or len(allowed_hosts) > 50:
        problems.append({"field": "allowed_hosts", "message": "must be a list of at most 50 host names"})
    else:
        for i, host in enumerate(allowed_hosts):
            try:
                hosts.append(_check_host(str(host).strip()))
            except ValueError as exc:
                problems.append({"field": f"allowed_hosts[{i}]", "message": str(exc)})
    if not problems:
        problems = _cross_checks(kind, parsed["config"], parsed["secret"])
    if problems:
        raise ConnectorInvalid(problems)
    clean_config = parsed["config"].model_dump()
    clean_secret = {k: v for k, v in parsed["secret"].model_dump().items() if v}
    token_host = url_host(clean_config["token_url"]) if clean_config.get("auth_type") == OAUTH2 else ""
    if not hosts:
        named = clean_config.get("host") or url_host(clean_config.get("base_url") or "")
        named = named or url_host(clean_secret.get("webhook_url") or "")
        hosts = [h for h in (named, token_host) if h]
    elif token_host and not host_matches(token_host, hosts):
        raise ConnectorInvalid(
            [{"field": "config.token_url", "message": "its host must be one of allowed_hosts"}]
        )
    return clean_config, clean_secret, sorted(set(hosts))


def host_matches(host: str, patterns: list[str]) -> bool:
    """``host`` is one of ``patterns`` (``*.example.com`` matches sub-domains)."""
    host = host.lower()
    for pattern in patterns:
        if pattern.startswith("*."):
            if host.endswith(pattern[1:]) and len(host) > len(pattern) - 1:
                return True
        elif host == pattern:
            return True
    return False


def kinds_schema() -> list[dict[str, Any]]:
    """Per kind, the JSON Schemas of ``config`` and ``secret`` (forms are generated from them).

    ``ui.when`` on a property: shown only when a config field has one of the listed values.
    """
    labels = {"smtp": "SMTP", "http": "HTTP API", "model": "Model provider", "slack": "Slack webhook"}
    return [
        {
            "kind": kind,
            "title": labels[kind],
            "config_schema": config_model.model_json_schema(),
            "secret_schema": secret_model.model_json_schema(),
        }
        for kind, (config_model, secret_model) in KINDS.items()
    ]
