"""Runs started by something other than a person: webhooks and schedules."""

from __future__ import annotations

import logging
import secrets
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from backend.accounts.models import User
from backend.audit.services import audit_record
from backend.common.errors import ApiError, NotFound
from backend.runs.models import Run, ScheduleFire, StepRun, WebhookDelivery, WebhookEndpoint
from backend.runs.services import run_start
from backend.workflows.models import Workflow, WorkflowVersion
from backend.workflows.selectors import workflow_published_version
from orchestrator_core import BatonError
from orchestrator_core.nodes.builtin.trigger_schedule import (
    latest_tick,
    schedule_config,
    schedule_trigger_input,
)
from orchestrator_core.nodes.builtin.trigger_webhook import (
    TriggerWebhookConfig,
    check_webhook_input,
    webhook_config,
)

logger = logging.getLogger(__name__)

IDEMPOTENCY_WINDOW = timedelta(hours=24)
MAX_IDEMPOTENCY_KEY = 200


def _new_token() -> str:
    return secrets.token_urlsafe(32)


# --- Webhooks ---------------------------------------------------------------------------------


def webhook_endpoint_get_or_create(*, workflow: Workflow) -> WebhookEndpoint:
    """The workflow's webhook endpoint, created with a fresh secret token on first use."""
    endpoint = WebhookEndpoint.objects.filter(workflow=workflow).first()
    if endpoint is not None:
        return endpoint
    try:
        with transaction.atomic():
            return WebhookEndpoint.objects.create(workflow=workflow, token=_new_token())
    except IntegrityError:  # created concurrently
        return WebhookEndpoint.objects.get(workflow=workflow)


@transaction.atomic
def webhook_endpoint_rotate(*, workflow: Workflow, user: User) -> WebhookEndpoint:
    """Replace the secret token: the old URL answers 404 from now on."""
    endpoint = webhook_endpoint_get_or_create(workflow=workflow)
    endpoint.token = _new_token()
    endpoint.rotated_at = timezone.now()
    endpoint.save(update_fields=["token", "rotated_at"])
    audit_record(actor=user, action="webhook.rotate", target=workflow)
    return endpoint


def webhook_enabled(*, workflow: Workflow) -> bool:
    """True when the published version starts with a ``trigger.webhook``."""
    version = workflow_published_version(workflow=workflow)
    return version is not None and webhook_config(version.document) is not None


@dataclass(frozen=True)
class Delivery:
    run: Run
    config: TriggerWebhookConfig
    duplicate: bool


def _webhook_target(token: str) -> tuple[WebhookEndpoint, WorkflowVersion, TriggerWebhookConfig]:
    not_found = NotFound("No webhook here.")
    endpoint = (
        WebhookEndpoint.objects.select_related("workflow").filter(token=token).first() if token else None
    )
    if endpoint is None:
        raise not_found
    version = workflow_published_version(workflow=endpoint.workflow)
    config = webhook_config(version.document) if version is not None else None
    if version is None or config is None:
        raise not_found  # the same answer as a wrong token: do not reveal that the workflow exists
    return endpoint, version, config


def webhook_deliver(*, token: str, body: Any, query: dict[str, str], idempotency_key: str | None) -> Delivery:
    """Start a run of the published version for one webhook delivery.

    A repeated ``idempotency_key`` within 24 h returns the first delivery's run and starts nothing.

    Raises:
        NotFound: unknown or rotated token, or the published version has no webhook trigger.
        ApiError: IDEMPOTENCY_KEY_INVALID; BatonError: INPUT_INVALID.
    """
    if idempotency_key is not None and not 0 < len(idempotency_key) <= MAX_IDEMPOTENCY_KEY:
        raise ApiError(
            f"Idempotency-Key must be 1 to {MAX_IDEMPOTENCY_KEY} characters.", code="IDEMPOTENCY_KEY_INVALID"
        )
    endpoint, version, config = _webhook_target(token)
    if idempotency_key:
        earlier = _delivery_run(endpoint, idempotency_key)
        if earlier is not None:
            return Delivery(run=earlier, config=config, duplicate=True)
    inputs = check_webhook_input(version.document, body=body, query=query)
    try:
        with transaction.atomic():
            run = run_start(version=version, started_by=None, inputs=inputs, audit_data={"via": "webhook"})
            if idempotency_key:
                WebhookDelivery.objects.create(endpoint=endpoint, key=idempotency_key, run=run)
    except IntegrityError:
        # A concurrent delivery with the same key won; our run was rolled back with its dispatch.
        earlier = _delivery_run(endpoint, idempotency_key or "")
        if earlier is None:
            raise
        return Delivery(run=earlier, config=config, duplicate=True)
    return Delivery(run=run, config=config, duplicate=False)


