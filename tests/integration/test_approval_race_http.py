"""50 reviewers decide the same item at once, over HTTP against the real server (uvicorn, a
separate celery worker, PostgreSQL, Redis): exactly one decision is stored, the other 49 get
409 ``APPROVAL_DECIDED``, and the run resumes exactly once."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest

from tests.backend.conftest import CUSTOMER_EMAIL
from tests.conftest import ROOT, free_port
from tests.integration.conftest import Server, _wait_healthy
from tests.integration.test_production_mode import Session

pytestmark = pytest.mark.integration

THREADS = 50

_SETUP = """
import json
from datetime import timedelta
from django.utils import timezone
from backend.accounts.models import User
from backend.accounts.services import api_token_create
from backend.approvals.models import Queue
support = Queue.objects.get(name="Support")
tokens = []
for i in range({n}):
    # No password (hashing 50 of them is slow): they sign in with API tokens.
    user, _ = User.objects.get_or_create(username=f"racer{{i:02d}}", defaults={{"role": User.Role.REVIEWER}})
    support.members.add(user)
    tokens.append(api_token_create(user=user, name="race", expires_at=timezone.now() + timedelta(days=1))[1])
print("TOKENS=" + json.dumps(tokens))
"""

_FACTS = """
import json
from backend.approvals.models import Approval, ApprovalVote
from backend.connectors.models import OutboxMessage
from backend.runs.models import Run, RunEvent, StepRun
run_id = {run_id}
approval = Approval.objects.get(run_id=run_id)
events = RunEvent.objects.filter(run_id=run_id, type="run.status").order_by("seq")
statuses = [e.data.get("status") for e in events]
print("FACTS=" + json.dumps({{
    "run": Run.objects.get(id=run_id).status,
    "run_statuses": statuses,
    "approval": approval.status,
    "decided_by": approval.decided_by.username if approval.decided_by else None,
    "votes": ApprovalVote.objects.filter(approval=approval).count(),
    "send_steps": StepRun.objects.filter(run_id=run_id, node_id="send", status="succeeded").count(),
    "outbox": OutboxMessage.objects.filter(run_id=run_id).count(),
}}))
"""


def _shell(env: dict[str, str], code: str, marker: str) -> Any:
    done = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", code],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        text=True,
        timeout=600,
    )
    line = next(x for x in done.stdout.splitlines() if x.startswith(marker))
    return json.loads(line.removeprefix(marker))


def _wait(what: str, check: Any, timeout: float = 90) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"{what} not reached within {timeout} s")


@pytest.fixture(scope="module")
def web_workers(production_server: Server, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A second ASGI server on the same database with 4 worker processes: Django runs sync views
    one at a time per process, so several processes make the 50 decisions truly concurrent."""
    port = free_port()
    log = (tmp_path_factory.mktemp("race-web") / "web.log").open("wb")
    web = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "backend.config.asgi:application",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            "4",
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=production_server.env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        _wait_healthy(f"http://127.0.0.1:{port}/api/health/", [web])
        yield f"http://127.0.0.1:{port}"
    finally:
        web.terminate()
        try:
            web.wait(timeout=15)
        except subprocess.TimeoutExpired:
            web.kill()
        log.close()


def test_fifty_concurrent_decisions_over_http(production_server, web_workers):
    base = web_workers
    env = production_server.env
    tokens: list[str] = _shell(env, _SETUP.format(n=THREADS), "TOKENS=")
    assert len(set(tokens)) == THREADS

    builder = Session(base, "builder", "baton-builder-demo")
    workflow = next(
        w for w in builder.get("/api/workflows/")["results"] if w["name"] == "Reply to a customer email"
    )
    run = builder.post(f"/api/workflows/{workflow['id']}/runs/", {"inputs": CUSTOMER_EMAIL})

    reviewer = Session(base, "reviewer", "baton-reviewer-demo")
    item = _wait(
        "a waiting approval",
        lambda: next(
            (
                a
                for a in reviewer.get("/api/approvals/?status=pending")["results"]
                if a["run_id"] == run["id"]
            ),
            None,
        ),
    )
    detail = reviewer.get(f"/api/approvals/{item['id']}/")
    assert detail["status"] == "pending"
    assert detail["claimed_by"] is None

    clients = [
        httpx.Client(base_url=base, timeout=60, headers={"Authorization": f"Bearer {t}"}) for t in tokens
    ]
    barrier = threading.Barrier(THREADS)
    url = f"/api/approvals/{item['id']}/decision/"
    body = {
        "decision": "approve",
        "edited": {"reply": detail["fields"]["reply"] + "\n\n-- race winner"},
        "payload_hash": detail["payload_hash"],
    }

    def fire(client: httpx.Client) -> tuple[int, str | None]:
        barrier.wait(timeout=60)
        response = client.post(url, json=body)
        error = response.json().get("error") if response.status_code >= 400 else None
        return response.status_code, (error or {}).get("code")

    try:
        with ThreadPoolExecutor(THREADS) as pool:
            results = list(pool.map(fire, clients))
    finally:
        for client in clients:
            client.close()

    codes = sorted(status for status, _ in results)
    assert codes.count(200) == 1, results
    assert codes.count(409) == THREADS - 1, results
    assert {code for status, code in results if status == 409} == {"APPROVAL_DECIDED"}

    _wait("the run to finish", lambda: builder.get(f"/api/runs/{run['id']}/")["status"] == "succeeded")
    facts = _shell(env, _FACTS.format(run_id=run["id"]), "FACTS=")
    assert facts["approval"] == "approved"
    assert facts["decided_by"].startswith("racer")
    assert facts["votes"] == 1
    assert facts["send_steps"] == 1
    assert facts["outbox"] == 1
    # Resumed once: after "waiting" the run went "running" exactly once, then "succeeded".
    after = facts["run_statuses"][facts["run_statuses"].index("waiting") + 1 :]
    assert after == ["running", "succeeded"], facts["run_statuses"]
    outbox = [m for m in builder.get("/api/outbox/")["results"] if m["run_id"] == run["id"]]
    assert len(outbox) == 1
    assert outbox[0]["body"].endswith("-- race winner")
