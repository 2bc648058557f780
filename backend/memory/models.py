from __future__ import annotations

from django.db import models


class Conversation(models.Model):
    """A conversation that LLM nodes of one workflow keep by a session key (``memory``)."""

    workflow = models.ForeignKey("workflows.Workflow", on_delete=models.CASCADE, related_name="conversations")
    session_key = models.CharField(max_length=200)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["workflow", "session_key"], name="uniq_conversation_session")
        ]

    def __str__(self) -> str:
        return f"conversation {self.session_key!r} of workflow {self.workflow_id}"


class Turn(models.Model):
    """One message. It belongs to the run that added it, so it goes when that run is purged."""

    class Role(models.TextChoices):
        USER = "user"
        ASSISTANT = "assistant"

    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="turns")
    role = models.CharField(max_length=16, choices=Role.choices)
    content = models.TextField()
    run = models.ForeignKey("runs.Run", on_delete=models.CASCADE, related_name="+")
    node_id = models.CharField(max_length=64)
    position = models.PositiveSmallIntegerField(default=0)
    """Order of the turn within what one run's node appended (0 = its prompt, 1 = the answer)."""
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["run", "node_id", "position"], name="uniq_turn_per_run_node")
        ]
        indexes = [models.Index(fields=["conversation", "-id"], name="turn_conversation_recent")]

    def __str__(self) -> str:
        return f"{self.role} turn {self.id}"
