"""`DjangoConversationMemory`: the engine's `ConversationMemory` port on the ORM.

Sessions are per workflow (the run's). Appending is idempotent per run and node: the unique
``(run, node_id, position)`` constraint makes a re-executed node (a retry, a resume after a
crash) add nothing the second time. Turns cascade with their run, so purging runs for
retention purges the turns they added.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.db import IntegrityError, transaction

from backend.memory.models import Conversation
from backend.memory.models import Turn as TurnRow
from backend.runs.models import Run
from orchestrator_core.ports import Turn


class DjangoConversationMemory:
    def __init__(self) -> None:
        self._workflows: dict[str, int | None] = {}

    def _workflow_id(self, run_id: str) -> int | None:
        if run_id not in self._workflows:
            self._workflows[run_id] = (
                Run.objects.filter(id=int(run_id)).values_list("workflow_id", flat=True).first()
            )
        return self._workflows[run_id]

    def read(self, run_id: str, node_id: str, session_key: str, *, limit: int) -> list[Turn]:
        workflow_id = self._workflow_id(run_id)
        if workflow_id is None or limit <= 0:
            return []
        rows = (
            TurnRow.objects.filter(
                conversation__workflow_id=workflow_id, conversation__session_key=session_key
            )
            .exclude(run_id=int(run_id), node_id=node_id)
            .order_by("-id")
            .values_list("role", "content")[:limit]
        )
        return [Turn(role, content) for role, content in reversed(list(rows))]

    def append(self, run_id: str, node_id: str, session_key: str, turns: Sequence[Turn]) -> None:
        workflow_id = self._workflow_id(run_id)
        if workflow_id is None or not turns:
            return
        if TurnRow.objects.filter(run_id=int(run_id), node_id=node_id).exists():
            return
        conversation = self._conversation(workflow_id, session_key)
        try:
            with transaction.atomic():
                TurnRow.objects.bulk_create(
                    [
                        TurnRow(
                            conversation=conversation,
                            role=turn.role,
                            content=turn.content,
                            run_id=int(run_id),
                            node_id=node_id,
                            position=index,
                        )
                        for index, turn in enumerate(turns)
                    ]
                )
        except IntegrityError:  # another worker appended this node's turns first: nothing to do
            if not TurnRow.objects.filter(run_id=int(run_id), node_id=node_id).exists():
                raise

    @staticmethod
    def _conversation(workflow_id: int, session_key: str) -> Conversation:
        for _ in range(2):
            try:
                with transaction.atomic():
                    conversation, _created = Conversation.objects.get_or_create(
                        workflow_id=workflow_id, session_key=session_key
                    )
                    return conversation
            except IntegrityError:  # created by another worker in between: read it
                continue
        return Conversation.objects.get(workflow_id=workflow_id, session_key=session_key)
