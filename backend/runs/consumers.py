"""``ws /ws/runs/<id>/?after=<seq>``: replay stored events after ``seq``, then stream live ones.

The consumer authenticates, authorizes through `run_get_for_user`, joins ``run.<id>``,
forwards events and never writes.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from backend.common.errors import ApiError
from backend.runs.events import event_to_dict, run_group
from backend.runs.models import RunEvent
from backend.runs.selectors import run_get_for_user

CLOSE_UNAUTHENTICATED = 4401
CLOSE_NOT_FOUND = 4404
REPLAY_BATCH = 500


class RunEventsConsumer(AsyncJsonWebsocketConsumer):
    run_id: int
    last_seq: int = 0
    group: str = ""

    async def connect(self) -> None:
        await self.accept()
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        try:
            self.run_id = int(self.scope["url_route"]["kwargs"]["run_id"])
            await database_sync_to_async(run_get_for_user)(run_id=self.run_id, user=user)
        except (ApiError, ValueError):
            await self.close(code=CLOSE_NOT_FOUND)
            return
        query = parse_qs(self.scope.get("query_string", b"").decode())
        after = query.get("after", ["0"])[0]
        self.last_seq = int(after) if after.isdigit() else 0
        # Join first, then replay: an event committed in between arrives both ways and the
        # sequence number drops the second copy.
        self.group = run_group(self.run_id)
        await self.channel_layer.group_add(self.group, self.channel_name)
        while True:
            batch = await self._stored_after(self.last_seq)
            for event in batch:
                await self._forward(event)
            if len(batch) < REPLAY_BATCH:
                break

    @database_sync_to_async
    def _stored_after(self, seq: int) -> list[dict[str, Any]]:
        rows = RunEvent.objects.filter(run_id=self.run_id, seq__gt=seq).order_by("seq")[:REPLAY_BATCH]
        return [event_to_dict(r) for r in rows]

    async def _forward(self, event: dict[str, Any]) -> None:
        if event["seq"] <= self.last_seq:
            return
        self.last_seq = event["seq"]
        await self.send_json(event)

    async def run_events(self, message: dict[str, Any]) -> None:
        for event in message["events"]:
            if event["seq"] > self.last_seq + 1:
                # A gap (events published out of order by two writers): fill it from the
                # database, which has every committed event.
                for missed in await self._stored_after(self.last_seq):
                    await self._forward(missed)
            await self._forward(event)

    async def receive(
        self, text_data: str | None = None, bytes_data: bytes | None = None, **kwargs: Any
    ) -> None:
        """Clients have nothing to say: pings, garbage and non-JSON frames are ignored, not fatal."""

    async def disconnect(self, code: int) -> None:
        if self.group:
            await self.channel_layer.group_discard(self.group, self.channel_name)
