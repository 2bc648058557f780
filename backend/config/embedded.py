"""Embedded mode: a real Celery worker (in-memory broker) and the reaper, inside the web process.

`app.Worker().start()` installs signal handlers and only works on the main thread, so this
uses `WorkController` directly, as `celery.contrib.testing.worker` does.
"""

from __future__ import annotations

import logging
import threading
import time

logger = logging.getLogger(__name__)
_started = threading.Event()


def start_embedded_worker() -> None:
    if _started.is_set():
        return
    _started.set()
    from celery.worker import WorkController

    from backend.config.celery import app

    app.loader.import_default_modules()
    worker = WorkController(
        app=app,
        pool="solo",
        concurrency=1,
        loglevel="WARNING",
        without_heartbeat=True,
        without_mingle=True,
        without_gossip=True,
    )
    threading.Thread(target=worker.start, name="baton-embedded-worker", daemon=True).start()
    threading.Thread(target=_reaper_loop, name="baton-embedded-reaper", daemon=True).start()
    threading.Thread(target=_warm_up, name="baton-llm-warm-up", daemon=True).start()
    logger.info("Embedded Celery worker started")


def _warm_up() -> None:
    from backend.common.engine import llm_client

    try:
        llm_client().warm_up()
    except Exception:
        logger.warning("Could not preload the LLM gateway", exc_info=True)


def _reaper_loop(interval: float = 5.0, reap_every: int = 6, purge_every: int = 720) -> None:
    """Wake due timers and fire due schedules every ``interval`` seconds; every ``reap_every``
    passes, re-dispatch stale runs, handle due approvals and fail waiting runs past their
    deadline; purge expired runs every ``purge_every`` passes (hourly)."""
    from django.db import close_old_connections

    from backend.approvals.services import approvals_handle_due
    from backend.runs.retention import runs_purge_expired
    from backend.runs.services import run_reap, run_wake_timers, runs_fail_overdue
    from backend.runs.triggers import schedules_fire_due

    # At start-up, runs left running by the previous process have no live worker: release them.
    _release_orphans()
    passes = 0
    while True:
        try:
            run_wake_timers()
            schedules_fire_due()
            if passes % reap_every == 0:
                run_reap()
                approvals_handle_due()
                runs_fail_overdue()
            if passes % purge_every == 0:
                runs_purge_expired()
        except Exception:
            logger.warning("Scheduler pass failed", exc_info=True)
        finally:
            close_old_connections()
        passes += 1
        time.sleep(interval)


def _release_orphans() -> None:
    """One process owns every run in embedded mode, so a lease left by an earlier process is dead."""
    from backend.runs.models import Run

    Run.objects.filter(status=Run.Status.RUNNING).update(lease_until=None, status=Run.Status.QUEUED)
