"""`make bench`: Baton's speed and memory figures (DESIGN.md section 12).

Measured, not asserted: tests must pass on slow, busy machines; these numbers go into
docs/benchmarks.md. Run on a quiet machine for figures worth comparing.

1. engine  — 10-node runs executed in-process through the real DjangoRunStore (SQLite WAL,
             events stored and published to the channel layer): CPU per persisted node and
             10-node runs per second.
2. server  — `manage.py baton_serve` (embedded mode): time from start to healthy, idle RSS.
3. events  — step event → websocket client latency (p50/p95) on that server, losses.
4. parked  — runs parked at an approval: database bytes and server memory per run.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
CHAIN_NODES = 10


def chain_document(length: int = CHAIN_NODES) -> dict[str, Any]:
    nodes: list[dict[str, Any]] = [{"id": "n0", "type": "trigger.manual", "type_version": 1, "config": {}}]
    edges = []
    for i in range(1, length):
        nodes.append(
            {
                "id": f"n{i}",
                "type": "data.template",
                "type_version": 1,
                "config": {"template": f"step {i}: {{{{ trigger.name }}}}"},
            }
        )
        edges.append(
            {
                "id": f"e{i}",
                "source": f"n{i - 1}",
                "source_port": "out",
                "target": f"n{i}",
                "target_port": "in",
            }
        )
    return {"schema_version": 1, "nodes": nodes, "edges": edges}


def bench_validation() -> dict[str, Any]:
    """Validate a 500-node graph (the size limit): target under 1 s."""
    from orchestrator_core import default_registry, validate_workflow

    doc = chain_document(500)
    registry = default_registry()
    validate_workflow(doc, registry)
    best = min(_timed(lambda: validate_workflow(doc, registry)) for _ in range(5))
    return {"nodes": 500, "validate_ms": round(best * 1000, 1)}


def _timed(fn: Any) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def _django(var_dir: str) -> None:
    os.environ["DJANGO_SETTINGS_MODULE"] = "backend.config.settings.local"
    os.environ["BATON_VAR_DIR"] = var_dir
    os.environ["BATON_EMBEDDED_WORKER"] = "false"
    os.environ.pop("DATABASE_URL", None)
    os.environ.pop("REDIS_URL", None)
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def bench_engine(runs: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as var_dir:
        _django(var_dir)
        from backend.accounts.services import user_upsert
        from backend.runs.models import Run
        from backend.runs.services import run_advance, run_start
        from backend.workflows.services import workflow_create, workflow_publish

        user = user_upsert(username="bench", password="bench-password-1", role="builder")
        workflow = workflow_create(user=user, name="chain", document=chain_document())
        version = workflow_publish(workflow=workflow, user=user)
        for _ in range(5):  # warm caches, imports and the registry
            run_advance(run_id=run_start(version=version, started_by=user, inputs={"name": "w"}).id)
        ids = [run_start(version=version, started_by=user, inputs={"name": f"r{i}"}).id for i in range(runs)]
        cpu0, wall0 = time.process_time(), time.perf_counter()
        for run_id in ids:
            run_advance(run_id=run_id)
        cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
        ok = Run.objects.filter(id__in=ids, status="succeeded").count()
        return {
            "runs": runs,
            "succeeded": ok,
            "cpu_ms_per_node": round(cpu * 1000 / (runs * CHAIN_NODES), 3),
            "runs_per_second": round(runs / wall, 1),
        }


def _rss_mb(pid: int) -> float:
    total = 0
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            total = int(line.split()[1])
    return round(total / 1024, 1)


def _start_server(var_dir: str, port: int) -> tuple[subprocess.Popen[bytes], float]:
    import httpx

    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "backend.config.settings.local",
        "BATON_VAR_DIR": var_dir,
        "BATON_EMBEDDED_WORKER": "true",
    }
    env.pop("DATABASE_URL", None)
    env.pop("REDIS_URL", None)
    subprocess.run([sys.executable, "manage.py", "migrate", "-v", "0"], cwd=ROOT, env=env, check=True)
    subprocess.run(
        [sys.executable, "manage.py", "baton_demo"], cwd=ROOT, env=env, check=True, capture_output=True
    )
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "manage.py", "baton_serve", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    while True:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/api/health/", timeout=0.5).status_code == 200:
                return proc, time.perf_counter() - t0
        except httpx.HTTPError:
            time.sleep(0.02)


class _Client:
    def __init__(self, base: str, user: str, password: str) -> None:
        import httpx

        self.http = httpx.Client(base_url=base, timeout=30)
        self.http.get("/api/auth/csrf/")
        self.post("/api/auth/login/", {"username": user, "password": password})

    def post(self, path: str, body: Any) -> Any:
        r = self.http.post(path, json=body, headers={"X-CSRFToken": self.http.cookies.get("csrftoken", "")})
        r.raise_for_status()
        return r.json()

    def get(self, path: str) -> Any:
        r = self.http.get(path)
        r.raise_for_status()
        return r.json()


def bench_server(events_runs: int, parked: int) -> dict[str, Any]:
    import socket

    from websockets.sync.client import connect

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    base = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory() as var_dir:
        proc, start_s = _start_server(var_dir, port)
        try:
            time.sleep(6)  # let the background LLM warm-up finish before measuring idle memory
            idle_rss = _rss_mb(proc.pid)
            client = _Client(base, "builder", "baton-builder-demo")
            wf = client.post("/api/workflows/", {"name": "chain", "document": chain_document()})
            client.post(f"/api/workflows/{wf['id']}/publish/", {})
            cookie = "; ".join(f"{k}={v}" for k, v in client.http.cookies.items())
            latencies: list[float] = []
            lost = 0
            for i in range(events_runs):
                run = client.post(f"/api/workflows/{wf['id']}/runs/", {"inputs": {"name": f"e{i}"}})
                with connect(
                    f"ws://127.0.0.1:{port}/ws/runs/{run['id']}/?after=0",
                    origin=base,
                    additional_headers={"Cookie": cookie},
                ) as ws:
                    seqs = []
                    while True:
                        message = json.loads(ws.recv(timeout=30))
                        received = time.time()
                        seqs.append(message["seq"])
                        sent = datetime.fromisoformat(message["ts"].replace("Z", "+00:00")).timestamp()
                        if message["seq"] > 1:  # the first event was stored before we connected
                            latencies.append((received - sent) * 1000)
                        if message["type"] == "run.status" and message["data"]["status"] in (
                            "succeeded",
                            "failed",
                        ):
                            break
                    lost += len(set(range(1, max(seqs) + 1)) - set(seqs))
            latencies.sort()
            db = Path(var_dir) / "baton.sqlite3"
            support = next(
                w for w in client.get("/api/workflows/")["results"] if w["name"].startswith("Reply")
            )
            before_rss, before_db = _rss_mb(proc.pid), _db_bytes(db)
            email = {"from": "a@example.com", "subject": "Refund", "body": "Please refund order 1."}
            for _ in range(parked):
                client.post(f"/api/workflows/{support['id']}/runs/", {"inputs": email})
            reviewer = _Client(base, "reviewer", "baton-reviewer-demo")
            deadline = time.monotonic() + 600
            while (
                reviewer.get("/api/approvals/?status=pending")["count"] < parked
                and time.monotonic() < deadline
            ):
                time.sleep(0.5)
            time.sleep(1)
            after_rss, after_db = _rss_mb(proc.pid), _db_bytes(db)
            return {
                "start_to_healthy_s": round(start_s, 2),
                "idle_rss_mb": idle_rss,
                "event_latency_ms_p50": round(statistics.median(latencies), 2) if latencies else None,
                "event_latency_ms_p95": round(latencies[int(len(latencies) * 0.95) - 1], 2)
                if latencies
                else None,
                "events_measured": len(latencies),
                "events_lost": lost,
                "parked_runs": parked,
                "parked_rss_growth_mb": round(after_rss - before_rss, 1),
                "parked_db_kb_per_run": round((after_db - before_db) / 1024 / max(parked, 1), 2),
            }
        finally:
            proc.terminate()
            proc.wait(timeout=15)


def _db_bytes(db: Path) -> int:
    import sqlite3

    conn = sqlite3.connect(db)
    try:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        pages = conn.execute("PRAGMA page_count").fetchone()[0]
        size = conn.execute("PRAGMA page_size").fetchone()[0]
        free = conn.execute("PRAGMA freelist_count").fetchone()[0]
        return int((pages - free) * size)
    finally:
        conn.close()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=300, help="10-node runs for the engine figure")
    parser.add_argument("--event-runs", type=int, default=20, help="runs watched over a websocket")
    parser.add_argument("--parked", type=int, default=500, help="runs parked at an approval")
    parser.add_argument("--only", choices=["engine", "server", "validation"], help="run one part")
    args = parser.parse_args()
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    results: dict[str, Any] = {}
    if args.only in (None, "server"):
        results["server"] = bench_server(args.event_runs, args.parked)
    if args.only in (None, "validation"):
        results["validation"] = bench_validation()
    if args.only in (None, "engine"):
        results["engine"] = bench_engine(args.runs)
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
