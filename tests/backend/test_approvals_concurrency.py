"""50 reviewers decide the same approval at the same instant, on PostgreSQL: exactly one wins.

In-memory SQLite cannot be shared by threads, so the race itself runs in a child pytest on a
throw-away PostgreSQL database (``BATON_TEST_DATABASE_URL``); outside CI it is skipped when
PostgreSQL is not reachable on 127.0.0.1:5432.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT, port_open, require_service

RACE_ENV = "BATON_APPROVAL_RACE"
# Not named test_*.py: collected only when the child pytest names it (never skipped in CI runs).
RACE_MODULE = Path(__file__).with_name("race_approvals.py")
THREADS = 50


def test_fifty_simultaneous_decisions_on_postgresql():
    require_service(port_open("127.0.0.1", 5432), "PostgreSQL is not reachable on 127.0.0.1:5432")
    url = f"postgres://postgres@127.0.0.1:5432/baton_race_{secrets.token_hex(4)}"
    env = {
        **os.environ,
        RACE_ENV: "1",
        "BATON_TEST_DATABASE_URL": url,
        "DJANGO_SETTINGS_MODULE": "backend.config.settings.test",
    }
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "--create-db",
            str(RACE_MODULE) + "::test_race",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert "1 passed" in result.stdout
