"""The demo journey in production mode: PostgreSQL, Redis, a separate celery worker process,
an ASGI server process, and a websocket client that must see every step event in order."""

from __future__ import annotations

import json
import threading
import time
from typing import Any

import httpx
import pytest
from websockets.sync.client import connect

from tests.backend.conftest import CUSTOMER_EMAIL

pytestmark = pytest.mark.integration


class Session:
    def __init__(self, base_url: str, username: str, password: str) -> None:
        self.base_url = base_url
        self.http = httpx.Client(base_url=base_url, timeout=15, headers={"Referer": base_url + "/"})
        self.http.get("/api/auth/csrf/").raise_for_status()
        self.post("/api/auth/login/", {"username": username, "password": password})

    def _headers(self) -> dict[str, str]:
        return {"X-CSRFToken": self.http.cookies.get("csrftoken", "")}

    def get(self, path: str) -> Any:
        response = self.http.get(path)
        response.raise_for_status()
        return response.json()

    def post(self, path: str, body: Any) -> Any:
        response = self.http.post(path, json=body, headers=self._headers())
        assert response.status_code < 300, response.text
        return response.json()

    def cookie_header(self) -> str:
        return "; ".join(f"{k}={v}" for k, v in self.http.cookies.items())


class EventCollector(threading.Thread):
    def __init__(self, url: str, cookie: str, origin: str) -> None:
        super().__init__(daemon=True)
        self.events: list[dict[str, Any]] = []
        self.socket = connect(
            url, origin=origin, additional_headers={"Cookie": cookie}, open_timeout=10
        ).__enter__()
        self.start()

    def run(self) -> None:
        try:
            while True:
                self.events.append(json.loads(self.socket.recv()))
        except Exception:  # closed by the test
            return

    def wait_for_status(self, status: str, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if any(e["type"] == "run.status" and e["data"]["status"] == status for e in self.events):
                return
            time.sleep(0.05)
        raise AssertionError(f"no run.status {status} within {timeout} s; got {self.events}")


def test_demo_journey_with_separate_worker(production_server):
    base = production_server.base_url
    builder = Session(base, "builder", "baton-builder-demo")
    workflow = next(
        w for w in builder.get("/api/workflows/")["results"] if w["name"] == "Reply to a customer email"
    )
    run = builder.post(f"/api/workflows/{workflow['id']}/runs/", {"inputs": CUSTOMER_EMAIL})

    ws_url = base.replace("http://", "ws://") + f"/ws/runs/{run['id']}/?after=0"
    collector = EventCollector(ws_url, builder.cookie_header(), origin=base)
    collector.wait_for_status("waiting")

    reviewer = Session(base, "reviewer", "baton-reviewer-demo")
    item = reviewer.get("/api/approvals/?status=pending")["results"][0]
    detail = reviewer.get(f"/api/approvals/{item['id']}/")
    assert detail["fields"]["reply"].startswith("Hello") or detail["fields"]["reply"]
    edited = detail["fields"]["reply"] + "\n\nP.S. Edited by the reviewer."
    reviewer.post(
        f"/api/approvals/{item['id']}/decision/",
        {"decision": "approve", "edited": {"reply": edited}, "payload_hash": detail["payload_hash"]},
    )

    collector.wait_for_status("succeeded")
    collector.socket.close()
    events = collector.events
    assert [e["seq"] for e in events] == list(range(1, len(events) + 1)), "events lost or out of order"
    finished = [
        e["node_id"] for e in events if e["type"] == "step.status" and e["data"]["status"] == "succeeded"
    ]
    assert finished == ["trigger", "classify", "draft", "review", "send"]

    detail = builder.get(f"/api/runs/{run['id']}/")
    assert detail["status"] == "succeeded"
    outbox = builder.get("/api/outbox/")["results"]
    assert outbox[0]["body"] == edited
    assert outbox[0]["run_id"] == run["id"]


def test_websocket_refuses_a_foreign_origin(production_server):
    base = production_server.base_url
    builder = Session(base, "builder", "baton-builder-demo")
    ws_url = base.replace("http://", "ws://") + "/ws/runs/1/"
    with pytest.raises(Exception):  # noqa: B017 - the handshake is refused with HTTP 403
        connect(
            ws_url,
            origin="http://evil.example",
            additional_headers={"Cookie": builder.cookie_header()},
            open_timeout=5,
        )
