"""Two scheduler processes firing the same schedule at the same instant start one run per tick.

tests/backend/test_schedules.py races two calls in one process; here two separate OS processes
run the scheduler's tick (`schedules_fire_due`, what Celery beat and the embedded scheduler call)
against one PostgreSQL database. Both wait for a shared start time (a barrier file), then call it
for the same injected ``now`` at the same wall-clock instant, tick after tick.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import ROOT, port_open, require_service
from tests.integration.conftest import PG_URL

TICKS = 6
TICK_SPACING_SECONDS = 0.5
PUBLISHED_AT = "2026-01-05T12:00:00+00:00"  # minute-aligned; the cron fires every minute

SEED = textwrap.dedent(
    """
    import django, json, sys
    django.setup()
    from datetime import datetime
    from backend.accounts.services import user_upsert
    from backend.accounts.models import User
    from backend.workflows.models import WorkflowVersion
    from backend.workflows.services import workflow_create, workflow_publish

    doc = json.load(open("fixtures/workflows/scheduled_digest.json"))
    doc["nodes"][0]["config"]["cron"] = "* * * * *"
    alice = user_upsert(username="alice", password="pw-for-tests-only", role=User.Role.BUILDER)
    workflow = workflow_create(user=alice, name="Every minute", document=doc)
    version = workflow_publish(workflow=workflow, user=alice)
    WorkflowVersion.objects.filter(id=version.id).update(created_at=datetime.fromisoformat(sys.argv[1]))
    """
)

SCHEDULER = textwrap.dedent(
    """
    import django, json, os, sys, time
    django.setup()
    from datetime import datetime, timedelta
    from django.db import connection
    from backend.runs.triggers import schedules_fire_due

    ready, go, published, ticks, spacing = sys.argv[1:6]
    connection.ensure_connection()  # connected before the barrier: both start on equal terms
    open(ready, "w").close()
    while not os.path.exists(go):
        time.sleep(0.01)
    start = float(open(go).read())
    base = datetime.fromisoformat(published)
    started = []
    for i in range(int(ticks)):
        at = start + i * float(spacing)
        while time.time() < at:
            time.sleep(0.001)
        started.append(schedules_fire_due(now=base + timedelta(minutes=i + 1, seconds=5)))
    print(json.dumps(started))
    """
)


@pytest.fixture
def database(tmp_path: Path) -> Iterator[tuple[str, dict[str, str]]]:
    require_service(port_open("127.0.0.1", 5432), "PostgreSQL is not reachable on 127.0.0.1:5432")
    import psycopg

    name = f"baton_sched_{secrets.token_hex(4)}"
    with psycopg.connect(f"{PG_URL}/postgres", autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "CELERY_BROKER_URL")}
    env.update(
        DJANGO_SETTINGS_MODULE="backend.config.settings.local",
        DATABASE_URL=f"{PG_URL}/{name}",
        BATON_EMBEDDED_WORKER="false",
        BATON_VAR_DIR=str(tmp_path / "var"),
        LITELLM_LOCAL_MODEL_COST_MAP="True",
    )
    try:
        subprocess.run(
            [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT, env=env, check=True
        )
        yield f"{PG_URL}/{name}", env
    finally:
        with psycopg.connect(f"{PG_URL}/postgres", autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_two_scheduler_processes_start_exactly_one_run_per_tick(
    database: tuple[str, dict[str, str]], tmp_path: Path
) -> None:
    import psycopg

    url, env = database
    subprocess.run([sys.executable, "-c", SEED, PUBLISHED_AT], cwd=ROOT, env=env, check=True)
    go = tmp_path / "go"
    readies = [tmp_path / f"ready-{n}" for n in range(2)]
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                "-c",
                SCHEDULER,
                str(ready),
                str(go),
                PUBLISHED_AT,
                str(TICKS),
                str(TICK_SPACING_SECONDS),
            ],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        for ready in readies
    ]
    try:
        deadline = time.monotonic() + 120
        while not all(r.exists() for r in readies):
            assert time.monotonic() < deadline, "the scheduler processes did not start"
            assert all(p.poll() is None for p in procs), [p.communicate() for p in procs]
            time.sleep(0.05)
        go.write_text(str(time.time() + 0.5))
        outputs = [p.communicate(timeout=120) for p in procs]
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
    assert all(p.returncode == 0 for p in procs), [err.decode()[-2000:] for _, err in outputs]
    started = [json.loads(out) for out, _ in outputs]
    assert [a + b for a, b in zip(*started, strict=True)] == [1] * TICKS  # per tick, one process won

    with psycopg.connect(url) as conn:
        fires = conn.execute("SELECT fire_at, run_id FROM runs_schedulefire ORDER BY fire_at").fetchall()
        runs = conn.execute("SELECT id, inputs FROM runs_run ORDER BY id").fetchall()
    assert len(fires) == TICKS
    assert len({fire_at for fire_at, _ in fires}) == TICKS
    assert all(run_id is not None for _, run_id in fires)
    assert len(runs) == TICKS  # no second run, not even one rolled back late
    assert sorted(run_id for _, run_id in fires) == [run_id for run_id, _ in runs]
    scheduled = sorted(inputs["scheduled_at"] for _, inputs in runs)
    assert len(set(scheduled)) == TICKS
