"""A canary secret in every connector kind never shows up anywhere Baton writes or answers.

One connector per kind and auth variant (smtp, http bearer/basic/header, model, slack), each with
its own canary. A workflow calls the three HTTP connectors (a local stub that echoes the request
headers back in its body), asks the model connector (a local OpenAI-compatible stub that echoes
the Authorization header it received into its answer) and sends an e-mail built from those
answers. The connection tests run too (the SMTP stub echoes the AUTH line into its refusal), and
a review queue notifies through the Slack connector (whose webhook URL is the secret).

Then everything is collected: every API response for connectors, runs, steps, events, outbox,
usage, models, approvals, queues, audit (JSON and CSV) and the workflow export; every database
row of runs, steps, events, effects, outbox, audit, approvals and their notifications; every
websocket message of the run; every log record at DEBUG. No canary may appear in any of it.

OAuth2 client credentials are covered too: a fourth HTTP connector gets its token from the echo
stub's token endpoint (the client secret is one canary, the access token it is issued another,
and the API echoes that token back). The e-mail goes out through a second SMTP connector whose
server accepts the login (its password is a canary as well).
"""

from __future__ import annotations

import base64
import contextlib
import json
import logging
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from asgiref.sync import async_to_sync
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator
from django.core import serializers

from backend.approvals.models import Approval, ApprovalNotification, Queue
from backend.audit.models import AuditEvent
from backend.config.asgi import websocket_urlpatterns
from backend.connectors.models import OutboxMessage
from backend.runs.models import Effect, Run, RunEvent, StepRun
from orchestrator_core.net import oauth2
from orchestrator_core.testing.llm_stub import StubServer
from tests.backend.conftest import CUSTOMER_EMAIL

pytestmark = pytest.mark.django_db(transaction=True)

CANARIES = {
    "smtp": "canary-smtp-7Qx2pL9v",
    "http_bearer": "canary-bearer-Zr81mKq3",
    "http_basic": "canary-basic-Wn4tY6cd",
    "http_header": "canary-header-Jp0sV3ab",
    "model": "canary-model-Hd5uE2fo",
    "slack": "canary-slack-Ug7iB1xn",
    "http_oauth2": "canary-oauth2-client-Lm3nR8sd",
    "oauth2_token": "canary-oauth2-token-Qe6wT2yh",
    "smtp_send": "canary-smtp-send-Vb5kP0jz",
}


def _forms(secret: str) -> list[str]:
    """The canary and the encodings it travels in (basic auth, SMTP AUTH PLAIN)."""
    return [
        secret,
        base64.b64encode(f"bot:{secret}".encode()).decode(),
        base64.b64encode(f"\0bot\0{secret}".encode()).decode(),
    ]


ALL_FORMS = [form for secret in CANARIES.values() for form in _forms(secret)]


# --- stubs that echo the credentials they receive ---------------------------------------------


