from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q


def empty_document() -> dict[str, object]:
    return {"schema_version": 1, "nodes": [], "edges": []}


class Workflow(models.Model):
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="workflows")
    draft = models.JSONField(default=empty_document)
    revision = models.PositiveIntegerField(default=1)
    """Bumped on every save; a save from an older revision gets 409 STALE_REVISION."""
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name


class WorkflowVersion(models.Model):
    """An immutable copy of a workflow document. Runs always point at one."""

    workflow = models.ForeignKey(Workflow, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    document = models.JSONField()
    document_hash = models.CharField(max_length=64)
    published = models.BooleanField(default=False)
    """False for snapshots taken to test-run a draft from the editor."""
    note = models.CharField(max_length=500, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-number"]
        constraints = [
            models.UniqueConstraint(fields=["workflow", "number"], name="uniq_workflow_version_number")
        ]

    def __str__(self) -> str:
        return f"{self.workflow_id} v{self.number}"


class WorkflowShare(models.Model):
    class Permission(models.TextChoices):
        VIEW = "view", "View"
        RUN = "run", "Run"
        EDIT = "edit", "Edit"

    workflow = models.ForeignKey(Workflow, on_delete=models.CASCADE, related_name="shares")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="workflow_shares",
        null=True,
        blank=True,
    )
    queue = models.ForeignKey(
        "approvals.Queue", on_delete=models.CASCADE, related_name="workflow_shares", null=True, blank=True
    )
    """A queue (group) share gives every member of the queue the permission."""
    permission = models.CharField(max_length=8, choices=Permission.choices, default=Permission.VIEW)
    created_at = models.DateTimeField(auto_now_add=True, null=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["workflow", "user"], name="uniq_workflow_share"),
            models.UniqueConstraint(fields=["workflow", "queue"], name="uniq_workflow_queue_share"),
            models.CheckConstraint(
                condition=(Q(user__isnull=False) & Q(queue__isnull=True))
                | (Q(user__isnull=True) & Q(queue__isnull=False)),
                name="workflow_share_user_xor_queue",
            ),
        ]

    def __str__(self) -> str:
        who = f"user {self.user_id}" if self.user_id else f"queue {self.queue_id}"
        return f"{who} may {self.permission} {self.workflow_id}"


class VersionReview(models.Model):
    """A published version waiting for a second builder (the ``publish_review`` policy).

    The version is stored with ``published=False`` until someone other than its author approves
    it; rejecting it leaves the previous version live."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        APPROVED = "approved", "Approved"
        REJECTED = "rejected", "Rejected"
        SUPERSEDED = "superseded", "Superseded"
        """A newer publish replaced it before anyone decided."""

    workflow = models.ForeignKey(Workflow, on_delete=models.CASCADE, related_name="version_reviews")
    version = models.OneToOneField(WorkflowVersion, on_delete=models.CASCADE, related_name="review")
    base_number = models.PositiveIntegerField(null=True, blank=True)
    """The version that was live when the review was asked for (the diff's left side)."""
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING, db_index=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    comment = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["workflow"],
                condition=Q(status="pending"),
                name="uniq_pending_version_review",
            )
        ]

    def __str__(self) -> str:
        return f"review of {self.version_id} ({self.status})"
