from __future__ import annotations

from django.conf import settings
from django.db import models


class Queue(models.Model):
    """A named group of reviewers; an approval node sends its requests to one."""

    name = models.CharField(max_length=100, unique=True)
    description = models.CharField(max_length=500, blank=True)
    members = models.ManyToManyField(settings.AUTH_USER_MODEL, related_name="queues", blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Approval(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending"
        APPROVED = "approved"
        REJECTED = "rejected"
        CANCELLED = "cancelled"

    run = models.ForeignKey("runs.Run", on_delete=models.CASCADE, related_name="approvals")
    node_id = models.CharField(max_length=64)
    key = models.CharField(max_length=200, unique=True)
    """``run:node`` — one request per waiting step, however often the worker retries."""
    queue = models.ForeignKey(Queue, on_delete=models.PROTECT, related_name="approvals")
    title = models.CharField(max_length=500)
    instructions = models.TextField(blank=True)
    context = models.JSONField(default=dict)
    fields = models.JSONField(default=dict)
    payload_hash = models.CharField(max_length=64)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING, db_index=True)
    claimed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    claimed_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    edited = models.JSONField(null=True, blank=True)
    comment = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"approval {self.id} ({self.status})"
