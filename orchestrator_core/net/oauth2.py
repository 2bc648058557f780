"""OAuth2 client credentials (RFC 6749 §4.4) for ``http`` connectors.

`SafeHttpClient` asks `TokenCache.token` for an access token before a connector request: the
token endpoint is called through the same guarded client (SSRF policy + the connector's allowed
hosts), the answer is cached per connector until shortly before ``expires_in``, and a 401 from
the API drops the cached token so that one fresh token is fetched and the request retried once.

The client secret and every issued token are secrets: they are redacted from responses, errors
and messages like the connector's other secret values, and never logged.
"""

from __future__ import annotations

import base64
import hashlib
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING
from urllib.parse import quote, urlencode

from orchestrator_core.errors import ErrorCode, NodeError

if TYPE_CHECKING:
    from orchestrator_core.ports import HttpResponse

DEFAULT_EXPIRES_IN = 300.0
"""Seconds a token without ``expires_in`` is kept."""
MAX_SKEW = 60.0
"""A token is refreshed this long (at most; 10% of its lifetime for short ones) before it expires."""
TOKEN_TIMEOUT_SECONDS = 15.0
MAX_TOKEN_RESPONSE_BYTES = 64 * 1024


@dataclass(frozen=True)
class OAuth2ClientCredentials:
    """What a connector needs to get a token (built server-side; the secret never leaves)."""

    token_url: str
    client_id: str
    client_secret: str = field(repr=False)
    scope: str = ""
    audience: str = ""
    client_auth: str = "basic"
    """``basic``: HTTP basic with id and secret (RFC 6749 §2.3.1); ``post``: both in the form body."""

    def cache_key(self, connector: str) -> str:
        """Changes with any setting, so a new secret or scope never reuses an old token."""
        raw = json.dumps(
            [connector, self.token_url, self.client_id, self.client_secret, self.scope, self.audience]
        )
        return hashlib.sha256(raw.encode()).hexdigest()

    def basic_auth(self) -> str:
        pair = f"{quote(self.client_id, safe='')}:{quote(self.client_secret, safe='')}"
        return "Basic " + base64.b64encode(pair.encode()).decode()

    def form(self) -> bytes:
        data = {"grant_type": "client_credentials"}
        if self.scope:
            data["scope"] = self.scope
        if self.audience:
            data["audience"] = self.audience
        if self.client_auth == "post":
            data["client_id"] = self.client_id
            data["client_secret"] = self.client_secret
        return urlencode(data).encode()

    def secret_forms(self) -> tuple[str, ...]:
        """The client secret and the encodings it travels in (basic header, form body)."""
        forms = {
            self.client_secret,
            quote(self.client_secret, safe=""),
            self.basic_auth().removeprefix("Basic "),
            self.basic_auth(),
        }
        return tuple(f for f in forms if f)


@dataclass
class _Token:
    value: str
    refresh_at: float
    connector: str


Fetch = Callable[[OAuth2ClientCredentials], "HttpResponse"]
"""Sends the token request (POST ``token_url`` with the form) through the guarded client."""


def _auth_failed(message: str, **details: object) -> NodeError:
    return NodeError(message, code=ErrorCode.CONNECTOR_AUTH_FAILED, details=dict(details))


def parse_token_response(response: HttpResponse) -> tuple[str, float]:
    """``(access_token, expires_in)`` from a token endpoint's answer, else CONNECTOR_AUTH_FAILED.

    The message names the OAuth2 ``error`` code (e.g. ``invalid_client``), never the body.
    """
    try:
        data = json.loads(response.body.decode("utf-8", errors="replace") or "null")
    except ValueError:
        data = None
    if response.status != 200:
        error = data.get("error") if isinstance(data, dict) else None
        code = str(error)[:60] if isinstance(error, str) and error.isprintable() else ""
        return_text = f" ({code})" if code else ""
        raise _auth_failed(
            f"The OAuth2 token endpoint refused the client: HTTP {response.status}{return_text}.",
            status=response.status,
            error=code or None,
        )
    token = data.get("access_token") if isinstance(data, dict) else None
    if not isinstance(token, str) or not token:
        raise _auth_failed("The OAuth2 token endpoint answered without an access_token.", status=200)
    raw = data.get("expires_in") if isinstance(data, dict) else None
    try:
        expires_in = float(raw) if raw is not None else DEFAULT_EXPIRES_IN
    except (TypeError, ValueError):
        expires_in = DEFAULT_EXPIRES_IN
    return token, max(0.0, expires_in)


class TokenCache:
    """Access tokens per connector, refreshed shortly before they expire (thread-safe).

    Args:
        clock: seconds, monotonic (tests pass a fake one).
    """

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._tokens: dict[str, _Token] = {}
        self._lock = threading.Lock()
        self._fetch_locks: dict[str, threading.Lock] = {}
        self.fetches = 0
        """Tokens fetched so far (for tests and metrics)."""

    def token(
        self, connector: str, creds: OAuth2ClientCredentials, fetch: Fetch, *, fresh: bool = False
    ) -> str:
        """A valid token for ``connector``; fetched (once, even with concurrent callers) when
        there is none, it is about to expire, or ``fresh`` is set."""
        key = creds.cache_key(connector)
        with self._lock:
            cached = self._tokens.get(key)
            if cached is not None and not fresh and self._clock() < cached.refresh_at:
                return cached.value
            fetch_lock = self._fetch_locks.setdefault(key, threading.Lock())
        with fetch_lock:
            with self._lock:
                again = self._tokens.get(key)
                # Another thread fetched while this one waited: use its token.
                if again is not None and again is not cached and self._clock() < again.refresh_at:
                    return again.value
            started = self._clock()
            value, expires_in = parse_token_response(fetch(creds))
            skew = min(MAX_SKEW, expires_in * 0.1)
            with self._lock:
                self.fetches += 1
                self._tokens[key] = _Token(value, started + expires_in - skew, connector)
            return value

    def invalidate(self, connector: str, creds: OAuth2ClientCredentials, token: str) -> None:
        """Drop ``token`` (the API answered 401); a newer token stays."""
        key = creds.cache_key(connector)
        with self._lock:
            cached = self._tokens.get(key)
            if cached is not None and cached.value == token:
                del self._tokens[key]

    def forget(self, connector: str) -> None:
        """Drop every token of ``connector`` (changed or deleted; other processes' caches key on
        the settings, so they never reuse a token for changed settings either)."""
        with self._lock:
            for key in [k for k, t in self._tokens.items() if t.connector == connector]:
                del self._tokens[key]

    def clear(self) -> None:
        with self._lock:
            self._tokens.clear()
            self.fetches = 0


TOKENS = TokenCache()
"""The process-wide cache `SafeHttpClient` uses by default."""
