"""Who may see which connector. Admins see settings; builders see names and kinds only."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from backend.accounts.models import User
from backend.common.errors import Forbidden, NotFound
from backend.connectors.models import Connector


def connector_list_for_user(*, user: User) -> QuerySet[Connector]:
    if not user.can_build:
        raise Forbidden("Only builders and admins can see connectors.")
    return Connector.objects.select_related("created_by").order_by("name")


def connector_get_for_user(*, user: User, connector_id: int) -> Connector:
    connector = connector_list_for_user(user=user).filter(id=connector_id).first()
    if connector is None:
        raise NotFound("No such connector.")
    return connector


def connector_check_admin(*, user: User) -> None:
    if not user.is_admin:
        raise Forbidden("Only admins can change connectors.")


def connector_to_dict(connector: Connector, *, user: User) -> dict[str, Any]:
    """The public view of a connector. Secret values never leave: only whether and which are set."""
    out: dict[str, Any] = {"id": connector.id, "name": connector.name, "kind": connector.kind}
    if not user.is_admin:
        return out
    secret = connector.secret or {}
    out.update(
        {
            "config": connector.config,
            "allowed_hosts": connector.allowed_hosts,
            "secret_set": bool(secret),
            "secret_fields": sorted(secret),
            "created_by": connector.created_by.username if connector.created_by else None,
            "created_at": connector.created_at.isoformat(),
            "updated_at": connector.updated_at.isoformat(),
        }
    )
    return out
