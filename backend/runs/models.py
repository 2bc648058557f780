from __future__ import annotations

from django.conf import settings
from django.db import models

from backend.workflows.models import Workflow, WorkflowVersion


class Run(models.Model):
    class Status(models.TextChoices):
        QUEUED = "queued"
        RUNNING = "running"
        WAITING = "waiting"
        SUCCEEDED = "succeeded"
        FAILED = "failed"
        CANCELLED = "cancelled"

    FINAL = (Status.SUCCEEDED, Status.FAILED, Status.CANCELLED)

    workflow = models.ForeignKey(Workflow, on_delete=models.CASCADE, related_name="runs")
    version = models.ForeignKey(WorkflowVersion, on_delete=models.CASCADE, related_name="runs")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED, db_index=True)
    inputs = models.JSONField(default=dict)
    error = models.JSONField(null=True, blank=True)
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # Lease: one worker at a time. `fence` grows with every claim; writes carry it.
    lease_owner = models.CharField(max_length=128, blank=True)
    lease_until = models.DateTimeField(null=True, blank=True)
    fence = models.PositiveIntegerField(default=0)
    cancel_requested = models.BooleanField(default=False)
    last_seq = models.PositiveIntegerField(default=0)
    cost_usd = models.FloatField(default=0.0)
    # A child run (flow.subworkflow, logic.loop): which run's node started it, under which key.
    parent_run = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="children"
    )
    parent_node_id = models.CharField(max_length=64, blank=True)
    parent_key = models.CharField(max_length=32, blank=True)
    depth = models.PositiveSmallIntegerField(default=0)
    """0 for a run started by a person or a trigger; a child is one deeper than its parent."""
    root_run = models.ForeignKey("self", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    """A child run's top-level ancestor (None for a top-level run): the tree shares one per-run
    budget and the ledger sums it in one query (``backend/runs/budget.py``)."""

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["status", "lease_until"], name="run_status_lease")]
        constraints = [
            models.UniqueConstraint(
                fields=["parent_run", "parent_node_id", "parent_key"],
                condition=models.Q(parent_run__isnull=False),
                name="uniq_child_run_key",
            )
        ]

    def __str__(self) -> str:
        return f"run {self.id} ({self.status})"


class StepRun(models.Model):
    run = models.ForeignKey(Run, on_delete=models.CASCADE, related_name="steps")
    node_id = models.CharField(max_length=64)
    status = models.CharField(max_length=16)
    attempts = models.PositiveIntegerField(default=0)
    inputs = models.JSONField(null=True, blank=True)
    output = models.JSONField(null=True, blank=True)
    ports = models.JSONField(default=list)
    error = models.JSONField(null=True, blank=True)
    request = models.JSONField(null=True, blank=True)
    resume = models.JSONField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    meta = models.JSONField(default=dict)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["run", "node_id"], name="uniq_step_per_run_node")]

    def __str__(self) -> str:
        return f"{self.run_id}:{self.node_id} ({self.status})"


class RunEvent(models.Model):
    run = models.ForeignKey(Run, on_delete=models.CASCADE, related_name="events")
    seq = models.PositiveIntegerField()
    type = models.CharField(max_length=32)
    node_id = models.CharField(max_length=64, blank=True)
    data = models.JSONField(default=dict)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["seq"]
        constraints = [models.UniqueConstraint(fields=["run", "seq"], name="uniq_event_seq")]

    def __str__(self) -> str:
        return f"{self.run_id}#{self.seq} {self.type}"


class Effect(models.Model):
    """The side-effect ledger: written before acting on the world, completed after."""

    class Status(models.TextChoices):
        STARTED = "started"
        DONE = "done"

    key = models.CharField(max_length=200, unique=True)
    run = models.ForeignKey(Run, on_delete=models.CASCADE, related_name="effects")
    node_id = models.CharField(max_length=64)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.STARTED)
    result = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"effect {self.key} ({self.status})"


class RunOrigin(models.Model):
    """Where a re-run came from: the run it repeats and the node it restarted at (blank: all)."""

    run = models.OneToOneField(Run, on_delete=models.CASCADE, related_name="origin")
    rerun_of = models.ForeignKey(Run, on_delete=models.SET_NULL, null=True, related_name="reruns")
    rerun_from_node = models.CharField(max_length=64, blank=True)

    def __str__(self) -> str:
        return f"run {self.run_id} re-runs {self.rerun_of_id} from {self.rerun_from_node or 'the start'}"


class WebhookEndpoint(models.Model):
    """A workflow's secret webhook URL ``/api/hooks/<token>/``; rotating it kills the old URL."""

    workflow = models.OneToOneField(Workflow, on_delete=models.CASCADE, related_name="webhook")
    token = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    rotated_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"webhook of workflow {self.workflow_id}"


class WebhookDelivery(models.Model):
    """One delivery with an ``Idempotency-Key``: a repeat within 24 h returns the same run."""

    endpoint = models.ForeignKey(WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries")
    key = models.CharField(max_length=200)
    run = models.ForeignKey(Run, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["endpoint", "key"], name="uniq_webhook_delivery_key")]

    def __str__(self) -> str:
        return f"delivery {self.key} -> run {self.run_id}"


class ScheduleFire(models.Model):
    """One fired schedule tick. The unique (workflow, fire_at) pair is the no-double-firing guarantee."""

    workflow = models.ForeignKey(Workflow, on_delete=models.CASCADE, related_name="schedule_fires")
    fire_at = models.DateTimeField()
    run = models.ForeignKey(Run, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["workflow", "fire_at"], name="uniq_schedule_fire")]

    def __str__(self) -> str:
        return f"workflow {self.workflow_id} fired {self.fire_at}"
