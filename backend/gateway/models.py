from __future__ import annotations

from django.conf import settings
from django.db import models


class ModelOverride(models.Model):
    """An admin's correction of one catalog model: tier, context window and prices.

    Empty fields keep the model's own value (its connector or settings entry, else litellm's
    local cost map). Applied when the model catalog is built (``backend/common/engine.py``).
    """

    model_name = models.CharField(max_length=200, unique=True)
    tier = models.PositiveSmallIntegerField(null=True, blank=True)
    context_window = models.PositiveIntegerField(null=True, blank=True)
    input_cost_per_token = models.FloatField(null=True, blank=True)
    output_cost_per_token = models.FloatField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["model_name"]

    def __str__(self) -> str:
        return f"override of {self.model_name}"
