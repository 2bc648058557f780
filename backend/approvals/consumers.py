"""``ws /ws/inbox/``: new, claimed, decided and cancelled approvals of the user's queues, live.

The consumer authenticates, joins one group per queue the user belongs to (admins: all),
forwards and never writes. Membership is read at connect; a page reconnects after changes.
"""

from __future__ import annotations

from typing import Any

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from backend.approvals.events import INBOX_ADMIN_GROUP, inbox_group

CLOSE_UNAUTHENTICATED = 4401


class InboxConsumer(AsyncJsonWebsocketConsumer):
    groups_joined: list[str]

    async def connect(self) -> None:
        self.groups_joined = []
        await self.accept()
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        for group in await self._groups(user):
            await self.channel_layer.group_add(group, self.channel_name)
            self.groups_joined.append(group)
        await self.send_json({"type": "inbox.ready", "queues": len(self.groups_joined)})

    @database_sync_to_async
    def _groups(self, user: Any) -> list[str]:
        if user.is_admin:
            return [INBOX_ADMIN_GROUP]
        return [inbox_group(queue_id) for queue_id in user.queues.values_list("id", flat=True)]

    async def inbox_event(self, message: dict[str, Any]) -> None:
        await self.send_json(message["event"])

    async def receive(
        self, text_data: str | None = None, bytes_data: bytes | None = None, **kwargs: Any
    ) -> None:
        """Clients have nothing to say; anything they send is ignored."""

    async def disconnect(self, code: int) -> None:
        for group in self.groups_joined:
            await self.channel_layer.group_discard(group, self.channel_name)