def _delivery_run(endpoint: WebhookEndpoint, key: str) -> Run | None:
    delivery = WebhookDelivery.objects.select_related("run").filter(endpoint=endpoint, key=key).first()
    if delivery is None:
        return None
    if delivery.created_at < timezone.now() - IDEMPOTENCY_WINDOW:
        delivery.delete()  # an expired key may be used again
        return None
    return delivery.run


def webhook_wait_for_response(*, delivery: Delivery, poll_seconds: float = 0.1) -> tuple[str, Any]:
    """Wait (up to the trigger's ``timeout_seconds``) for the run to end.

    Returns:
        ``("output", <the response node's output>)`` when the run succeeded and the node produced
        an output; ``("failed", <run error>)`` when the run ended without one; ``("timeout", None)``.
    """
    run_id = delivery.run.id
    deadline = time.monotonic() + delivery.config.timeout_seconds
    while True:
        status, error = Run.objects.values_list("status", "error").get(id=run_id)
        if status in Run.FINAL:
            break
        if time.monotonic() >= deadline:
            return "timeout", None
        time.sleep(poll_seconds)
    node_id = delivery.config.response_node
    step = StepRun.objects.filter(run_id=run_id, node_id=node_id or "", status="succeeded").first()
    if status == Run.Status.SUCCEEDED and step is not None:
        return "output", step.output
    return "failed", error or {"code": "RESPONSE_MISSING", "message": f"Node '{node_id}' produced no output."}


# --- Schedules --------------------------------------------------------------------------------


def _published_versions() -> list[WorkflowVersion]:
    """The latest published version of every workflow."""
    latest: dict[int, WorkflowVersion] = {}
    for version in WorkflowVersion.objects.filter(published=True).order_by("workflow_id", "-number"):
        latest.setdefault(version.workflow_id, version)
    return list(latest.values())


def _last_fire(workflow_id: int) -> datetime | None:
    return (
        ScheduleFire.objects.filter(workflow_id=workflow_id)
        .order_by("-fire_at")
        .values_list("fire_at", flat=True)
        .first()
    )


def schedules_fire_due(*, now: datetime | None = None) -> int:
    """Start one run per scheduled workflow whose latest tick is due and not yet fired.

    Only the most recent due tick fires (a scheduler that was down does not replay a backlog).
    Several schedulers may run this at once: the unique (workflow, fire_at) row is inserted
    first, in the run's transaction, so a tick fires at most once.

    Returns:
        How many runs were started.
    """
    now = now or timezone.now()
    started = 0
    for version in _published_versions():
        config = schedule_config(version.document)
        if config is None:
            continue
        tick = latest_tick(config, now)
        last = _last_fire(version.workflow_id)
        since = max(last, version.created_at) if last is not None else version.created_at
        if tick <= since:
            continue
        try:
            with transaction.atomic():
                fire = ScheduleFire.objects.create(workflow_id=version.workflow_id, fire_at=tick)
                fire.run = run_start(
                    version=version,
                    started_by=None,
                    inputs=schedule_trigger_input(config, tick),
                    audit_data={"via": "schedule", "fire_at": tick.isoformat()},
                )
                fire.save(update_fields=["run"])
        except IntegrityError:
            continue  # another scheduler fired this tick
        except (BatonError, ApiError):
            logger.warning(
                "Schedule of workflow %s could not start a run", version.workflow_id, exc_info=True
            )
            try:
                with transaction.atomic():  # mark the tick as done so it is not retried every pass
                    ScheduleFire.objects.create(workflow_id=version.workflow_id, fire_at=tick)
            except IntegrityError:
                pass
            continue
        started += 1
    return started
