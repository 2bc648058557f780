"""Cancelling a run aborts an ``http.request`` in flight (RUN_CANCELLED) instead of waiting it out.

A local stub server (127.0.0.1 only) stalls for 30 s, either before its status line or in the
middle of the body; the run is cancelled once the request reached it, and the node must give up
within seconds.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from core_helpers import make_doc

from orchestrator_core import ErrorCode, NodeError, RunnerServices, RunStatus, StepStatus, advance_run
from orchestrator_core.engine.context import RunContext
from orchestrator_core.net import EgressPolicy, SafeHttpClient
from orchestrator_core.nodes.registry import default_registry
from orchestrator_core.ports import HttpRequest
from orchestrator_core.testing import FakeClock, FakeLLM, FakeMailer, InMemoryRunStore

STALL_SECONDS = 30.0
ABORT_BOUND_SECONDS = 8.0
"""Generous for a busy machine: the watcher polls every 0.5 s and reads check every 0.25 s."""


class _Stall(BaseHTTPRequestHandler):
    reached = threading.Event()
    release = threading.Event()

    def log_message(self, *args: Any) -> None:
        pass

    def _handle(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        if self.path == "/stall-body":
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", "100")
            self.end_headers()
            self.wfile.write(b'{"partial": ')
            self.wfile.flush()
        _Stall.reached.set()
        _Stall.release.wait(STALL_SECONDS)
        try:
            if self.path != "/stall-body":
                self.send_response(200)
                self.send_header("Content-Length", "2")
                self.end_headers()
            self.wfile.write(b"{}")
        except OSError:
            pass

    do_GET = do_POST = _handle  # noqa: N815


@pytest.fixture(scope="module")
def stub() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Stall)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    _Stall.release.set()
    server.shutdown()
    server.server_close()


@pytest.fixture(autouse=True)
def _reset() -> None:
    _Stall.reached.clear()


def _client() -> SafeHttpClient:
    return SafeHttpClient(policy=EgressPolicy.build(["127.0.0.1"]))


@pytest.mark.parametrize(("path", "method"), [("/stall", "GET"), ("/stall-body", "GET"), ("/stall", "POST")])
def test_cancel_aborts_a_stalled_request_and_the_run_ends_cancelled(
    stub: str, path: str, method: str
) -> None:
    clock = FakeClock()
    store = InMemoryRunStore(clock)
    services = RunnerServices(
        store=store,
        registry=default_registry(),
        llm=FakeLLM(),
        mailer=FakeMailer(),
        clock=clock,
        http=_client(),
    )
    doc = make_doc(
        [
            ("t", "trigger.manual", {"fields": []}),
            ("call", "http.request", {"method": method, "url": stub + path, "timeout_seconds": 60}),
        ],
        [("t", "out", "call", "in")],
    )
    run_id = store.create_run(doc, {})
    box: dict[str, Any] = {}

    def advance() -> None:
        box["status"] = advance_run(run_id, services)
        box["ended"] = time.monotonic()

    worker = threading.Thread(target=advance, daemon=True)
    worker.start()
    assert _Stall.reached.wait(20), "the request never reached the stub"
    cancelled_at = time.monotonic()
    store.request_cancel(run_id)
    worker.join(STALL_SECONDS)
    assert not worker.is_alive(), "the node waited for the stalled server"
    assert box["ended"] - cancelled_at < ABORT_BOUND_SECONDS
    assert box["status"] == RunStatus.CANCELLED
    assert store.run_status(run_id) == RunStatus.CANCELLED
    assert store.run_error(run_id) == {"code": "RUN_CANCELLED", "message": "The run was cancelled."}
    step = store.steps(run_id)["call"]
    assert step.status == StepStatus.FAILED
    assert step.error is not None
    assert step.error["code"] == "RUN_CANCELLED"
    if method == "POST":  # the effect stays "started": nobody knows whether the server acted
        assert store.effects()[f"{run_id}:call:0"].status == "started"


def test_client_refuses_to_start_a_request_of_a_cancelled_run(stub: str) -> None:
    cancel = threading.Event()
    cancel.set()
    with pytest.raises(NodeError) as info:
        _client().request(HttpRequest(method="GET", url=stub + "/stall", cancel=cancel))
    assert info.value.code == ErrorCode.RUN_CANCELLED
    assert not _Stall.reached.is_set()  # nothing was sent


def test_client_aborts_when_the_event_is_set_from_another_thread(stub: str) -> None:
    cancel = threading.Event()
    threading.Thread(target=lambda: _Stall.reached.wait(20) and cancel.set(), daemon=True).start()
    started = time.monotonic()
    with pytest.raises(NodeError) as info:
        _client().request(HttpRequest(method="GET", url=stub + "/stall", timeout_seconds=60, cancel=cancel))
    assert info.value.code == ErrorCode.RUN_CANCELLED
    assert time.monotonic() - started < STALL_SECONDS / 2


def test_a_request_without_cancel_still_times_out(stub: str) -> None:
    """Reading in short slices keeps the overall timeout (HTTP_ERROR, details.timeout)."""
    with pytest.raises(NodeError) as info:
        _client().request(
            HttpRequest(method="GET", url=stub + "/stall", timeout_seconds=1, cancel=threading.Event())
        )
    assert info.value.code == ErrorCode.HTTP_ERROR
    assert isinstance(info.value.details, dict)
    assert info.value.details.get("timeout") is True


def test_context_refuses_calls_once_the_run_is_cancelled() -> None:
    cancelled = threading.Event()
    ctx = RunContext(
        run_id="r1",
        node_id="n",
        context={},
        store=InMemoryRunStore(),
        llm_client=FakeLLM(),
        mailer=FakeMailer(),
        http=_client(),
        cancelled=cancelled,
    )
    cancelled.set()
    with pytest.raises(NodeError) as info:
        ctx.http(HttpRequest(method="GET", url="http://127.0.0.1:9/"))
    assert info.value.code == ErrorCode.RUN_CANCELLED
    from orchestrator_core.ports import LLMRequest

    with pytest.raises(NodeError) as info:
        ctx.llm(LLMRequest(model="demo", messages=[{"role": "user", "content": "hi"}]))
    assert info.value.code == ErrorCode.RUN_CANCELLED
