"""POST /api/runs/{id}/cancel/ while an ``http.request`` waits on a stalled server: the call aborts
within seconds (not at its 60 s timeout) and the run ends cancelled."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from django.db import connection

from backend.runs.models import Run, StepRun
from backend.runs.services import run_advance, run_start
from backend.workflows.selectors import workflow_published_version
from backend.workflows.services import workflow_create, workflow_publish

STALL_SECONDS = 30.0


class _Stall(BaseHTTPRequestHandler):
    reached = threading.Event()
    release = threading.Event()

    def log_message(self, *args: Any) -> None:
        pass

    def do_GET(self) -> None:  # noqa: N802
        _Stall.reached.set()
        _Stall.release.wait(STALL_SECONDS)
        try:
            self.send_response(200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"{}")
        except OSError:
            pass


@pytest.fixture
def stall() -> Iterator[str]:
    _Stall.reached.clear()
    _Stall.release.clear()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Stall)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    _Stall.release.set()
    server.shutdown()
    server.server_close()


@pytest.mark.django_db(transaction=True)
def test_cancel_through_the_api_aborts_the_request_in_flight(
    personas, client_for, stall, settings, monkeypatch
):
    settings.BATON_HTTP_ALLOW_PRIVATE_HOSTS = ["127.0.0.1"]
    from backend.runs import services

    monkeypatch.setattr(services, "_dispatch", lambda run_id: None)  # a worker thread runs it below
    doc = {
        "schema_version": 1,
        "nodes": [
            {"id": "t", "type": "trigger.manual", "type_version": 1, "config": {"fields": []}},
            {
                "id": "call",
                "type": "http.request",
                "type_version": 1,
                "config": {"url": stall + "/slow", "timeout_seconds": 60},
            },
        ],
        "edges": [{"id": "e1", "source": "t", "source_port": "out", "target": "call", "target_port": "in"}],
    }
    workflow = workflow_create(user=personas["alice"], name="Stalled call", document=doc)
    workflow_publish(workflow=workflow, user=personas["alice"], note="v1")
    run = run_start(
        version=workflow_published_version(workflow=workflow), started_by=personas["alice"], inputs={}
    )
    box: dict[str, Any] = {}

    def work() -> None:
        try:
            box["status"] = run_advance(run_id=run.id)
            box["ended"] = time.monotonic()
        finally:
            connection.close()

    worker = threading.Thread(target=work, daemon=True)
    worker.start()
    assert _Stall.reached.wait(30), "the request never reached the stub"
    cancelled_at = time.monotonic()
    response = client_for("alice").post(f"/api/runs/{run.id}/cancel/")
    assert response.status_code == 200
    worker.join(STALL_SECONDS)
    assert not worker.is_alive(), "the worker waited for the stalled server"
    assert box["ended"] - cancelled_at < 10.0  # the watcher polls every 0.5 s
    assert box["status"] == "cancelled"
    run.refresh_from_db()
    assert run.status == Run.Status.CANCELLED
    assert run.error["code"] == "RUN_CANCELLED"
    step = StepRun.objects.get(run=run, node_id="call")
    assert step.error["code"] == "RUN_CANCELLED"
