"""`SafeHttpClient`: an `HttpClient` that applies the egress policy and connector binding.

Every connection goes through `_GuardedBackend`, which resolves the host with the policy's
resolver, checks every address and connects to a checked address (TLS still verifies and
sends SNI for the URL's host name: httpcore takes those from the URL, not the socket). Each
redirect hop (at most ``max_redirects``) is checked again before it is requested. Responses are
streamed and cut at ``max_response_bytes``. Connector secrets (auth header values) are added
only here, only for the connector's allowed hosts, and redacted from whatever comes back.
"""

from __future__ import annotations

import dataclasses
import ssl
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import httpcore
import httpx

from orchestrator_core.errors import ErrorCode, NodeError
from orchestrator_core.net.oauth2 import (
    MAX_TOKEN_RESPONSE_BYTES,
    TOKEN_TIMEOUT_SECONDS,
    TOKENS,
    OAuth2ClientCredentials,
    TokenCache,
)
from orchestrator_core.net.policy import DestinationNotAllowed, EgressPolicy, normalize_host
from orchestrator_core.ports import HttpRequest, HttpResponse

FORBIDDEN_HEADERS = frozenset(
    {
        "authorization",
        "proxy-authorization",
        "cookie",
        "host",
        "content-length",
        "transfer-encoding",
        "connection",
        "upgrade",
        "te",
    }
)
"""Request headers a workflow may not set: auth comes from a connector, framing from the client."""

CANCEL_CHECK_SECONDS = 0.25
"""A blocking read waits at most this long before looking at the request's cancel event."""

REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
REDACTED = "[redacted]"
MAX_REDIRECTS = 5


@dataclass(frozen=True)
class ConnectorTarget:
    """An ``http`` connector as the client needs it (built server-side, secrets included)."""

    name: str
    base_url: str
    allowed_hosts: tuple[str, ...]
    """Host names (``*.example.com`` wildcards) the credentials may be sent to; nothing else is reached."""
    auth_headers: Mapping[str, str] = field(default_factory=dict, repr=False)
    secrets: tuple[str, ...] = field(default=(), repr=False)
    """Values redacted from responses and errors (tokens, passwords, header values)."""
    oauth2: OAuth2ClientCredentials | None = field(default=None, repr=False)
    """OAuth2 client credentials: a bearer token is fetched (and cached) for each request."""

    def host_allowed(self, host: str) -> bool:
        name = normalize_host(host)
        for entry in self.allowed_hosts:
            pattern = normalize_host(entry)
            if pattern.startswith("*."):
                if name.endswith(pattern[1:]) and len(name) > len(pattern) - 1:
                    return True
            elif name == pattern:
                return True
        return False


ConnectorLookup = Callable[[str], ConnectorTarget]
"""``name -> ConnectorTarget``; raises NodeError when there is no such ``http`` connector."""


def join_url(base_url: str, url: str) -> str:
    """``url`` when it is absolute, else ``base_url`` + ``/`` + ``url`` (no ``..`` magic)."""
    if "://" in url.split("?", 1)[0]:
        return url
    if not url:
        return base_url
    return base_url.rstrip("/") + "/" + url.lstrip("/")


def _cancelled_error() -> NodeError:
    return NodeError("The run was cancelled: the HTTP request was aborted.", code=ErrorCode.RUN_CANCELLED)


class _CancellableStream(httpcore.NetworkStream):
    """Reads in short slices, checking the cancel event between them (a socket read that timed
    out has consumed nothing, so the next slice goes on where it stopped)."""

    def __init__(self, inner: httpcore.NetworkStream, cancel: threading.Event) -> None:
        self._inner = inner
        self._cancel = cancel

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            if self._cancel.is_set():
                raise _cancelled_error()
            left = CANCEL_CHECK_SECONDS if deadline is None else deadline - time.monotonic()
            if left <= 0:
                raise httpcore.ReadTimeout("timed out")
            try:
                return self._inner.read(max_bytes, min(left, CANCEL_CHECK_SECONDS))
            except httpcore.ReadTimeout:
                if deadline is not None and time.monotonic() >= deadline:
                    raise

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        if self._cancel.is_set():
            raise _cancelled_error()
        self._inner.write(buffer, timeout)

    def close(self) -> None:
        self._inner.close()

    def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.NetworkStream:
        return _CancellableStream(self._inner.start_tls(ssl_context, server_hostname, timeout), self._cancel)

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


