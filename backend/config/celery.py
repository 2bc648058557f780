"""The Celery app. Production runs ``celery -A backend.config worker``; embedded mode runs a
worker thread inside the web process (see `backend.config.embedded`)."""

from __future__ import annotations

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "backend.config.settings.local")

app = Celery("baton")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks(["backend.runs"])
