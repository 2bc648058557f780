"""Run retention: finished runs older than ``BATON_RETENTION_DAYS`` are deleted (0 = keep forever).

Only finished runs (succeeded, failed, cancelled) go, by ``finished_at``; their steps, events,
effects, approvals and webhook deliveries go with them (cascade). Waiting, queued and running
runs are never touched. Deletes in batches so that no single transaction grows large.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from backend.audit.services import audit_record
from backend.runs.models import Run

logger = logging.getLogger(__name__)

BATCH_SIZE = 500


def runs_purge_expired(*, now: datetime | None = None, batch_size: int = BATCH_SIZE) -> int:
    """Delete expired finished runs; the number of runs deleted (one ``runs.purged`` audit event
    when any were)."""
    days = int(getattr(settings, "BATON_RETENTION_DAYS", 0) or 0)
    if days <= 0:
        return 0
    cutoff = (now or timezone.now()) - timedelta(days=days)
    expired = Run.objects.filter(status__in=Run.FINAL, finished_at__lt=cutoff)
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
        audit_record(
            actor=None,
            action="runs.purged",
            data={"count": total, "retention_days": days, "cutoff": cutoff.isoformat()},
        )
        logger.info("Purged %d runs finished before %s", total, cutoff.isoformat())
    return total