class _EchoHandler(BaseHTTPRequestHandler):
    def log_message(self, *args: Any) -> None:
        pass

    def _handle(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        record = {"path": self.path, "headers": {k.lower(): v for k, v in self.headers.items()}}
        body = json.dumps(record).encode()  # the auth header comes back: Baton must redact it
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header(
            "X-Echo-Auth", self.headers.get("Authorization") or self.headers.get("X-Api-Key") or ""
        )
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self) -> None:  # noqa: N802
        if self.path != "/oauth/token":
            return self._handle()
        length = int(self.headers.get("Content-Length") or 0)
        form = self.rfile.read(length).decode() if length else ""
        TOKEN_REQUESTS.append(f"{self.headers.get('Authorization')} {form}")
        body = json.dumps({"access_token": CANARIES["oauth2_token"], "expires_in": 3600}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = _handle  # noqa: N815


TOKEN_REQUESTS: list[str] = []


@pytest.fixture
def http_stub() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _EchoHandler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


class EchoLlm(StubServer):
    """The LLM stub, answering with the Authorization header it received."""

    def __init__(self) -> None:
        self.seen_auth: list[str] = []
        super().__init__(reply=lambda body: f"Your key was {self.seen_auth[-1]} thanks")

    def _handle(self, handler: BaseHTTPRequestHandler) -> None:
        self.seen_auth.append(handler.headers.get("Authorization") or "")
        super()._handle(handler)


@pytest.fixture
def smtp_stub() -> Iterator[tuple[int, list[str]]]:
    """Advertises AUTH PLAIN and refuses it, echoing the decoded credentials in the refusal, unless
    the password is the ``smtp_send`` canary: then it takes the message (DATA)."""
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(10)
    seen: list[str] = []
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:  # idle for a while (a slow run): keep listening
                continue
            except OSError:
                return
            with conn, conn.makefile("rb") as lines, contextlib.suppress(OSError):
                conn.sendall(b"220 stub ESMTP\r\n")
                for raw in lines:
                    line = raw.decode().strip()
                    verb = line.split(" ")[0].upper()
                    seen.append(line)
                    if verb in ("EHLO", "HELO"):
                        conn.sendall(b"250-stub\r\n250 AUTH PLAIN\r\n")
                    elif verb == "AUTH":
                        decoded = base64.b64decode(line.split(" ")[-1]).decode(errors="replace")
                        if decoded.endswith(CANARIES["smtp_send"]):
                            conn.sendall(b"235 welcome\r\n")
                        else:
                            conn.sendall(f"535 bad credentials {decoded!r} {line}\r\n".encode())
                    elif verb in ("MAIL", "RCPT", "RSET", "NOOP"):
                        conn.sendall(b"250 ok\r\n")
                    elif verb == "DATA":
                        conn.sendall(b"354 go on\r\n")
                        for data in lines:
                            if data == b".\r\n":
                                break
                            seen.append("DATA " + data.decode(errors="replace").rstrip())
                        conn.sendall(b"250 queued\r\n")
                    elif verb == "QUIT":
                        conn.sendall(b"221 bye\r\n")
                        break
                    else:
                        conn.sendall(b"502 not implemented\r\n")

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield listener.getsockname()[1], seen
    stop.set()
    with contextlib.suppress(OSError), socket.create_connection(listener.getsockname(), timeout=1):
        pass
    listener.close()
    thread.join(timeout=5)


# --- the workflow -------------------------------------------------------------------------------


def _node(node_id: str, node_type: str, config: dict[str, Any], x: int) -> dict[str, Any]:
    return {
        "id": node_id,
        "type": node_type,
        "type_version": 1,
        "config": config,
        "position": {"x": x, "y": 100},
        "label": node_id,
    }


def _document() -> dict[str, Any]:
    chain = [
        _node("trigger", "trigger.manual", {}, 0),
        _node("bearer", "http.request", {"connector": "api-bearer", "method": "GET", "url": "/b"}, 200),
        _node(
            "basic",
            "http.request",
            {"connector": "api-basic", "method": "POST", "url": "/c", "body": {}},
            400,
        ),
        _node("header", "http.request", {"connector": "api-header", "method": "GET", "url": "/h"}, 600),
        _node("oauth", "http.request", {"connector": "api-oauth2", "method": "GET", "url": "/o"}, 700),
        _node("draft", "llm.prompt", {"model": "canary-llm", "prompt": "Say hi to {{ trigger.name }}"}, 800),
        _node(
            "mail",
            "email.send",
            {
                "to": "carol@example.com",
                "subject": "Report",
                "connector": "mail-send",
                "body": (
                    "bearer={{ steps.bearer.body }} basic={{ steps.basic.body }} "
                    "header={{ steps.header.body }} headers={{ steps.header.headers }} "
                    "oauth={{ steps.oauth.body }} oauth_headers={{ steps.oauth.headers }} "
                    "llm={{ steps.draft.text }}"
                ),
            },
            1000,
        ),
    ]
    edges = [
        {"id": f"e{i}", "source": a["id"], "source_port": "out", "target": b["id"], "target_port": "in"}
        for i, (a, b) in enumerate(zip(chain, chain[1:], strict=False))
    ]
    return {"schema_version": 1, "nodes": chain, "edges": edges}


def _ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.content[:500]
    return response


def _text(response: Any) -> str:
    if getattr(response, "streaming", False):
        return b"".join(response.streaming_content).decode(errors="replace")
    return response.content.decode(errors="replace")


def test_no_canary_escapes(
    client_for,
    personas,
    support_workflow,
    settings,
    http_stub,
    smtp_stub,
    caplog,
    django_capture_on_commit_callbacks,
):
    settings.BATON_HTTP_ALLOW_PRIVATE_HOSTS = ["127.0.0.1"]
    oauth2.TOKENS.clear()
    TOKEN_REQUESTS.clear()
    caplog.set_level(logging.DEBUG)
    logging.getLogger().setLevel(logging.DEBUG)
    admin = client_for("admin")
    alice = client_for("alice")
    seen: list[tuple[str, str]] = []  # (where, text)
    smtp_port, smtp_seen = smtp_stub

    with EchoLlm() as llm:
        bodies = [
            {
                "name": "mail-out",
                "kind": "smtp",
                "config": {"host": "127.0.0.1", "port": smtp_port, "username": "bot", "use_tls": False},
                "secret": {"password": CANARIES["smtp"]},
            },
            {
                "name": "mail-send",
                "kind": "smtp",
                "config": {
                    "host": "127.0.0.1",
                    "port": smtp_port,
                    "username": "bot",
                    "use_tls": False,
                    "from_email": "robot@example.com",
                },
                "secret": {"password": CANARIES["smtp_send"]},
            },
            {
                "name": "api-oauth2",
                "kind": "http",
                "config": {
                    "base_url": http_stub,
                    "auth_type": "oauth2_client_credentials",
                    "token_url": f"{http_stub}/oauth/token",
                    "client_id": "bot",
                    "scope": "read",
                },
                "secret": {"client_secret": CANARIES["http_oauth2"]},
            },
            {
                "name": "api-bearer",
                "kind": "http",
                "config": {"base_url": http_stub, "auth_type": "bearer"},
                "secret": {"token": CANARIES["http_bearer"]},
            },
            {
                "name": "api-basic",
                "kind": "http",
                "config": {"base_url": http_stub, "auth_type": "basic", "username": "bot"},
                "secret": {"password": CANARIES["http_basic"]},
            },
            {
                "name": "api-header",
                "kind": "http",
                "config": {"base_url": http_stub, "auth_type": "header", "header_name": "X-Api-Key"},
                "secret": {"header_value": CANARIES["http_header"]},
            },
            {
                "name": "llm",
                "kind": "model",
                "config": {
                    "provider": "openai_compatible",
                    "base_url": llm.base_url,
                    "models": ["canary-llm"],
                },
                "secret": {"api_key": CANARIES["model"]},
            },
            {
                "name": "slack-ops",
                "kind": "slack",
                "config": {"channel": "#ops"},
                "secret": {"webhook_url": f"https://hooks.slack.com/services/T0/B0/{CANARIES['slack']}"},
            },
        ]
        ids = []
        for body in bodies:
            created = _ok(admin.post("/api/connectors/", body, format="json"), 201)
            seen.append((f"create {body['name']}", _text(created)))
            ids.append(created.json()["id"])
        for cid in ids:
            seen.append(
                (f"test {cid}", _text(_ok(admin.post(f"/api/connectors/{cid}/test/", format="json"))))
            )
            seen.append((f"get {cid}", _text(_ok(admin.get(f"/api/connectors/{cid}/")))))
            # A change without a secret keeps the stored one; the answer still hides it.
            seen.append(
                (f"patch {cid}", _text(_ok(admin.patch(f"/api/connectors/{cid}/", {}, format="json"))))
            )
        # The stubs really received the secrets (so their echoes had something to leak).
        assert any(
            CANARIES["smtp"] in base64.b64decode(line.split(" ")[-1]).decode()
            for line in smtp_seen
            if line.startswith("AUTH")
        )

        workflow = _ok(
            alice.post("/api/workflows/", {"name": "Canary", "document": _document()}, format="json"), 201
        )
        wid = workflow.json()["id"]
        _ok(alice.post(f"/api/workflows/{wid}/publish/", {"note": "v1"}, format="json"), 201)
        with django_capture_on_commit_callbacks(execute=True):
            started = _ok(
                alice.post(f"/api/workflows/{wid}/runs/", {"inputs": {"name": "Ann"}}, format="json"), 201
            )
        run_id = started.json()["id"]
        # One call from the connection test, one from the run.
        assert llm.seen_auth == [f"Bearer {CANARIES['model']}"] * 2

    # A review queue that notifies through the Slack connector (the webhook URL is the secret;
    # hooks.slack.com does not resolve in tests, so the delivery fails and records an error).
    Queue.objects.filter(name="Support").update(notify_webhook_connector="slack-ops")
    with django_capture_on_commit_callbacks(execute=True):
        review_run = _ok(
            alice.post(
                f"/api/workflows/{support_workflow.id}/runs/", {"inputs": CUSTOMER_EMAIL}, format="json"
            ),
            201,
        )
    notification = ApprovalNotification.objects.get(approval__run_id=review_run.json()["id"])
    assert notification.error, "the Slack delivery should have failed offline"
    for path in ("/api/approvals/", "/api/queues/", f"/api/runs/{review_run.json()['id']}/"):
        seen.append((f"admin GET {path}", _text(_ok(admin.get(path)))))

    run = Run.objects.get(id=run_id)
    steps = {s.node_id: s for s in StepRun.objects.filter(run=run)}
    assert run.status == "succeeded", (run.status, {k: (s.status, s.error) for k, s in steps.items()})
    # The echoes came back and were redacted, not dropped.
    assert "[redacted]" in json.dumps(steps["bearer"].output)
    assert "Bearer [redacted]" in json.dumps(steps["oauth"].output)
    # The token endpoint got the client secret (basic auth); the e-mail went out through the
    # accepting SMTP connector, from its address.
    basic = base64.b64encode(f"bot:{CANARIES['http_oauth2']}".encode()).decode()
    assert TOKEN_REQUESTS
    assert all(r.startswith(f"Basic {basic} grant_type=client_credentials") for r in TOKEN_REQUESTS)
    assert "DATA From: robot@example.com" in smtp_seen
    assert OutboxMessage.objects.get(run_id=run_id).connector == "mail-send"
    assert "Your key was" in json.dumps(steps["draft"].output)

    # API responses around the run.
    for who, client in (("alice", alice), ("admin", admin)):
        for path in (
            f"/api/runs/{run_id}/",
            "/api/runs/",
            f"/api/workflows/{wid}/",
            f"/api/workflows/{wid}/export/",
            f"/api/workflows/{wid}/versions/",
            "/api/outbox/",
            "/api/usage/?group_by=model",
            "/api/usage/?group_by=workflow",
            "/api/models/",
            "/api/connectors/",
        ):
            response = client.get(path)
            assert response.status_code < 500, (path, response.status_code)
            seen.append((f"{who} GET {path}", _text(response)))
    seen.append(("audit", _text(_ok(admin.get("/api/audit/")))))
    seen.append(("audit csv", _text(_ok(admin.get("/api/audit/export.csv")))))

    # Websocket: the full replay of the run's events.
    stored = RunEvent.objects.filter(run=run).count()

    async def replay() -> list[str]:
        communicator = WebsocketCommunicator(URLRouter(websocket_urlpatterns), f"/ws/runs/{run_id}/?after=0")
        communicator.scope["user"] = personas["alice"]
        connected, _ = await communicator.connect()
        assert connected
        messages = [await communicator.receive_from(timeout=5) for _ in range(stored)]
        await communicator.disconnect()
        return messages

    messages = async_to_sync(replay)()
    assert len(messages) == stored > 0
    seen += [("websocket", m) for m in messages]

    # Database rows the run produced.
    for model in (Run, StepRun, RunEvent, Effect, OutboxMessage, AuditEvent, Approval, ApprovalNotification):
        seen.append((f"db {model.__name__}", serializers.serialize("json", model.objects.all())))
    canary_mail = OutboxMessage.objects.get(run_id=run_id)
    assert "[redacted]" in canary_mail.body

    # Log records, formatted and raw.
    for record in caplog.records:
        seen.append((f"log {record.name}", f"{record.getMessage()} {record.args!r} {record.__dict__!r}"))
    assert caplog.records, "expected some log records at DEBUG"

    leaks = [(where, form) for where, text in seen for form in ALL_FORMS if form in text]
    assert not leaks, f"canary secrets leaked: {sorted(set(leaks))}"


def test_a_key_split_across_streamed_deltas_is_still_redacted():
    from backend.connectors.redaction import _HoldBack

    out: list[str] = []
    stream = _HoldBack(out.append, ("sk-live-123456",))
    for piece in ["Your key: sk-li", "ve-12", "3456 and more text after it", " end"]:
        stream.add(piece)
    stream.flush()
    assert "".join(out) == "Your key: [redacted] and more text after it end"
    assert not any("sk-li" in piece for piece in out)


def test_the_model_gateway_redacts_its_keys_in_answers_and_streams():
    from backend.connectors.redaction import RedactingLLMClient
    from orchestrator_core import ModelSpec
    from orchestrator_core.ports import LLMRequest

    with EchoLlm() as llm:
        spec = ModelSpec(
            name="echo", litellm_model="openai/echo", api_base=llm.base_url, api_key=CANARIES["model"]
        )
        client = RedactingLLMClient(models=[spec], default_model="echo", secrets=[spec.api_key])
        request = LLMRequest(model="echo", messages=({"role": "user", "content": "hi"},))
        plain = client.complete(request)
        deltas: list[str] = []
        streamed = client.complete(request, on_delta=deltas.append)
    assert llm.seen_auth == [f"Bearer {CANARIES['model']}"] * 2
    assert plain.text == "Your key was Bearer [redacted] thanks"
    assert streamed.text == plain.text
    assert "".join(deltas) == plain.text
