"""ASGI entry point: HTTP via Django, websockets via Channels."""

from __future__ import annotations

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "backend.config.settings.local")
django_asgi_app = get_asgi_application()  # before importing consumers (they import models)

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402
from django.conf import settings  # noqa: E402
from django.urls import path  # noqa: E402

from backend.approvals.consumers import InboxConsumer  # noqa: E402
from backend.runs.consumers import RunEventsConsumer  # noqa: E402

websocket_urlpatterns = [
    path("ws/runs/<int:run_id>/", RunEventsConsumer.as_asgi()),
    path("ws/inbox/", InboxConsumer.as_asgi()),
]

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        "websocket": AllowedHostsOriginValidator(AuthMiddlewareStack(URLRouter(websocket_urlpatterns))),
    }
)

if getattr(settings, "EMBEDDED_WORKER", False):
    from backend.config.embedded import start_embedded_worker

    start_embedded_worker()
