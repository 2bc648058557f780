from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from backend.accounts.models import User
from backend.audit.models import AuditEvent
from backend.common.errors import ApiError, Forbidden


def _moment(name: str, value: str, *, end_of_day: bool) -> dt.datetime:
    parsed = parse_datetime(value)
    if parsed is None:
        day = parse_date(value)
        if day is None:
            raise ApiError(f"`{name}` must be an ISO date or date-time.", details=[{"field": name}])
        parsed = dt.datetime.combine(day, dt.time.max if end_of_day else dt.time.min)
    return timezone.make_aware(parsed, dt.UTC) if timezone.is_naive(parsed) else parsed


def audit_list_for_user(
    *, user: User, action: str = "", actor: str = "", since: str = "", until: str = ""
) -> QuerySet[AuditEvent]:
    """Admins only. ``action`` matches exactly, or a prefix when it ends in ``.`` (``auth.``);
    ``actor`` is a username; ``since``/``until`` are ISO dates or date-times, inclusive."""
    if not user.is_admin:
        raise Forbidden("Only admins can read the audit log.")
    events = AuditEvent.objects.order_by("-id")
    if action:
        events = (
            events.filter(action__startswith=action) if action.endswith(".") else events.filter(action=action)
        )
    if actor:
        events = events.filter(actor_name=actor)
    if since:
        events = events.filter(created_at__gte=_moment("since", since, end_of_day=False))
    if until:
        events = events.filter(created_at__lte=_moment("until", until, end_of_day=True))
    return events


def audit_to_dict(event: AuditEvent) -> dict[str, Any]:
    return {
        "id": event.id,
        "created_at": event.created_at.isoformat(),
        "actor": event.actor_name or None,
        "action": event.action,
        "target_type": event.target_type,
        "target_id": event.target_id,
        "ip": event.ip,
        "data": event.data,
        "prev_hash": event.prev_hash,
        "hash": event.hash,
    }
