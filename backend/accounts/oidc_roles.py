"""``BATON_OIDC_GROUP_ROLES`` parsing, without Django imports (production settings check it)."""

from __future__ import annotations

ROLE_RANK = {"viewer": 0, "reviewer": 1, "builder": 2, "admin": 3}


def parse_group_roles(value: str) -> dict[str, str]:
    """``"admins=admin, builders=builder"`` → ``{"admins": "admin", "builders": "builder"}``."""
    mapping: dict[str, str] = {}
    for item in value.split(","):
        if not item.strip():
            continue
        group, sep, role = item.rpartition("=")
        group, role = group.strip(), role.strip().lower()
        if not sep or not group or role not in ROLE_RANK:
            raise ValueError(f"BATON_OIDC_GROUP_ROLES: cannot read {item.strip()!r} (want group=role)")
        mapping[group] = role
    return mapping
