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
        CHANGES_REQUESTED = "changes_requested"
        TIMED_OUT = "timed_out"

    class OnDue(models.TextChoices):
        TIMEOUT = "timeout"
        ESCALATE = "escalate"

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
    status = models.CharField(max_length=24, choices=Status.choices, default=Status.PENDING, db_index=True)
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
    approvals_required = models.PositiveSmallIntegerField(default=1)
    """N distinct approving votes resolve it; one rejection (or change request) resolves it at once."""
    allow_starter = models.BooleanField(default=True)
    """False = four eyes: the run's starter may not vote."""
    due_at = models.DateTimeField(null=True, blank=True, db_index=True)
    due_minutes = models.PositiveIntegerField(null=True, blank=True)
    on_due = models.CharField(max_length=16, choices=OnDue.choices, default=OnDue.TIMEOUT)
    escalate_to = models.CharField(max_length=100, blank=True)
    escalated_at = models.DateTimeField(null=True, blank=True)
    """Set once the item moved to ``escalate_to``; the next deadline then times it out."""

    class Meta:
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"approval {self.id} ({self.status})"


class ApprovalVote(models.Model):
    """One reviewer's decision on an approval; an approval needs ``approvals_required`` approving votes."""

    class Decision(models.TextChoices):
        APPROVE = "approve"
        REJECT = "reject"
        REQUEST_CHANGES = "request_changes"

    approval = models.ForeignKey(Approval, on_delete=models.CASCADE, related_name="votes")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    decision = models.CharField(max_length=24, choices=Decision.choices)
    edited = models.JSONField(null=True, blank=True)
    comment = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        constraints = [models.UniqueConstraint(fields=["approval", "user"], name="approval_vote_once")]

    def __str__(self) -> str:
        return f"vote {self.id} ({self.decision})"
