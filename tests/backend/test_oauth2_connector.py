"""HTTP connectors with OAuth2 client credentials: token fetched through the SSRF guard, cached,
refreshed before expiry and once on a 401; the client secret and tokens never come back."""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

import pytest

from backend.connectors.http import DjangoHttpClient
from backend.connectors.models import Connector
from orchestrator_core.errors import ErrorCode, NodeError
from orchestrator_core.net import oauth2
from orchestrator_core.ports import HttpRequest

pytestmark = pytest.mark.django_db

CLIENT_SECRET = "canary-oauth-secret-4Kd9"
TOKEN_PREFIX = "canary-access-token-"


class Auth:
    """The stub authorization server + API: what they saw and which tokens the API accepts."""

    def __init__(self) -> None:
        self.token_requests: list[dict[str, Any]] = []
        self.api_requests: list[str] = []  # Authorization header per API request
        self.issued: list[str] = []
        self.accepted: set[str] = set()
        self.expires_in: int | None = 3600
        self.always_401 = False

    def issue(self) -> str:
        token = f"{TOKEN_PREFIX}{len(self.issued) + 1}"
        self.issued.append(token)
        self.accepted.add(token)
        return token


def _server(handler: type[BaseHTTPRequestHandler]) -> ThreadingHTTPServer:
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


