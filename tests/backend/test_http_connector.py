"""``http.request`` on the server: connectors resolved by name, secrets only on the wire."""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from backend.connectors.http import DjangoHttpClient, allowed_private_hosts
from backend.connectors.models import Connector
from backend.runs.models import Effect, Run, RunEvent, StepRun
from backend.workflows.services import workflow_create, workflow_publish
from orchestrator_core.errors import ErrorCode, NodeError
from orchestrator_core.ports import HttpRequest
from tests.core.core_helpers import load_fixture

pytestmark = pytest.mark.django_db

CANARY = "canary-9b2d-http-token"
SEEN: list[dict[str, Any]] = []


class _Handler(BaseHTTPRequestHandler):
    def log_message(self, *args: Any) -> None:
        pass

    def _handle(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        record = {
            "method": self.command,
            "path": self.path,
            "headers": {k.lower(): v for k, v in self.headers.items()},
            "body": self.rfile.read(length).decode() if length else "",
            "status": "open",
        }
        SEEN.append(record)
        body = json.dumps(record).encode()  # echoes the auth header back: must be redacted
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = _handle  # noqa: N815


@pytest.fixture(scope="module")
def stub() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture(autouse=True)
def _clear() -> None:
    SEEN.clear()


def _connector(stub: str, *, name: str = "orders-api", auth: str = "bearer", **config: Any) -> Connector:
    secret = {"bearer": {"token": CANARY}, "basic": {"password": CANARY}, "header": {"header_value": CANARY}}[
        auth
    ]
    return Connector.objects.create(
        name=name,
        kind="http",
        config={"base_url": f"{stub}/api", "auth_type": auth, **config},
        secret=secret,
        allowed_hosts=["127.0.0.1"],
    )


@pytest.mark.parametrize(
    ("auth", "config", "header", "expected"),
    [
        ("bearer", {}, "authorization", f"Bearer {CANARY}"),
        (
            "basic",
            {"username": "bot"},
            "authorization",
            "Basic " + base64.b64encode(f"bot:{CANARY}".encode()).decode(),
        ),
        ("header", {"header_name": "X-Api-Key"}, "x-api-key", CANARY),
    ],
)
def test_connector_auth_kinds(stub, auth, config, header, expected):
    _connector(stub, auth=auth, **config)
    client = DjangoHttpClient(allow_hosts=["127.0.0.1"])
    response = client.request(HttpRequest(method="GET", url="/orders/1", connector="orders-api"))
    assert response.status == 200
    assert SEEN[0]["path"] == "/api/orders/1"
    assert SEEN[0]["headers"][header] == expected
    assert CANARY.encode() not in response.body
    assert expected.encode() not in response.body


def test_unknown_or_non_http_connector_is_a_config_error(stub):
    Connector.objects.create(name="mail", kind="smtp", config={"host": "smtp.example.com"}, secret={})
    client = DjangoHttpClient(allow_hosts=["127.0.0.1"])
    for name in ("mail", "missing"):
        with pytest.raises(NodeError) as info:
            client.request(HttpRequest(method="GET", url="/x", connector=name))
        assert info.value.code == ErrorCode.NODE_CONFIG_INVALID
    assert SEEN == []


def test_private_hosts_need_the_admin_allowlist(stub, settings):
    _connector(stub)
    settings.BATON_HTTP_ALLOW_PRIVATE_HOSTS = []
    with pytest.raises(NodeError) as info:
        DjangoHttpClient().request(HttpRequest(method="GET", url="/x", connector="orders-api"))
    assert info.value.code == ErrorCode.DESTINATION_NOT_ALLOWED
    assert CANARY not in str(info.value.as_dict())
    assert SEEN == []
    settings.BATON_HTTP_ALLOW_PRIVATE_HOSTS = "127.0.0.1, 10.0.0.0/8"
    assert allowed_private_hosts() == ["127.0.0.1", "10.0.0.0/8"]


def _run_fixture(client_for, personas, captured) -> Run:
    workflow = workflow_create(
        user=personas["alice"], name="Orders", document=load_fixture("http_request.json")
    )
    workflow_publish(workflow=workflow, user=personas["alice"], note="v1")
    with captured(execute=True):
        response = client_for("alice").post(
            f"/api/workflows/{workflow.id}/runs/", {"inputs": {"order": "42"}}, format="json"
        )
    assert response.status_code == 201, response.content
    return Run.objects.get(id=response.json()["id"])


def test_workflow_run_sends_auth_and_never_stores_the_secret(
    stub, settings, client_for, personas, django_capture_on_commit_callbacks
):
    settings.BATON_HTTP_ALLOW_PRIVATE_HOSTS = ["127.0.0.1"]
    _connector(stub)
    run = _run_fixture(client_for, personas, django_capture_on_commit_callbacks)
    run.refresh_from_db()
    assert run.status == "succeeded", run.error
    assert [r["method"] for r in SEEN] == ["GET", "POST"]
    assert all(r["headers"]["authorization"] == f"Bearer {CANARY}" for r in SEEN)
    assert SEEN[1]["headers"]["idempotency-key"] == f"{run.id}:note:0"
    assert json.loads(SEEN[1]["body"]) == {"text": f"Looked up by run {run.id}", "status": "open"}
    detail = client_for("alice").get(f"/api/runs/{run.id}/")
    assert detail.status_code == 200
    stored = json.dumps(
        {
            "steps": list(StepRun.objects.filter(run=run).values()),
            "events": list(RunEvent.objects.filter(run=run).values()),
            "run": list(Run.objects.filter(id=run.id).values()),
            "effects": list(Effect.objects.values()),
        },
        default=str,
    )
    assert CANARY not in stored
    assert Effect.objects.filter(key=f"{run.id}:note:0").exists()  # the POST was ledgered, the GET not
    assert not Effect.objects.filter(key=f"{run.id}:lookup:0").exists()
    assert CANARY not in detail.content.decode()


def test_workflow_run_refused_destination_fails_the_step(
    stub, settings, client_for, personas, django_capture_on_commit_callbacks
):
    settings.BATON_HTTP_ALLOW_PRIVATE_HOSTS = []
    _connector(stub)
    run = _run_fixture(client_for, personas, django_capture_on_commit_callbacks)
    run.refresh_from_db()
    assert run.status == "failed"
    step = StepRun.objects.get(run=run, node_id="lookup")
    assert step.error["code"] == "DESTINATION_NOT_ALLOWED"
    assert SEEN == []
