from __future__ import annotations

from django.conf import settings
from django.db import models

from backend.common.crypto import EncryptedJSONField


class OutboxMessage(models.Model):
    """Every e-mail a workflow sends. In embedded mode this is the only transport."""

    class Status(models.TextChoices):
        SENT = "sent"
        FAILED = "failed"

    run = models.ForeignKey(
        "runs.Run", on_delete=models.SET_NULL, null=True, blank=True, related_name="emails"
    )
    node_id = models.CharField(max_length=64, blank=True)
    idempotency_key = models.CharField(max_length=200, unique=True)
    sender = models.CharField(max_length=254)
    to = models.CharField(max_length=254)
    subject = models.CharField(max_length=998)
    body = models.TextField()
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.SENT)
    transport = models.CharField(max_length=16, default="outbox")
    connector = models.CharField(
        max_length=100, blank=True, help_text="The SMTP connector it was sent through, if any."
    )
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"to {self.to}: {self.subject}"


class Connector(models.Model):
    """Settings to reach one outside service. ``secret`` is encrypted at rest and write-only in the API."""

    class Kind(models.TextChoices):
        SMTP = "smtp", "SMTP"
        HTTP = "http", "HTTP"
        MODEL = "model", "Model provider"
        SLACK = "slack", "Slack"

    name = models.CharField(max_length=100, unique=True)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    config = models.JSONField(default=dict, blank=True, help_text="Non-secret settings.")
    secret = EncryptedJSONField(default=dict, blank=True)
    allowed_hosts = models.JSONField(default=list, blank=True, help_text="Hosts this connector may reach.")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.kind})"