@pytest.fixture
def auth() -> Iterator[tuple[Auth, str, str]]:
    """``(state, token_url, api_base)``: a token endpoint and an API, both on 127.0.0.1."""
    state = Auth()

    class TokenHandler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def do_POST(self) -> None:  # noqa: N802
            length = int(self.headers.get("Content-Length") or 0)
            form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
            header = self.headers.get("Authorization") or ""
            state.token_requests.append({"path": self.path, "form": form, "authorization": header})
            secret = form.get("client_secret")
            if header.startswith("Basic "):
                secret = base64.b64decode(header[6:]).decode().partition(":")[2]
            if secret != CLIENT_SECRET:
                # Echoes what it got: Baton must not pass this on.
                body = {"error": "invalid_client", "error_description": f"bad {header} {form}"}
                status = 401
            else:
                body = {"access_token": state.issue(), "token_type": "Bearer"}
                if state.expires_in is not None:
                    body["expires_in"] = state.expires_in
                status = 200
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    class ApiHandler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def _handle(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            if length:
                self.rfile.read(length)
            header = self.headers.get("Authorization") or ""
            state.api_requests.append(header)
            ok = not state.always_401 and header.removeprefix("Bearer ") in state.accepted
            data = json.dumps({"path": self.path, "you_sent": header}).encode()  # echoes the token
            self.send_response(200 if ok else 401)
            self.send_header("Content-Type", "application/json")
            self.send_header("X-Echo", header)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = _handle  # noqa: N815

    token_server, api_server = _server(TokenHandler), _server(ApiHandler)
    yield (
        state,
        f"http://127.0.0.1:{token_server.server_address[1]}/oauth/token",
        f"http://127.0.0.1:{api_server.server_address[1]}/v1",
    )
    for server in (token_server, api_server):
        server.shutdown()
        server.server_close()


@pytest.fixture(autouse=True)
def _private_hosts_and_fresh_cache(settings: Any) -> Iterator[None]:
    settings.BATON_HTTP_ALLOW_PRIVATE_HOSTS = ["127.0.0.1"]
    oauth2.TOKENS.clear()
    yield
    oauth2.TOKENS.clear()


def _connector(token_url: str, api: str, *, secret: str = CLIENT_SECRET, **config: Any) -> Connector:
    return Connector.objects.create(
        name="crm",
        kind="http",
        config={
            "base_url": api,
            "auth_type": "oauth2_client_credentials",
            "token_url": token_url,
            "client_id": "baton-app",
            **config,
        },
        secret={"client_secret": secret},
        allowed_hosts=["127.0.0.1"],
    )


def _get(path: str = "/items", method: str = "GET") -> Any:
    return DjangoHttpClient().request(
        HttpRequest(method=method, url=path, connector="crm", body=b"{}" if method != "GET" else None)
    )


def _assert_clean(text: str, state: Auth) -> None:
    for secret in [CLIENT_SECRET, *state.issued]:
        assert secret not in text
    assert base64.b64encode(f"baton-app:{CLIENT_SECRET}".encode()).decode() not in text


def test_token_is_fetched_once_and_reused(auth):
    state, token_url, api = auth
    _connector(token_url, api, scope="read write", audience="https://api.example")
    first, second = _get("/a"), _get("/b")
    assert (first.status, second.status) == (200, 200)
    assert len(state.token_requests) == 1
    request = state.token_requests[0]
    assert request["path"] == "/oauth/token"
    assert request["form"] == {
        "grant_type": "client_credentials",
        "scope": "read write",
        "audience": "https://api.example",
    }
    assert (
        request["authorization"]
        == "Basic " + base64.b64encode(f"baton-app:{CLIENT_SECRET}".encode()).decode()
    )
    assert state.api_requests == [f"Bearer {TOKEN_PREFIX}1"] * 2
    # The API echoed the token in its body and a header: both redacted.
    for response in (first, second):
        _assert_clean(response.body.decode() + json.dumps(dict(response.headers)), state)
        assert "Bearer [redacted]" in response.body.decode()


def test_changing_the_connector_drops_its_cached_token(auth, client_for):
    state, token_url, api = auth
    connector = _connector(token_url, api)
    assert _get().status == 200
    response = client_for("admin").patch(
        f"/api/connectors/{connector.id}/", {"config": {**connector.config, "scope": "more"}}, format="json"
    )
    assert response.status_code == 200, response.content
    assert _get().status == 200
    assert len(state.token_requests) == 2
    assert state.token_requests[1]["form"]["scope"] == "more"


def test_client_secret_post_sends_the_credentials_in_the_form(auth):
    state, token_url, api = auth
    _connector(token_url, api, client_auth="post")
    assert _get().status == 200
    request = state.token_requests[0]
    assert request["authorization"] == ""
    assert request["form"]["client_id"] == "baton-app"
    assert request["form"]["client_secret"] == CLIENT_SECRET


def test_an_expiring_token_is_fetched_again(auth, monkeypatch):
    state, token_url, api = auth
    now = [1000.0]
    monkeypatch.setattr(oauth2.TOKENS, "_clock", lambda: now[0])
    state.expires_in = 600  # refreshed 60 s (at most 10%) before it expires
    _connector(token_url, api)
    assert _get().status == 200
    now[0] += 600 - 61
    assert _get().status == 200
    assert len(state.token_requests) == 1
    now[0] += 2  # inside the refresh margin
    assert _get().status == 200
    assert len(state.token_requests) == 2
    assert state.api_requests == [f"Bearer {TOKEN_PREFIX}1"] * 2 + [f"Bearer {TOKEN_PREFIX}2"]


def test_a_401_fetches_one_new_token_and_retries_once(auth):
    state, token_url, api = auth
    _connector(token_url, api)
    assert _get().status == 200
    state.accepted.clear()  # the server revoked token 1
    response = _get(method="POST")
    assert response.status == 200
    assert len(state.token_requests) == 2
    assert state.api_requests == [
        f"Bearer {TOKEN_PREFIX}1",
        f"Bearer {TOKEN_PREFIX}1",
        f"Bearer {TOKEN_PREFIX}2",
    ]
    # Next request: the new token is cached.
    assert _get().status == 200
    assert len(state.token_requests) == 2


def test_a_401_with_a_fresh_token_is_returned_not_retried_forever(auth):
    state, token_url, api = auth
    state.always_401 = True
    _connector(token_url, api)
    response = _get()
    assert response.status == 401
    assert len(state.api_requests) == 2
    assert len(state.token_requests) == 2
    _assert_clean(response.body.decode() + json.dumps(dict(response.headers)), state)


def test_a_bad_client_secret_is_connector_auth_failed_without_echo(auth):
    state, token_url, api = auth
    _connector(token_url, api, secret="wrong-" + CLIENT_SECRET)
    with pytest.raises(NodeError) as info:
        _get()
    assert info.value.code == ErrorCode.CONNECTOR_AUTH_FAILED
    text = json.dumps(info.value.as_dict())
    assert "invalid_client" in text
    assert "HTTP 401" in text
    assert CLIENT_SECRET not in text
    assert "wrong-" not in text
    assert state.api_requests == []  # the API was never called


def test_the_token_url_must_be_an_allowed_host(auth, client_for):
    _state, token_url, api = auth
    admin = client_for("admin")
    body = {
        "name": "crm",
        "kind": "http",
        "config": {
            "base_url": api,
            "auth_type": "oauth2_client_credentials",
            "token_url": "https://login.example.com/token",
            "client_id": "app",
        },
        "secret": {"client_secret": CLIENT_SECRET},
        "allowed_hosts": ["127.0.0.1"],
    }
    response = admin.post("/api/connectors/", body, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "CONNECTOR_CONFIG_INVALID"
    assert {
        "field": "config.token_url",
        "message": "its host must be one of allowed_hosts",
    } in response.json()["error"]["details"]
    assert CLIENT_SECRET not in response.content.decode()
    # Missing pieces are named.
    body["config"] = {"base_url": api, "auth_type": "oauth2_client_credentials"}
    body["secret"] = {}
    fields = {
        p["field"] for p in admin.post("/api/connectors/", body, format="json").json()["error"]["details"]
    }
    assert fields == {"config.token_url", "config.client_id", "secret.client_secret"}
    # Derived hosts: the API's and the token endpoint's.
    body["config"] = {
        "base_url": "https://api.example.com",
        "auth_type": "oauth2_client_credentials",
        "token_url": "https://login.example.com/token",
        "client_id": "app",
    }
    body["secret"] = {"client_secret": CLIENT_SECRET}
    body["allowed_hosts"] = []
    created = admin.post("/api/connectors/", body, format="json")
    assert created.status_code == 201, created.content
    assert created.json()["allowed_hosts"] == ["api.example.com", "login.example.com"]
    assert created.json()["secret_fields"] == ["client_secret"]
    assert CLIENT_SECRET not in created.content.decode()


def test_a_stored_token_url_outside_the_allowed_hosts_is_refused(auth):
    state, _token_url, api = auth
    connector = _connector("http://localhost:9/token", api)
    assert connector.allowed_hosts == ["127.0.0.1"]
    with pytest.raises(NodeError) as info:
        _get()
    assert info.value.code == ErrorCode.DESTINATION_NOT_ALLOWED
    assert state.api_requests == []


def test_connection_test_fetches_a_token(auth, client_for):
    state, token_url, api = auth
    admin = client_for("admin")
    good = _connector(token_url, api)
    result = admin.post(f"/api/connectors/{good.id}/test/", format="json").json()
    assert result["ok"] is True, result
    assert result["details"]["oauth2_token"] == "fetched"
    assert len(state.token_requests) == 1
    _assert_clean(json.dumps(result), state)

    Connector.objects.filter(id=good.id).update(secret={"client_secret": "nope-" + CLIENT_SECRET})
    good.refresh_from_db()
    result = admin.post(f"/api/connectors/{good.id}/test/", format="json").json()
    assert result["ok"] is False
    assert result["details"]["code"] == "CONNECTOR_AUTH_FAILED"
    assert "invalid_client" in result["message"]
    _assert_clean(json.dumps(result), state)
    assert "nope-" not in json.dumps(result)


def test_kinds_endpoint_serves_the_oauth2_fields(client_for):
    kinds = {k["kind"]: k for k in client_for("admin").get("/api/connectors/kinds/").json()}
    assert set(kinds) == {"smtp", "http", "model", "slack"}
    config = kinds["http"]["config_schema"]["properties"]
    assert "oauth2_client_credentials" in config["auth_type"]["enum"]
    assert config["token_url"]["ui"]["when"] == {
        "field": "auth_type",
        "values": ["oauth2_client_credentials"],
    }
    assert {"token_url", "client_id", "scope", "audience"} <= set(config)
    assert "client_secret" in kinds["http"]["secret_schema"]["properties"]
    assert kinds["smtp"]["secret_schema"]["properties"]["password"]["title"] == "SMTP password"
    assert client_for("vic").get("/api/connectors/kinds/").status_code == 403


def test_the_frontend_fixture_matches_the_served_schemas():
    """frontend/src/admin/ConnectorsPage.test.tsx builds its forms from this fixture; regenerate with
    ``python -c 'import json; from backend.connectors.schemas import kinds_schema;
    print(json.dumps(kinds_schema(), indent=2, sort_keys=True))'``."""
    from pathlib import Path

    from backend.connectors.schemas import kinds_schema

    path = Path(__file__).parents[2] / "frontend/src/admin/ConnectorKinds.fixture.json"
    assert json.loads(path.read_text()) == kinds_schema()
