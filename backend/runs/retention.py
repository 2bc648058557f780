"""Run retention: finished runs older than their retention are deleted (0 = keep forever).

The retention comes from the policies (``backend/policies``): the global policy's
``retention_days`` (or ``BATON_RETENTION_DAYS`` when unset), shortened per workflow where the
workflow's own policy sets fewer days.

Only finished runs (succeeded, failed, cancelled) go, by ``finished_at``; their steps, events,
effects, approvals and webhook deliveries go with them (cascade). Waiting, queued and running
runs are never touched. Deletes in batches so that no single transaction grows large.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from backend.audit.services import audit_record
from backend.policies.models import Policy
from backend.policies.selectors import merge_policies
from backend.runs.models import Run

logger = logging.getLogger(__name__)

BATCH_SIZE = 500


def _retention_plan() -> tuple[int, dict[int, int]]:
    """(days for every workflow, {workflow_id: days} where a workflow's policy keeps fewer)."""
    rows = list(Policy.objects.filter(is_global=True) | Policy.objects.filter(retention_days__isnull=False))
    global_row = next((r for r in rows if r.is_global), None)
    default_days = merge_policies(global_row, None)[1].retention_days
    shorter: dict[int, int] = {}
    for row in rows:
        if row.workflow_id is None:
            continue
        days = merge_policies(global_row, row)[1].retention_days
        if days > 0 and (default_days <= 0 or days < default_days):
            shorter[row.workflow_id] = days
    return default_days, shorter


def runs_purge_expired(*, now: datetime | None = None, batch_size: int = BATCH_SIZE) -> int:
    """Delete expired finished runs; the number of runs deleted (one ``runs.purged`` audit event
    per retention that deleted some)."""
    default_days, shorter = _retention_plan()
    now = now or timezone.now()
    total = 0
    if default_days > 0:
        others = Run.objects.exclude(workflow_id__in=list(shorter))
        total += _purge(others, days=default_days, now=now, batch_size=batch_size, workflow_id=None)
    for workflow_id, days in sorted(shorter.items()):
        runs = Run.objects.filter(workflow_id=workflow_id)
        total += _purge(runs, days=days, now=now, batch_size=batch_size, workflow_id=workflow_id)
    return total


def _purge(runs: Any, *, days: int, now: datetime, batch_size: int, workflow_id: int | None) -> int:
    cutoff = now - timedelta(days=days)
    unfinished = [s for s in Run.Status.values if s not in Run.FINAL]
    # A finished child run stays while its parent or root still runs or waits on it.
    expired = (
        runs.filter(status__in=Run.FINAL, finished_at__lt=cutoff)
        .exclude(parent_run__status__in=unfinished)
        .exclude(root_run__status__in=unfinished)
    )
    total = 0
    while True:
        ids = list(expired.order_by("id").values_list("id", flat=True)[:batch_size])
        if not ids:
            break
        with transaction.atomic():
            # Re-check the status inside the delete: a run cannot leave a final state, but be safe.
            _, per_model = Run.objects.filter(id__in=ids, status__in=Run.FINAL).delete()
        total += per_model.get(Run._meta.label, 0)
    if total:
        data: dict[str, Any] = {"count": total, "retention_days": days, "cutoff": cutoff.isoformat()}
        if workflow_id is not None:
            data["workflow_id"] = workflow_id
        audit_record(actor=None, action="runs.purged", data=data)
        logger.info("Purged %d runs finished before %s", total, cutoff.isoformat())
    return total
