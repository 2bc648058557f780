from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from django.db import connection, transaction

from backend.audit.models import AuditEvent

# Serializes appends on PostgreSQL: SELECT ... FOR UPDATE on the last row alone lets two
# concurrent appends both chain to the same predecessor.
_PG_CHAIN_LOCK = 0x62A70A0D17


def _hash(prev_hash: str, payload: dict[str, Any]) -> str:
    blob = json.dumps(payload, sort_keys=True, default=str).encode()
    return hashlib.sha256(prev_hash.encode() + blob).hexdigest()


def _payload(event: AuditEvent) -> dict[str, Any]:
    """The hashed part of an event: everything except the time, the actor FK and the hashes."""
    return {
        "actor": event.actor_name,
        "action": event.action,
        "target": [event.target_type, event.target_id],
        "ip": event.ip,
        "data": event.data,
    }


@transaction.atomic
def audit_record(
    *,
    actor: Any,
    action: str,
    request: Any = None,
    target: Any = None,
    data: dict[str, Any] | None = None,
) -> AuditEvent:
    """Append one audit event, chained to the previous one by hash. Never put secrets in ``data``."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_PG_CHAIN_LOCK])
    prev = AuditEvent.objects.select_for_update().order_by("-id").values_list("hash", flat=True).first() or ""
    actor_obj = actor if getattr(actor, "is_authenticated", False) else None
    event = AuditEvent(
        actor=actor_obj,
        actor_name=getattr(actor_obj, "username", ""),
        action=action,
        target_type=type(target).__name__ if target is not None else "",
        target_id=str(getattr(target, "pk", "")) if target is not None else "",
        ip=request.META.get("REMOTE_ADDR") if request is not None else None,
        data=data or {},
        prev_hash=prev,
    )
    event.hash = _hash(prev, _payload(event))
    event.save()
    return event


@dataclass(frozen=True)
class ChainReport:
    checked: int
    broken_id: int | None = None
    reason: str = ""

    @property
    def ok(self) -> bool:
        return self.broken_id is None


def audit_chain_verify(*, batch_size: int = 2000) -> ChainReport:
    """Recompute the hash chain from the first row; report the first row that does not match."""
    prev = ""
    checked = 0
    for event in AuditEvent.objects.order_by("id").iterator(chunk_size=batch_size):
        if event.prev_hash != prev:
            return ChainReport(checked, event.id, "prev_hash does not match the previous row's hash")
        if event.hash != _hash(prev, _payload(event)):
            return ChainReport(checked, event.id, "hash does not match the row's content")
        prev = event.hash
        checked += 1
    return ChainReport(checked)
