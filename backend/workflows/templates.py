"""Starter workflows (the templates gallery), read from ``fixtures/templates/*.json``.

Each file is ``{"name", "description", "category", "document"}``; its stem is the key.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction

from backend.accounts.models import User
from backend.audit.services import audit_record
from backend.common.errors import Forbidden, NotFound
from backend.workflows.models import Workflow
from backend.workflows.services import workflow_create

TEMPLATES_DIR = Path(settings.BASE_DIR) / "fixtures" / "templates"


@cache
def template_all() -> dict[str, dict[str, Any]]:
    """Every template by key, in file-name order."""
    out: dict[str, dict[str, Any]] = {}
    for path in sorted(TEMPLATES_DIR.glob("*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        out[path.stem] = {"key": path.stem, **data}
    return out


def template_summary(template: dict[str, Any]) -> dict[str, Any]:
    return {
        "key": template["key"],
        "name": template["name"],
        "description": template.get("description", ""),
        "category": template.get("category", "General"),
        "node_count": len(template["document"].get("nodes", [])),
    }


def template_get(*, key: str) -> dict[str, Any]:
    try:
        return template_all()[key]
    except KeyError:
        raise NotFound("Template not found.") from None


@transaction.atomic
def template_use(*, user: User, key: str, name: str | None = None) -> Workflow:
    """A new workflow owned by ``user`` from the template ``key``.

    Raises:
        Forbidden: the user is not a builder or admin.
        NotFound: no such template.
    """
    if not user.can_build:
        raise Forbidden("Only builders and admins create workflows.")
    template = template_get(key=key)
    workflow = workflow_create(
        user=user,
        name=(name or "").strip() or template["name"],
        description=template.get("description", ""),
        document=template["document"],
    )
    audit_record(actor=user, action="workflow.from_template", target=workflow, data={"template": key})
    return workflow