class _GuardedBackend(httpcore.NetworkBackend):
    """Resolves and checks at connect time, then connects to the checked IP (pinned).

    With a cancel event, the streams it opens abort their reads once it is set.
    """

    def __init__(
        self,
        policy: EgressPolicy,
        inner: httpcore.NetworkBackend | None = None,
        cancel: threading.Event | None = None,
    ) -> None:
        self._policy = policy
        self._inner = inner or httpcore.SyncBackend()
        self._cancel = cancel

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        if self._cancel is not None and self._cancel.is_set():
            raise _cancelled_error()
        addresses = self._policy.resolve(host, port)
        last: Exception | None = None
        for ip in addresses:
            try:
                stream = self._inner.connect_tcp(
                    str(ip), port, timeout=timeout, local_address=local_address, socket_options=socket_options
                )
                return stream if self._cancel is None else _CancellableStream(stream, self._cancel)
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                last = exc
        assert last is not None
        raise last

    def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[Any] | None = None
    ) -> httpcore.NetworkStream:
        raise DestinationNotAllowed(
            "Destination not allowed: unix sockets.", details={"reason": "unix socket"}
        )

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)


@lru_cache(maxsize=1)
def _ssl_context() -> ssl.SSLContext:
    return httpx.create_ssl_context(trust_env=False)


class _GuardedTransport(httpx.HTTPTransport):
    def __init__(self, policy: EgressPolicy, cancel: threading.Event | None = None) -> None:
        super().__init__(trust_env=False)
        self._pool = httpcore.ConnectionPool(
            ssl_context=_ssl_context(),
            max_connections=4,
            network_backend=_GuardedBackend(policy, cancel=cancel),
        )


def _redact_error(exc: NodeError, secrets: tuple[str, ...]) -> None:
    exc.message = _redact_text(exc.message, secrets)
    exc.args = (exc.message,)
    if isinstance(exc.details, Mapping):
        exc.details = {
            k: _redact_text(v, secrets) if isinstance(v, str) else v for k, v in exc.details.items()
        }


def _redact_text(text: str, secrets: tuple[str, ...]) -> str:
    for secret in secrets:
        if secret:
            text = text.replace(secret, REDACTED)
    return text


def _redact_bytes(data: bytes, secrets: tuple[str, ...]) -> bytes:
    for secret in secrets:
        if secret:
            data = data.replace(secret.encode(), REDACTED.encode())
    return data


