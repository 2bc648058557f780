"""Serve Baton in one process: ASGI app, websockets and (embedded mode) the Celery worker."""

from __future__ import annotations

import os
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser


class Command(BaseCommand):
    help = "Serve Baton (HTTP + websockets) with uvicorn; embedded mode also runs the worker in-process."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
        parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))

    def handle(self, *args: Any, **options: Any) -> None:
        import uvicorn

        host, port = options["host"], options["port"]
        mode = settings.BATON_MODE
        worker = "in-process worker" if getattr(settings, "EMBEDDED_WORKER", False) else "external workers"
        self.stdout.write(self.style.SUCCESS(f"Baton ({mode} mode, {worker}) at http://{host}:{port}/"))
        uvicorn.run(
            "backend.config.asgi:application",
            host=host,
            port=port,
            workers=1,
            log_level="warning",
            lifespan="off",
            ws_max_size=1 << 20,
        )
