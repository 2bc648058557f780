"""Production mode on this machine: PostgreSQL, Redis, a separate `celery worker` process and
an ASGI server process, all from the real settings (`backend.config.settings.production`)."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from cryptography.fernet import Fernet

from tests.conftest import ROOT, free_port, port_open, require_service

PG_URL = os.environ.get("BATON_IT_POSTGRES", "postgres://postgres@127.0.0.1:5432")
REDIS_URL = os.environ.get("BATON_IT_REDIS", "redis://127.0.0.1:6379/11")


@dataclass
class Server:
    base_url: str
    env: dict[str, str]
    log_dir: Path


def _wait_healthy(url: str, procs: list[subprocess.Popen[bytes]], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for proc in procs:
            if proc.poll() is not None:
                raise RuntimeError(f"{proc.args} exited with {proc.returncode}")
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise TimeoutError(f"{url} not healthy after {timeout} s")


@pytest.fixture(scope="session")
def production_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    require_service(port_open("127.0.0.1", 5432), "PostgreSQL is not reachable on 127.0.0.1:5432")
    require_service(port_open("127.0.0.1", 6379), "Redis is not reachable on 127.0.0.1:6379")
    import psycopg
    import redis

    db_name = f"baton_it_{secrets.token_hex(4)}"
    with psycopg.connect(f"{PG_URL}/postgres", autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{db_name}"')
    redis.Redis.from_url(REDIS_URL).flushdb()
    log_dir = tmp_path_factory.mktemp("production-logs")
    port = free_port()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "backend.config.settings.production",
        "SECRET_KEY": secrets.token_urlsafe(48),
        "BATON_SECRET_KEYS": Fernet.generate_key().decode(),
        "DATABASE_URL": f"{PG_URL}/{db_name}",
        "REDIS_URL": REDIS_URL,
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SECURE_SSL_REDIRECT": "false",
        "SECURE_COOKIES": "false",
        "SECURE_HSTS_SECONDS": "0",
        "BATON_MAIL_TRANSPORT": "outbox",
        "BATON_VAR_DIR": str(log_dir / "var"),
        "LITELLM_LOCAL_MODEL_COST_MAP": "True",
    }
    python = sys.executable
    subprocess.run([python, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT, env=env, check=True)
    subprocess.run([python, "manage.py", "baton_demo"], cwd=ROOT, env=env, check=True, capture_output=True)
    worker_log = (log_dir / "worker.log").open("wb")
    web_log = (log_dir / "web.log").open("wb")
    worker = subprocess.Popen(
        [
            python,
            "-m",
            "celery",
            "-A",
            "backend.config",
            "worker",
            "--pool=solo",
            "--loglevel=WARNING",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
        ],
        cwd=ROOT,
        env=env,
        stdout=worker_log,
        stderr=subprocess.STDOUT,
    )
    web = subprocess.Popen(
        [
            python,
            "-m",
            "uvicorn",
            "backend.config.asgi:application",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
        stdout=web_log,
        stderr=subprocess.STDOUT,
    )
    try:
        _wait_healthy(f"http://127.0.0.1:{port}/api/health/", [worker, web])
        yield Server(f"http://127.0.0.1:{port}", env, log_dir)
    finally:
        for proc in (web, worker):
            proc.terminate()
        for proc in (web, worker):
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
        worker_log.close()
        web_log.close()
        with psycopg.connect(f"{PG_URL}/postgres", autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)')
