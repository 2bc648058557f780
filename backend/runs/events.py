"""Run events: stored with a per-run sequence number, published to ``run.<id>`` on commit."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from backend.runs.models import Run, RunEvent
from orchestrator_core.errors import LeaseLost
from orchestrator_core.ports import Event

logger = logging.getLogger(__name__)


def run_group(run_id: int) -> str:
    return f"run.{run_id}"


def event_to_dict(event: RunEvent) -> dict[str, Any]:
    return {
        "seq": event.seq,
        "type": event.type,
        "node_id": event.node_id or None,
        "ts": event.created_at.isoformat().replace("+00:00", "Z"),
        "data": event.data,
    }


def run_events_append(*, run_id: int, events: Sequence[Event], fence: int | None = None) -> list[RunEvent]:
    """Store events with the next sequence numbers and publish them after commit.

    Must run inside a transaction. With ``fence``, the write happens only if the run's
    fence still matches (the caller holds the lease); otherwise `LeaseLost`.
    """
    assert transaction.get_connection().in_atomic_block, "run_events_append needs a transaction"
    runs = Run.objects.filter(id=run_id)
    if fence is not None:
        runs = runs.filter(fence=fence)
    if runs.update(last_seq=F("last_seq") + len(events)) != 1:
        raise LeaseLost(f"Run {run_id} is owned by another worker.")
    if not events:
        return []
    last = Run.objects.values_list("last_seq", flat=True).get(id=run_id)
    now = timezone.now()
    first = last - len(events) + 1
    rows = [
        RunEvent(
            run_id=run_id,
            seq=first + i,
            type=e.type,
            node_id=e.node_id or "",
            data=dict(e.data),
            created_at=now,
        )
        for i, e in enumerate(events)
    ]
    RunEvent.objects.bulk_create(rows)
    payload = [event_to_dict(r) for r in rows]
    transaction.on_commit(lambda: run_events_publish(run_id=run_id, events=payload))
    return rows


def run_events_publish(*, run_id: int, events: list[dict[str, Any]]) -> None:
    """Send already-stored events to the run's websocket group. Losing one is harmless:
    clients replay from the database after ``seq`` when they reconnect."""
    layer = get_channel_layer()
    if layer is None:
        return
    try:
        async_to_sync(layer.group_send)(run_group(run_id), {"type": "run.events", "events": events})
    except Exception:  # the events are stored; never fail a run because a socket layer hiccuped
        logger.warning("Could not publish events of run %s", run_id, exc_info=True)
