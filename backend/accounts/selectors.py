from __future__ import annotations

from typing import Any

from backend.accounts.models import User


def user_to_dict(user: User) -> dict[str, Any]:
    return {
        "id": user.id,
        "username": user.username,
        "display_name": user.display_name or user.get_full_name() or user.username,
        "role": "admin" if user.is_admin else user.role,
        "is_admin": user.is_admin,
        "queues": sorted(user.queues.values_list("name", flat=True)),
    }
