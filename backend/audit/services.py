from __future__ import annotations

import hashlib
import json
from typing import Any

from django.db import transaction

from backend.audit.models import AuditEvent


def _hash(prev_hash: str, payload: dict[str, Any]) -> str:
    blob = json.dumps(payload, sort_keys=True, default=str).encode()
    return hashlib.sha256(prev_hash.encode() + blob).hexdigest()


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
    event.hash = _hash(
        prev,
        {
            "actor": event.actor_name,
            "action": action,
            "target": [event.target_type, event.target_id],
            "ip": event.ip,
            "data": event.data,
        },
    )
    event.save()
    return event
