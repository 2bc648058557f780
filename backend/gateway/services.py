"""Writes of model overrides: each change is audited and the cached catalog is dropped."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from backend.accounts.models import User
from backend.audit.services import audit_record
from backend.common.errors import ApiError
from backend.gateway.models import ModelOverride
from backend.gateway.selectors import FIELDS, model_override_check_admin

MAX_USD_PER_TOKEN = 1.0
"""$1,000,000 per 1M tokens: anything above is a typo."""


def _values(row: ModelOverride | None) -> dict[str, Any] | None:
    return None if row is None else {f: getattr(row, f) for f in FIELDS}


@transaction.atomic
def model_override_set(
    *,
    user: User,
    model_name: str,
    tier: int | None = None,
    context_window: int | None = None,
    input_cost_per_token: float | None = None,
    output_cost_per_token: float | None = None,
    request: Any = None,
) -> ModelOverride | None:
    """Store the override of ``model_name`` (None fields keep the default); all None removes it.

    Raises:
        Forbidden: not an admin.
        ApiError: MODEL_OVERRIDE_INVALID for an empty name, reserved name or out-of-range value.
    """
    model_override_check_admin(user=user)
    name = model_name.strip()
    problems = []
    if not name or len(name) > 200:
        problems.append({"field": "model_name", "message": "1-200 characters"})
    if name in ("demo", "auto"):
        problems.append({"field": "model_name", "message": f"'{name}' cannot be overridden"})
    if tier is not None and not 1 <= tier <= 3:
        problems.append({"field": "tier", "message": "1 to 3"})
    if context_window is not None and not 1 <= context_window <= 100_000_000:
        problems.append({"field": "context_window", "message": "1 to 100,000,000 tokens"})
    for field, value in (("input", input_cost_per_token), ("output", output_cost_per_token)):
        if value is not None and not 0 <= value <= MAX_USD_PER_TOKEN:
            problems.append({"field": f"{field}_usd_per_1m", "message": "0 to 1,000,000 USD per 1M tokens"})
    if problems:
        raise ApiError(
            "The model override is invalid: " + "; ".join(f"{p['field']}: {p['message']}" for p in problems),
            code="MODEL_OVERRIDE_INVALID",
            details=problems,
        )
    values = {
        "tier": tier,
        "context_window": context_window,
        "input_cost_per_token": input_cost_per_token,
        "output_cost_per_token": output_cost_per_token,
    }
    before_row = ModelOverride.objects.select_for_update().filter(model_name=name).first()
    before = _values(before_row)
    row: ModelOverride | None
    if all(v is None for v in values.values()):
        if before_row is None:
            return None
        before_row.delete()
        row = None
        action = "model_override.delete"
    else:
        row, _ = ModelOverride.objects.update_or_create(
            model_name=name, defaults={**values, "updated_by": user}
        )
        action = "model_override.set"
    audit_record(
        actor=user,
        action=action,
        request=request,
        target=row,
        data={"model": name, "before": before, "after": _values(row)},
    )
    from backend.common.engine import model_catalog_clear

    transaction.on_commit(model_catalog_clear)
    return row
