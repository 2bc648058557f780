"""The Celery app. Production runs ``celery -A backend.config worker``; embedded mode runs a
worker thread inside the web process (see `backend.config.embedded`)."""

from __future__ import annotations

import os
import threading
from typing import Any

from celery import Celery
from celery.signals import worker_process_init, worker_ready

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "backend.config.settings.local")

app = Celery("baton")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks(["backend.runs"])


@worker_ready.connect
def _warm_up_in_worker(sender: Any = None, **_: Any) -> None:
    """Load litellm in the background once a solo/threads worker is up (first LLM step stays fast)."""
    if "prefork" in type(getattr(sender, "pool", None)).__module__:
        return  # the forked children load it themselves (below); the parent never calls an LLM
    _warm_up_llm_gateway()


@worker_process_init.connect
def _warm_up_in_child(**_: Any) -> None:
    _warm_up_llm_gateway()


def _warm_up_llm_gateway() -> None:
    def load() -> None:
        from backend.common.engine import llm_client

        llm_client().warm_up()

    threading.Thread(target=load, name="baton-llm-warm-up", daemon=True).start()
