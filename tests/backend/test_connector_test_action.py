"""``POST /api/connectors/{id}/test/``: one read-only check per kind, always a 200 for admins."""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from backend.audit.models import AuditEvent
from orchestrator_core.testing.llm_stub import StubServer

pytestmark = pytest.mark.django_db

CANARY = "canary-5f1e-connector-secret"


class _HttpHandler(BaseHTTPRequestHandler):
    def log_message(self, *args: Any) -> None:
        pass

    def do_GET(self) -> None:  # noqa: N802
        body = f"auth={self.headers.get('Authorization')}".encode()  # echoes the secret
        self.send_response(204 if self.path == "/" else 503)
        self.send_header("Content-Length", "0")
        self.end_headers()
        del body


@pytest.fixture
def http_stub() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _HttpHandler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture
def smtp_stub() -> Iterator[tuple[int, list[str]]]:
    """Just enough SMTP: a 220 greeting, 250 to EHLO/HELO/NOOP, 221 to QUIT, 502 otherwise."""
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(5)
    seen: list[str] = []

    def serve() -> None:
        try:
            conn, _ = listener.accept()
        except OSError:
            return
        with conn, conn.makefile("rb") as lines, contextlib.suppress(OSError):  # client may just hang up
            conn.sendall(b"220 stub ESMTP\r\n")
            for raw in lines:
                verb = raw.decode().strip().split(" ")[0].upper()
                seen.append(verb)
                if verb in ("EHLO", "HELO", "NOOP"):
                    conn.sendall(b"250 stub\r\n")
                elif verb == "QUIT":
                    conn.sendall(b"221 bye\r\n")
                    return
                else:
                    conn.sendall(b"502 not implemented\r\n")

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield listener.getsockname()[1], seen
    if thread.is_alive():  # nobody connected: wake accept() so the thread ends now
        with socket.create_connection(listener.getsockname(), timeout=1):
            pass
    listener.close()
    thread.join(timeout=5)


def _create(client: Any, **body: Any) -> int:
    response = client.post("/api/connectors/", body, format="json")
    assert response.status_code == 201, response.json()
    return int(response.json()["id"])


def _test(client: Any, connector_id: int) -> dict[str, Any]:
    response = client.post(f"/api/connectors/{connector_id}/test/", format="json")
    assert response.status_code == 200, response.content
    body = response.json()
    assert set(body) == {"ok", "message", "duration_ms", "details"}
    assert CANARY not in response.content.decode()
    return body


def _audit_ok(connector_id: int) -> list[bool]:
    rows = AuditEvent.objects.filter(action="connector.test", target_id=str(connector_id)).order_by("id")
    return [row.data["ok"] for row in rows]


def test_http_ok_against_a_local_stub(client_for, settings, http_stub):
    settings.BATON_HTTP_ALLOW_PRIVATE_HOSTS = ["127.0.0.1"]
    admin = client_for("admin")
    cid = _create(
        admin,
        name="Local API",
        kind="http",
        config={"base_url": http_stub + "/", "auth_type": "bearer"},
        secret={"token": CANARY},
    )
    body = _test(admin, cid)
    assert body["ok"] is True, body
    assert body["details"]["status"] == 204
    assert _audit_ok(cid) == [True]


def test_http_5xx_is_not_ok(client_for, settings, http_stub):
    settings.BATON_HTTP_ALLOW_PRIVATE_HOSTS = ["127.0.0.1"]
    admin = client_for("admin")
    cid = _create(admin, name="Broken", kind="http", config={"base_url": http_stub + "/down"})
    body = _test(admin, cid)
    assert body["ok"] is False
    assert body["details"]["status"] == 503


def test_http_refused_destination(client_for, settings, http_stub):
    settings.BATON_HTTP_ALLOW_PRIVATE_HOSTS = []
    admin = client_for("admin")
    cid = _create(
        admin,
        name="Private",
        kind="http",
        config={"base_url": http_stub, "auth_type": "bearer"},
        secret={"token": CANARY},
    )
    body = _test(admin, cid)
    assert body["ok"] is False
    assert "DESTINATION_NOT_ALLOWED" in body["message"]
    assert body["details"]["code"] == "DESTINATION_NOT_ALLOWED"
    assert _audit_ok(cid) == [False]


