"""Reads of model overrides and the admin view of the catalog (defaults next to overrides)."""

from __future__ import annotations

from typing import Any

from backend.accounts.models import User
from backend.common.errors import Forbidden
from backend.gateway.models import ModelOverride

FIELDS = ("tier", "context_window", "input_cost_per_token", "output_cost_per_token")


def model_override_check_admin(*, user: User) -> None:
    if not user.is_admin:
        raise Forbidden("Only admins can change the model catalog.")


def model_overrides_by_name() -> dict[str, ModelOverride]:
    return {row.model_name: row for row in ModelOverride.objects.all()}


def _per_1m(value: float | None) -> float | None:
    return None if value is None else round(value * 1_000_000, 6)


def model_catalog_admin_rows() -> list[dict[str, Any]]:
    """Every catalog model with its effective values, the defaults (connector/settings, else
    litellm's local cost map) and the stored override; then overrides of models not in the
    catalog (``source: "override"``), so an admin can remove them."""
    from backend.common.engine import llm_client, model_catalog

    client = llm_client()
    overrides = model_overrides_by_name()
    rows = []
    for model in model_catalog():
        spec, base = model.spec, model.default_spec or model.spec
        prices, default_prices = client.prices(spec), client.prices(base)
        row = overrides.pop(spec.name, None)
        rows.append(
            {
                "name": spec.name,
                "label": spec.label or spec.name,
                "provider": model.provider,
                "litellm_model": spec.litellm_model,
                "source": model.source,
                "connector": model.connector,
                "tier": spec.tier,
                "context_window": client.context_window(spec),
                "input_usd_per_1m": None if prices is None else _per_1m(prices[0]),
                "output_usd_per_1m": None if prices is None else _per_1m(prices[1]),
                "default": {
                    "tier": base.tier,
                    "context_window": client.context_window(base),
                    "input_usd_per_1m": None if default_prices is None else _per_1m(default_prices[0]),
                    "output_usd_per_1m": None if default_prices is None else _per_1m(default_prices[1]),
                },
                "override": None if row is None else model_override_to_dict(row),
                "editable": model.source != "demo",
            }
        )
    for row in overrides.values():
        rows.append(
            {
                "name": row.model_name,
                "label": row.model_name,
                "provider": "",
                "litellm_model": "",
                "source": "override",
                "connector": "",
                "tier": row.tier or 1,
                "context_window": row.context_window,
                "input_usd_per_1m": _per_1m(row.input_cost_per_token),
                "output_usd_per_1m": _per_1m(row.output_cost_per_token),
                "default": None,
                "override": model_override_to_dict(row),
                "editable": True,
            }
        )
    return rows


def model_override_to_dict(row: ModelOverride) -> dict[str, Any]:
    return {
        "tier": row.tier,
        "context_window": row.context_window,
        "input_usd_per_1m": _per_1m(row.input_cost_per_token),
        "output_usd_per_1m": _per_1m(row.output_cost_per_token),
        "updated_at": row.updated_at.isoformat(),
        "updated_by": row.updated_by.username if row.updated_by else None,
    }
