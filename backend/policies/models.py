"""Governance policies: one global row (``workflow`` null) and optional per-workflow overrides.

How the two merge into the policy a run executes under is in ``selectors.effective_policy`` and
``docs/policies.md``: a workflow's policy may only tighten the global one, never loosen it.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q


class Policy(models.Model):
    class OnBudget(models.TextChoices):
        STOP = "stop", "Stop"
        DOWNGRADE = "downgrade", "Downgrade to a cheaper model"
        APPROVE = "approve", "Ask for approval"

    workflow = models.OneToOneField(
        "workflows.Workflow", on_delete=models.CASCADE, null=True, blank=True, related_name="policy"
    )
    """None for the global policy (one row at most)."""
    is_global = models.BooleanField(default=False, editable=False)
    """True on the global row only; a partial unique index keeps it single (NULLs never collide)."""

    run_max_usd = models.DecimalField(max_digits=12, decimal_places=4, null=True, blank=True)
    run_max_tokens = models.PositiveBigIntegerField(null=True, blank=True)
    workflow_day_max_usd = models.DecimalField(max_digits=12, decimal_places=4, null=True, blank=True)
    workflow_day_max_tokens = models.PositiveBigIntegerField(null=True, blank=True)
    user_month_max_usd = models.DecimalField(max_digits=12, decimal_places=4, null=True, blank=True)
    user_month_max_tokens = models.PositiveBigIntegerField(null=True, blank=True)
    on_budget = models.CharField(max_length=16, choices=OnBudget.choices, blank=True, default="")
    """Empty: the global policy's choice (``stop`` when the global one is unset too)."""

    allowed_models = models.JSONField(null=True, blank=True)
    """A list of model names, or None for every model."""
    allowed_connectors = models.JSONField(null=True, blank=True)
    """A list of connector names, or None for every connector."""

    four_eyes = models.BooleanField(default=False)
    external_send_requires_approval = models.BooleanField(default=False)
    redact_pii = models.BooleanField(default=False)
    publish_review = models.BooleanField(default=False)
    retention_days = models.PositiveIntegerField(null=True, blank=True)
    """Days to keep finished runs; None falls back to ``BATON_RETENTION_DAYS``."""

    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["is_global"], condition=Q(is_global=True), name="uniq_global_policy"
            ),
            models.CheckConstraint(
                condition=Q(is_global=True, workflow__isnull=True)
                | Q(is_global=False, workflow__isnull=False),
                name="policy_global_xor_workflow",
            ),
        ]

    def __str__(self) -> str:
        return f"policy of workflow {self.workflow_id}" if self.workflow_id else "global policy"