def test_smtp_against_a_local_stub(client_for, settings, smtp_stub):
    port, seen = smtp_stub
    settings.BATON_HTTP_ALLOW_PRIVATE_HOSTS = ["127.0.0.1"]
    admin = client_for("admin")
    cid = _create(
        admin, name="Mail", kind="smtp", config={"host": "127.0.0.1", "port": port, "use_tls": False}
    )
    body = _test(admin, cid)
    assert body["ok"] is True, body
    assert body["details"]["steps"] == ["connect", "ehlo", "quit"]
    assert seen == ["EHLO", "QUIT"]


def test_smtp_starttls_unsupported_is_a_clean_failure(client_for, settings, smtp_stub):
    port, _ = smtp_stub
    settings.BATON_HTTP_ALLOW_PRIVATE_HOSTS = ["127.0.0.1"]
    admin = client_for("admin")
    cid = _create(
        admin,
        name="Mail TLS",
        kind="smtp",
        config={"host": "127.0.0.1", "port": port, "use_tls": True},
        secret={"password": CANARY},
    )
    body = _test(admin, cid)
    assert body["ok"] is False
    assert "STARTTLS" in body["message"] or "starttls" in body["message"].lower()


def test_smtp_private_host_refused_without_allowlist(client_for, settings, smtp_stub):
    port, seen = smtp_stub
    settings.BATON_HTTP_ALLOW_PRIVATE_HOSTS = []
    admin = client_for("admin")
    cid = _create(
        admin, name="Mail", kind="smtp", config={"host": "127.0.0.1", "port": port, "use_tls": False}
    )
    body = _test(admin, cid)
    assert body["ok"] is False
    assert "DESTINATION_NOT_ALLOWED" in body["message"]
    assert seen == []


def test_model_through_the_llm_stub(client_for):
    admin = client_for("admin")
    with StubServer("OK") as stub:
        cid = _create(
            admin,
            name="Compat",
            kind="model",
            config={
                "provider": "openai_compatible",
                "base_url": stub.base_url,
                "models": ["compat-t1", "other"],
            },
            secret={"api_key": CANARY},
        )
        body = _test(admin, cid)
        assert body["ok"] is True, body
        assert body["details"]["model"] == "compat-t1"
        assert stub.requests[0]["model"] == "compat-t1"
        assert stub.requests[0]["max_tokens"] == 5


def test_model_failure_is_ok_false(client_for):
    admin = client_for("admin")
    with StubServer(status=500) as stub:
        cid = _create(
            admin,
            name="Failing",
            kind="model",
            config={"provider": "openai_compatible", "base_url": stub.base_url, "models": ["fail-1"]},
            secret={"api_key": CANARY},
        )
        body = _test(admin, cid)
    assert body["ok"] is False


@pytest.mark.parametrize(
    ("url", "ok"),
    [
        ("https://hooks.slack.com/services/T0/B0/" + CANARY, True),
        ("https://evil.example.com/" + CANARY, False),
    ],
)
def test_slack_checks_the_webhook_host_only(client_for, url, ok):
    admin = client_for("admin")
    cid = _create(admin, name="Slack", kind="slack", config={"channel": "#ops"}, secret={"webhook_url": url})
    assert _test(admin, cid)["ok"] is ok


@pytest.mark.parametrize(("persona", "status"), [("alice", 403), ("rey", 403), ("vic", 403)])
def test_non_admins_are_refused(client_for, persona, status):
    secret = {"webhook_url": "https://hooks.slack.com/services/T0/B0/x"}
    cid = _create(client_for("admin"), name="Slack", kind="slack", config={}, secret=secret)
    response = client_for(persona).post(f"/api/connectors/{cid}/test/", format="json")
    assert response.status_code == status
    assert not AuditEvent.objects.filter(action="connector.test").exists()


def test_unknown_connector_is_404(client_for):
    assert client_for("admin").post("/api/connectors/999999/test/", format="json").status_code == 404
