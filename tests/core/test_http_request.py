"""``http.request`` against a local stub server (127.0.0.1 only), through the real guarded client."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from core_helpers import load_fixture, make_doc

from orchestrator_core import ErrorCode, NodeError, RunnerServices, RunStatus, StepStatus, advance_run
from orchestrator_core.engine.context import RunContext
from orchestrator_core.net import ConnectorTarget, EgressPolicy, SafeHttpClient
from orchestrator_core.nodes.builtin.http_request import HTTP_REQUEST, HttpRequestConfig
from orchestrator_core.nodes.registry import NodeRegistry
from orchestrator_core.testing import FakeClock, FakeLLM, FakeMailer, InMemoryRunStore
from orchestrator_core.testing.fakes import FakeHttp, http_json

CANARY = "canary-s3cr3t-7f1e9a"


class _Handler(BaseHTTPRequestHandler):
    server_version = "stub"
    seen: list[dict[str, Any]] = []

    def log_message(self, *args: Any) -> None:
        pass

    def _send(self, status: int, body: bytes, content_type: str = "application/json", **headers: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Set-Cookie", "session=secret-cookie")
        for k, v in headers.items():
            self.send_header(k.replace("_", "-"), v)
        self.end_headers()
        self.wfile.write(body)

    def _handle(self) -> None:
        parts = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode() if length else ""
        record = {
            "method": self.command,
            "path": parts.path,
            "query": {k: v[0] for k, v in parse_qs(parts.query).items()},
            "headers": {k.lower(): v for k, v in self.headers.items()},
            "body": body,
        }
        _Handler.seen.append(record)
        path = parts.path
        if "/status/" in path:
            self._send(int(path.rsplit("/", 1)[1]), b'{"error": "nope"}')
        elif path == "/text":
            self._send(200, b"plain text", "text/plain")
        elif path == "/big":
            self.send_response(200)
            self.send_header("Content-Type", "application/octet-stream")  # no length: streamed
            self.end_headers()
            chunk = b"x" * 65536
            try:
                for _ in range(64):  # 4 MiB
                    self.wfile.write(chunk)
            except OSError:
                pass
        elif path == "/slow":
            time.sleep(2.5)
            self._send(200, b"{}")
        elif path == "/redirect-local":
            self._send(302, b"", Location="/echo")
        elif path == "/redirect-private":
            self._send(302, b"", Location="http://10.0.0.1/admin")
        elif path == "/redirect-metadata":
            self._send(307, b"", Location="http://[::ffff:169.254.169.254]/latest/meta-data/")
        elif path == "/redirect-loop":
            self._send(302, b"", Location="/redirect-loop")
        else:
            self._send(200, json.dumps(record).encode())

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _handle  # noqa: N815


@pytest.fixture(scope="module")
def stub() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture(autouse=True)
def _clear() -> None:
    _Handler.seen.clear()


def resolver(host: str, port: int) -> list[str]:
    if host in ("localhost", "public.test"):
        return ["127.0.0.1"]
    raise OSError("unknown host")


@pytest.fixture
def client(stub: str) -> SafeHttpClient:
    port = stub.rsplit(":", 1)[1]
    target = ConnectorTarget(
        name="stub-api",
        base_url=f"{stub}/api",
        allowed_hosts=("127.0.0.1",),
        auth_headers={"Authorization": f"Bearer {CANARY}"},
        secrets=(CANARY, f"Bearer {CANARY}"),
    )
    other = ConnectorTarget(
        name="other", base_url=f"http://public.test:{port}", allowed_hosts=("public.test",)
    )

    def lookup(name: str) -> ConnectorTarget:
        found = {"stub-api": target, "other": other}.get(name)
        if found is None:
            raise NodeError("No HTTP connector named that.", code=ErrorCode.NODE_CONFIG_INVALID)
        return found

    # public.test is allowed by name: it plays a public host that resolves to the stub.
    return SafeHttpClient(
        policy=EgressPolicy.build(["127.0.0.1", "public.test"], resolver=resolver), connectors=lookup
    )


def run(
    config: dict[str, Any],
    http: Any,
    *,
    store: InMemoryRunStore | None = None,
    steps: dict[str, Any] | None = None,
) -> tuple[dict[str, Any], RunContext]:
    ctx = RunContext(
        run_id="r1",
        node_id="call",
        context={"trigger": {"order": "42"}, "steps": steps or {}, "run": {"id": "r1"}, "vars": {}},
        store=store or InMemoryRunStore(),
        llm_client=FakeLLM(),
        mailer=FakeMailer(),
        http=http,
    )
    result = HTTP_REQUEST.execute(ctx, HttpRequestConfig.model_validate(config))
    return dict(result.output), ctx


def test_get_json_with_query_headers_and_templates(stub: str, client: SafeHttpClient) -> None:
    out, ctx = run(
        {
            "url": stub + "/orders/{{ trigger.order }}",
            "query": {"q": "{{ trigger.order }}"},
            "headers": {"X-A": "1"},
        },
        client,
    )
    assert out["status"] == 200
    assert out["body"]["path"] == "/orders/42"
    assert out["body"]["query"] == {"q": "42"}
    assert out["body"]["headers"]["x-a"] == "1"
    assert "idempotency-key" not in out["body"]["headers"]  # GET is not ledgered
    assert out["url"].startswith(stub + "/orders/42")
    assert "set-cookie" not in out["headers"]
    assert out["headers"]["content-type"] == "application/json"
    assert ctx.inputs["url"] == stub + "/orders/42"


def test_post_json_body_is_ledgered_with_an_idempotency_key(stub: str, client: SafeHttpClient) -> None:
    store = InMemoryRunStore()
    config = {"method": "POST", "url": stub + "/notes", "body": {"order": "{{ trigger.order }}", "n": 1}}
    out, _ = run(config, client, store=store)
    assert json.loads(out["body"]["body"]) == {"order": "42", "n": 1}
    assert out["body"]["headers"]["idempotency-key"] == "r1:call:0"
    assert out["body"]["headers"]["content-type"] == "application/json"
    again, _ = run(config, client, store=store)  # the step re-runs (e.g. after a crash)
    assert again == out
    assert len(_Handler.seen) == 1  # not sent twice


def test_retryable_failure_is_not_recorded_so_a_retry_resends_with_the_same_key(
    stub: str, client: SafeHttpClient
) -> None:
    store = InMemoryRunStore()
    for _ in range(2):
        with pytest.raises(NodeError) as info:
            run({"method": "PUT", "url": stub + "/status/503", "body": "x"}, client, store=store)
        assert info.value.code == ErrorCode.HTTP_ERROR
        assert info.value.details["status"] == 503  # type: ignore[index]
        assert "permanent" not in info.value.details  # type: ignore[operator]
    assert [r["headers"]["idempotency-key"] for r in _Handler.seen] == ["r1:call:0", "r1:call:0"]


@pytest.mark.parametrize(("status", "permanent"), [(400, True), (404, True), (429, False), (500, False)])
def test_http_errors(stub: str, client: SafeHttpClient, status: int, permanent: bool) -> None:
    with pytest.raises(NodeError) as info:
        run({"url": f"{stub}/status/{status}"}, client)
    assert info.value.code == ErrorCode.HTTP_ERROR
    details = info.value.details
    assert isinstance(details, dict)
    assert details["status"] == status
    assert details.get("permanent", False) is permanent


def test_text_body_and_expect_json(stub: str, client: SafeHttpClient) -> None:
    out, _ = run({"url": stub + "/text"}, client)
    assert out["body"] == "plain text"
    with pytest.raises(NodeError) as info:
        run({"url": stub + "/text", "expect_json": True}, client)
    assert info.value.code == ErrorCode.HTTP_ERROR


def test_response_size_limit_stops_reading(stub: str, client: SafeHttpClient) -> None:
    started = time.monotonic()
    with pytest.raises(NodeError) as info:
        run({"url": stub + "/big", "max_response_bytes": 100_000}, client)
    assert info.value.code == ErrorCode.HTTP_RESPONSE_TOO_LARGE
    assert time.monotonic() - started < 5


def test_timeout(stub: str, client: SafeHttpClient) -> None:
    with pytest.raises(NodeError) as info:
        run({"url": stub + "/slow", "timeout_seconds": 1}, client)
    assert info.value.code == ErrorCode.HTTP_ERROR
    assert info.value.details["timeout"] is True  # type: ignore[index]


def test_redirects_are_followed_and_checked_every_hop(stub: str, client: SafeHttpClient) -> None:
    port = stub.rsplit(":", 1)[1]
    out, _ = run({"url": stub + "/redirect-local"}, client)
    assert out["body"]["path"] == "/echo"
    for path in ("/redirect-private", "/redirect-metadata"):
        with pytest.raises(NodeError) as info:  # a "public" host redirecting inside
            run({"url": f"http://public.test:{port}{path}"}, client)
        assert info.value.code == ErrorCode.DESTINATION_NOT_ALLOWED
    with pytest.raises(NodeError) as info:
        run({"url": stub + "/redirect-loop"}, client)
    assert info.value.code == ErrorCode.HTTP_ERROR
    assert len([r for r in _Handler.seen if r["path"] == "/redirect-loop"]) == 6


def test_loopback_is_refused_without_the_allowlist(stub: str) -> None:
    strict = SafeHttpClient(policy=EgressPolicy.build(resolver=resolver))
    with pytest.raises(NodeError) as info:
        run({"url": stub + "/echo"}, strict)
    assert info.value.code == ErrorCode.DESTINATION_NOT_ALLOWED
    assert _Handler.seen == []


def test_connector_auth_is_sent_and_redacted(stub: str, client: SafeHttpClient) -> None:
    out, ctx = run({"connector": "stub-api", "url": "/orders/{{ trigger.order }}"}, client)
    seen = _Handler.seen[0]
    assert seen["path"] == "/api/orders/42"
    assert seen["headers"]["authorization"] == f"Bearer {CANARY}"  # reached the server...
    assert CANARY not in json.dumps(out)  # ...but the echo is redacted
    assert CANARY not in json.dumps(ctx.inputs)


def test_connector_refuses_other_hosts(stub: str, client: SafeHttpClient) -> None:
    port = stub.rsplit(":", 1)[1]
    with pytest.raises(NodeError) as info:
        run({"connector": "stub-api", "url": f"http://public.test:{port}/echo"}, client)
    assert info.value.code == ErrorCode.DESTINATION_NOT_ALLOWED
    with pytest.raises(NodeError) as info:
        run({"connector": "nope", "url": "/x"}, client)
    assert info.value.code == ErrorCode.NODE_CONFIG_INVALID
    assert _Handler.seen == []


@pytest.mark.parametrize(
    "header", ["Authorization", "cookie", "HOST", "Proxy-Authorization", "Idempotency-Key"]
)
def test_config_refuses_credential_headers(header: str) -> None:
    with pytest.raises(ValueError, match="may not be set"):
        HttpRequestConfig.model_validate({"url": "https://x.test", "headers": {header: "v"}})


@pytest.mark.parametrize(
    "config",
    [
        {"url": "https://x.test", "timeout_seconds": 0},
        {"url": "https://x.test", "timeout_seconds": 121},
        {"url": "https://x.test", "max_response_bytes": 10 * 1024 * 1024 + 1},
        {"url": "https://x.test", "method": "TRACE"},
        {"url": ""},
        {"url": "https://x.test", "headers": {"Bad Header": "v"}},
        {"url": "https://x.test", "auth": "x"},
    ],
)
def test_config_limits(config: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        HttpRequestConfig.model_validate(config)


def test_header_injection_is_refused() -> None:
    with pytest.raises(NodeError) as info:
        run({"url": "https://x.test", "headers": {"X-A": "{{ trigger.order }}\r\nEvil: 1"}}, FakeHttp())
    assert info.value.code == ErrorCode.INPUT_INVALID


def test_no_http_client_is_a_node_error() -> None:
    with pytest.raises(NodeError) as info:
        run({"url": "https://x.test"}, None)
    assert info.value.code == ErrorCode.NODE_FAILED


def test_fake_http_records_requests() -> None:
    fake = FakeHttp([http_json(201, {"id": 7})])
    out, _ = run({"method": "POST", "url": "https://api.test/x", "body": "{{ trigger.order }}"}, fake)
    assert out["status"] == 201
    assert out["body"] == {"id": 7}
    assert fake.requests[0].body == b"42"
    assert fake.requests[0].idempotency_key == "r1:call:0"


def test_fixture_runs_end_to_end_and_the_canary_never_leaks(stub: str, client: SafeHttpClient) -> None:
    clock = FakeClock()
    store = InMemoryRunStore(clock)
    services = RunnerServices(
        store=store,
        registry=NodeRegistry([*__import__("orchestrator_core").default_registry().types()]),
        llm=FakeLLM(),
        mailer=FakeMailer(),
        clock=clock,
        http=SafeHttpClient(
            policy=client.policy,
            connectors=lambda name: ConnectorTarget(
                name=name,
                base_url=f"{stub}/api",
                allowed_hosts=("127.0.0.1",),
                auth_headers={"Authorization": f"Bearer {CANARY}"},
                secrets=(CANARY,),
            ),
        ),
    )
    doc = load_fixture("http_request.json")
    run_id = store.create_run(doc, {"order": "42"})
    assert advance_run(run_id, services) == RunStatus.SUCCEEDED
    steps = store.steps(run_id)
    assert steps["lookup"].output["body"]["path"] == "/api/orders/42"
    assert steps["lookup"].output["body"]["query"] == {"expand": "customer"}
    assert steps["note"].status == StepStatus.SUCCEEDED
    assert json.loads(steps["note"].output["body"]["body"]) == {
        "text": f"Looked up by run {run_id}",
        "status": "",
    }
    assert all(r["headers"]["authorization"] == f"Bearer {CANARY}" for r in _Handler.seen)
    dumped = json.dumps(
        {
            "steps": {k: [v.inputs, v.output, v.error, v.request, dict(v.meta)] for k, v in steps.items()},
            "events": [[e.type, e.node_id, dict(e.data)] for _, e in store.events(run_id)],
            "effects": {k: [v.result] for k, v in store.effects().items()},
        },
        default=str,
    )
    assert CANARY not in dumped


def test_canary_never_leaks_into_a_failed_step(stub: str, client: SafeHttpClient) -> None:
    clock = FakeClock()
    store = InMemoryRunStore(clock)
    services = RunnerServices(
        store=store,
        registry=__import__("orchestrator_core").default_registry(),
        llm=FakeLLM(),
        mailer=FakeMailer(),
        clock=clock,
        http=client,
    )
    doc = make_doc(
        [
            ("t", "trigger.manual", {"fields": []}),
            ("call", "http.request", {"connector": "stub-api", "url": "/status/401"}),
        ],
        [("t", "out", "call", "in")],
    )
    run_id = store.create_run(doc, {})
    assert advance_run(run_id, services) == RunStatus.FAILED
    step = store.steps(run_id)["call"]
    assert step.error is not None
    assert step.error["code"] == "HTTP_ERROR"
    assert step.error["details"]["permanent"] is True
    dumped = json.dumps(
        [step.inputs, step.output, step.error, [dict(e.data) for _, e in store.events(run_id)]], default=str
    )
    assert CANARY not in dumped
