from __future__ import annotations

from django.conf import settings
from django.db import models

NOTIFY_EVENTS = ("created", "escalated")


def default_notify_events() -> list[str]:
    return list(NOTIFY_EVENTS)


class Queue(models.Model):
    """A named group of reviewers; an approval node sends its requests to one."""

    name = models.CharField(max_length=100, unique=True)
    description = models.CharField(max_length=500, blank=True)
    members = models.ManyToManyField(settings.AUTH_USER_MODEL, related_name="queues", blank=True)
    notify_email_connector = models.CharField(max_length=100, blank=True)
    """Name of an ``smtp`` connector: e-mail the members on new and escalated items (blank: off)."""
    notify_webhook_connector = models.CharField(max_length=100, blank=True)
    """Name of an ``http`` or ``slack`` connector to post a JSON notification to (blank: off)."""
    notify_events = models.JSONField(default=default_notify_events, blank=True)
    """Which events notify: ``created`` and/or ``escalated``."""

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


class ApprovalNotification(models.Model):
    """One notification to send after commit: written in the transaction that created (or escalated)
    the item, delivered afterwards, retried by the due-items sweep until sent (never twice: the
    ``key`` is also the outbox's idempotency key and the webhook's ``Idempotency-Key``)."""

    class Channel(models.TextChoices):
        EMAIL = "email"
        WEBHOOK = "webhook"

    class Status(models.TextChoices):
        PENDING = "pending"
        SENT = "sent"
        FAILED = "failed"

    approval = models.ForeignKey(Approval, on_delete=models.CASCADE, related_name="notifications")
    key = models.CharField(max_length=200, unique=True)
    event = models.CharField(max_length=16)
    channel = models.CharField(max_length=8, choices=Channel.choices)
    connector = models.CharField(max_length=100)
    recipient = models.CharField(max_length=254, blank=True)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.PENDING, db_index=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    """A delivery in flight (or failed) is not tried again before this time."""
    error = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"notification {self.key} ({self.status})"


class ReviewExample(models.Model):
    """A decided review kept as an example for the LLM node that wrote the draft."""

    approval = models.OneToOneField(Approval, on_delete=models.CASCADE, related_name="example")
    workflow = models.ForeignKey("workflows.Workflow", on_delete=models.CASCADE, related_name="+")
    llm_node_id = models.CharField(max_length=64, db_index=True)
    """The upstream ``llm.*`` node whose output the reviewer saw (blank: none found)."""
    approval_node_id = models.CharField(max_length=64)
    draft = models.JSONField(default=dict)
    edited = models.JSONField(null=True, blank=True)
    decision = models.CharField(max_length=24)
    comment = models.TextField(blank=True)
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField()

    class Meta:
        ordering = ["-decided_at", "-id"]
        indexes = [models.Index(fields=["workflow", "llm_node_id"], name="review_example_node")]

    def __str__(self) -> str:
        return f"example {self.id} ({self.decision})"