class SafeHttpClient:
    """An `HttpClient` behind the egress policy.

    Args:
        policy: the SSRF policy (allowlist, resolver).
        connectors: looks up ``http`` connectors by name; None = requests naming one fail.
        max_redirects: hops followed (each re-checked); more is an HTTP_ERROR.
        tokens: the OAuth2 token cache (default: the process-wide one).
    """

    def __init__(
        self,
        *,
        policy: EgressPolicy | None = None,
        connectors: ConnectorLookup | None = None,
        max_redirects: int = MAX_REDIRECTS,
        tokens: TokenCache | None = None,
    ) -> None:
        self.policy = policy or EgressPolicy()
        self._connectors = connectors
        self.max_redirects = max_redirects
        self.tokens = TOKENS if tokens is None else tokens

    def _connector(self, name: str) -> ConnectorTarget:
        if self._connectors is None:
            raise NodeError("Connectors are not available here.", code=ErrorCode.NODE_CONFIG_INVALID)
        return self._connectors(name)

    def request(self, request: HttpRequest) -> HttpResponse:
        connector = self._connector(request.connector) if request.connector else None
        secrets = list(connector.secrets) if connector else []
        try:
            if connector is not None and connector.oauth2 is not None:
                return self._send_oauth2(request, connector, secrets)
            return self._send(request, connector)
        except NodeError as exc:
            _redact_error(exc, tuple(sorted(secrets, key=len, reverse=True)))
            raise

    def fetch_token(self, name: str) -> None:
        """Fetch a fresh OAuth2 token for connector ``name`` ("test connection"); the token is
        cached, never returned. Raises NodeError (CONNECTOR_AUTH_FAILED, DESTINATION_NOT_ALLOWED...)."""
        connector = self._connector(name)
        if connector.oauth2 is None:
            raise NodeError(
                f"Connector {name[:100]!r} does not use OAuth2.", code=ErrorCode.NODE_CONFIG_INVALID
            )
        try:
            self.tokens.token(
                connector.name, connector.oauth2, self._token_fetcher(connector, None), fresh=True
            )
        except NodeError as exc:
            _redact_error(exc, connector.secrets)
            raise

    def _token_fetcher(
        self, connector: ConnectorTarget, cancel: Any
    ) -> Callable[[OAuth2ClientCredentials], HttpResponse]:
        def fetch(creds: OAuth2ClientCredentials) -> HttpResponse:
            # The token endpoint is reached like the API: policy + the connector's allowed hosts.
            target = ConnectorTarget(
                name=connector.name,
                base_url="",
                allowed_hosts=connector.allowed_hosts,
                auth_headers={"Authorization": creds.basic_auth()} if creds.client_auth == "basic" else {},
                secrets=connector.secrets,
            )
            request = HttpRequest(
                method="POST",
                url=creds.token_url,
                headers={"Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json"},
                body=creds.form(),
                timeout_seconds=TOKEN_TIMEOUT_SECONDS,
                max_response_bytes=MAX_TOKEN_RESPONSE_BYTES,
                cancel=cancel,
            )
            try:
                return self._send(request, target)
            except NodeError as exc:
                if exc.code == ErrorCode.HTTP_ERROR:  # unreachable, timed out, too many redirects
                    exc.message = f"The OAuth2 token endpoint could not be reached: {exc.message}"
                    exc.args = (exc.message,)
                raise

        return fetch

    def _send_oauth2(
        self, request: HttpRequest, connector: ConnectorTarget, secrets: list[str]
    ) -> HttpResponse:
        """Send with a bearer token; on 401 drop it, get one new token and retry once."""
        creds = connector.oauth2
        assert creds is not None
        fetch = self._token_fetcher(connector, request.cancel)
        response: HttpResponse | None = None
        for attempt in range(2):
            token = self.tokens.token(connector.name, creds, fetch)
            secrets.append(token)
            target = dataclasses.replace(
                connector,
                auth_headers={"Authorization": f"Bearer {token}"},
                secrets=tuple(sorted({*connector.secrets, token}, key=len, reverse=True)),
            )
            response = self._send(request, target)
            if response.status != 401 or attempt == 1:
                break
            self.tokens.invalidate(connector.name, creds, token)
        assert response is not None
        return response

    def _check_hop(self, url: httpx.URL, connector: ConnectorTarget | None) -> Mapping[str, str]:
        """Check one hop before it is requested; the auth headers it may carry.

        The transport checks the resolved address again at connect time (and connects to it).
        """
        target = self.policy.check_url(str(url))
        auth: Mapping[str, str] = {}
        if connector is not None:
            if not connector.host_allowed(target.host):
                raise DestinationNotAllowed(
                    f"Destination not allowed: connector {connector.name!r} may only reach "
                    f"{', '.join(connector.allowed_hosts) or 'no host'}.",
                    details={"reason": "connector host", "host": target.host[:253]},
                )
            auth = connector.auth_headers
        self.policy.resolve(target.host, target.port)
        return auth

    def _send(self, request: HttpRequest, connector: ConnectorTarget | None) -> HttpResponse:
        method = request.method.upper()
        secrets = connector.secrets if connector else ()
        raw_url = join_url(connector.base_url, request.url) if connector else request.url
        try:
            url = httpx.URL(raw_url)
            if request.query:
                url = url.copy_merge_params(dict(request.query))
        except (httpx.InvalidURL, ValueError, TypeError) as exc:
            raise DestinationNotAllowed("The URL is not valid.", details={"reason": "invalid url"}) from exc
        headers = {k: v for k, v in request.headers.items() if k.lower() not in FORBIDDEN_HEADERS}
        if not any(k.lower() == "accept-encoding" for k in headers):
            headers["Accept-Encoding"] = "identity"  # the size limit then bounds what is read
        if request.idempotency_key:
            headers["Idempotency-Key"] = request.idempotency_key
        body = request.body
        deadline = time.monotonic() + request.timeout_seconds
        first_auth = self._check_hop(url, connector)  # before anything is built or opened
        with httpx.Client(
            transport=_GuardedTransport(self.policy, request.cancel),
            trust_env=False,
            follow_redirects=False,
            timeout=httpx.Timeout(request.timeout_seconds),
        ) as client:
            for hop in range(self.max_redirects + 1):
                send_headers = {**headers, **(first_auth if hop == 0 else self._check_hop(url, connector))}
                try:
                    built = client.build_request(method, url, headers=send_headers, content=body)
                    response = client.send(built, stream=True)
                except httpx.TimeoutException as exc:
                    raise _timeout(request.timeout_seconds) from exc
                except httpx.HTTPError as exc:
                    raise NodeError(
                        f"HTTP request failed: {_redact_text(str(exc), secrets)[:300] or type(exc).__name__}",
                        code=ErrorCode.HTTP_ERROR,
                        details={"reason": type(exc).__name__},
                    ) from exc
                try:
                    location = response.headers.get("location")
                    if response.status_code in REDIRECT_STATUSES and location:
                        try:
                            url = response.url.join(location)
                        except (httpx.InvalidURL, ValueError) as exc:
                            raise DestinationNotAllowed(
                                "The redirect location is not a valid URL.", details={"reason": "invalid url"}
                            ) from exc
                        if response.status_code == 303 or (
                            response.status_code in (301, 302) and method not in ("GET", "HEAD")
                        ):
                            method, body = "GET", None
                            headers = {k: v for k, v in headers.items() if k.lower() != "content-type"}
                        continue
                    data = _read_limited(
                        response, request.max_response_bytes, deadline, request.timeout_seconds
                    )
                    resp_headers: dict[str, str] = {}
                    for name, value in response.headers.multi_items():
                        key = name.lower()
                        clean = _redact_text(value, secrets)
                        resp_headers[key] = f"{resp_headers[key]}, {clean}" if key in resp_headers else clean
                    return HttpResponse(
                        status=response.status_code,
                        headers=resp_headers,
                        body=_redact_bytes(data, secrets),
                        url=_redact_text(str(response.url), secrets),
                    )
                finally:
                    response.close()
        raise NodeError(
            f"Too many redirects (more than {self.max_redirects}).",
            code=ErrorCode.HTTP_ERROR,
            details={"reason": "redirects"},
        )


def _timeout(seconds: float) -> NodeError:
    return NodeError(
        f"The HTTP request timed out after {seconds:g} s.",
        code=ErrorCode.HTTP_ERROR,
        details={"timeout": True, "timeout_seconds": seconds},
    )


def _read_limited(response: httpx.Response, limit: int, deadline: float, timeout: float) -> bytes:
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise _too_large(limit)
    chunks: list[bytes] = []
    size = 0
    try:
        for chunk in response.iter_bytes(chunk_size=65536):
            size += len(chunk)
            if size > limit:
                raise _too_large(limit)
            chunks.append(chunk)
            if time.monotonic() > deadline:
                raise _timeout(timeout)
    except httpx.TimeoutException as exc:
        raise _timeout(timeout) from exc
    except httpx.HTTPError as exc:
        raise NodeError(
            "The HTTP response could not be read.",
            code=ErrorCode.HTTP_ERROR,
            details={"reason": type(exc).__name__},
        ) from exc
    return b"".join(chunks)


def _too_large(limit: int) -> NodeError:
    return NodeError(
        f"The HTTP response is larger than {limit} bytes.",
        code=ErrorCode.HTTP_RESPONSE_TOO_LARGE,
        details={"max_response_bytes": limit},
    )
