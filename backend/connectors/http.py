"""The engine's HttpClient port on the server: the core's guarded client plus connector lookup.

Connector secrets are decrypted here, turned into auth headers, and handed to the core client
only for the connector's ``allowed_hosts``; they never enter workflow config, step inputs,
outputs, errors or events (the client also redacts them from what comes back).

Private destinations (an intranet API, a local stub) must be allowed by the admin:
``BATON_HTTP_ALLOW_PRIVATE_HOSTS`` (setting or environment variable, a comma-separated list of
host names, IP literals or CIDR networks).
"""

from __future__ import annotations

import base64
import os
from collections.abc import Iterable

from django.conf import settings

from backend.connectors.models import Connector
from backend.connectors.schemas import OAUTH2
from orchestrator_core.errors import ErrorCode, NodeError
from orchestrator_core.net import ConnectorTarget, EgressPolicy, SafeHttpClient
from orchestrator_core.net.oauth2 import OAuth2ClientCredentials
from orchestrator_core.net.policy import Resolver
from orchestrator_core.ports import HttpRequest, HttpResponse


def allowed_private_hosts() -> list[str]:
    value = getattr(settings, "BATON_HTTP_ALLOW_PRIVATE_HOSTS", None)
    if value is None:
        value = os.environ.get("BATON_HTTP_ALLOW_PRIVATE_HOSTS", "")
    if isinstance(value, str):
        value = value.split(",")
    return [str(v).strip() for v in value if str(v).strip()]


def connector_target(name: str) -> ConnectorTarget:
    """The ``http`` connector called ``name``, with its auth headers built from the secret.

    Raises:
        NodeError: NODE_CONFIG_INVALID when there is no such ``http`` connector.
    """
    connector = Connector.objects.filter(name=name, kind=Connector.Kind.HTTP).first()
    if connector is None:
        raise NodeError(f"No HTTP connector named {name[:100]!r}.", code=ErrorCode.NODE_CONFIG_INVALID)
    config = connector.config or {}
    secret = connector.secret or {}
    auth = str(config.get("auth_type") or "none")
    headers: dict[str, str] = {}
    secrets: list[str] = [str(v) for v in secret.values() if v]
    if auth == "bearer" and secret.get("token"):
        headers["Authorization"] = f"Bearer {secret['token']}"
    elif auth == "basic" and secret.get("password"):
        pair = f"{config.get('username', '')}:{secret['password']}".encode()
        headers["Authorization"] = "Basic " + base64.b64encode(pair).decode()
    elif auth == "header" and config.get("header_name") and secret.get("header_value"):
        headers[str(config["header_name"])] = str(secret["header_value"])
    oauth2: OAuth2ClientCredentials | None = None
    if auth == OAUTH2:
        oauth2 = OAuth2ClientCredentials(
            token_url=str(config.get("token_url") or ""),
            client_id=str(config.get("client_id") or ""),
            client_secret=str(secret.get("client_secret") or ""),
            scope=str(config.get("scope") or ""),
            audience=str(config.get("audience") or ""),
            client_auth=str(config.get("client_auth") or "basic"),
        )
        secrets.extend(oauth2.secret_forms())
    secrets.extend(v for v in headers.values() if v)
    return ConnectorTarget(
        name=connector.name,
        base_url=str(config.get("base_url") or ""),
        allowed_hosts=tuple(str(h) for h in (connector.allowed_hosts or [])),
        auth_headers=headers,
        secrets=tuple(sorted(set(secrets), key=len, reverse=True)),
        oauth2=oauth2,
    )


class DjangoHttpClient:
    """`HttpClient` for the runner: SSRF policy from settings, connectors from the database."""

    def __init__(self, *, allow_hosts: Iterable[str] | None = None, resolver: Resolver | None = None) -> None:
        hosts = allowed_private_hosts() if allow_hosts is None else list(allow_hosts)
        self._client = SafeHttpClient(
            policy=EgressPolicy.build(hosts, resolver=resolver), connectors=connector_target
        )

    def request(self, request: HttpRequest) -> HttpResponse:
        return self._client.request(request)

    def fetch_token(self, name: str) -> None:
        """Fetch a fresh OAuth2 token for connector ``name`` (cached, never returned)."""
        self._client.fetch_token(name)
