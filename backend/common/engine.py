"""Turns Django settings into the engine's typed objects (the core never reads settings)."""

from __future__ import annotations

import dataclasses
import logging
import threading
from dataclasses import dataclass
from functools import cache
from typing import Any

from django.conf import settings
from django.db import DatabaseError
from django.db.models import Count, Max

from backend.connectors.redaction import RedactingLLMClient
from orchestrator_core import LiteLLMClient, ModelSpec, NodeRegistry, default_registry

logger = logging.getLogger(__name__)


@cache
def registry() -> NodeRegistry:
    return default_registry()


DEMO_SPEC = ModelSpec(name="demo", litellm_model="demo", label="Baton demo model (offline, deterministic)")

# litellm's provider prefix per model-connector provider.
_LITELLM_PREFIX = {
    "openai": "openai",
    "anthropic": "anthropic",
    "azure": "azure",
    "ollama": "ollama",
    "openai_compatible": "openai",
}


@dataclass(frozen=True)
class CatalogModel:
    """One usable model and where it comes from."""

    spec: ModelSpec
    provider: str
    source: str
    """``demo``, ``connector`` or ``settings`` (``ORCHESTRATOR["MODELS"]``)."""
    connector: str = ""
    default_spec: ModelSpec | None = None
    """The spec before an admin's override (``backend/gateway``); None when not overridden."""


def _connector_models(row: Any) -> list[CatalogModel]:
    config: dict[str, Any] = row.config or {}
    secret: dict[str, Any] = row.secret or {}
    provider = str(config.get("provider", "openai"))
    prefix = _LITELLM_PREFIX.get(provider, provider)
    out = []
    for entry in config.get("models", []):
        item: dict[str, Any] = {"name": entry} if isinstance(entry, str) else dict(entry)
        name = str(item["name"])
        spec = ModelSpec(
            name=name,
            litellm_model=str(item.get("litellm_model") or f"{prefix}/{name}"),
            api_base=config.get("base_url") or None,
            api_key=secret.get("api_key") or None,
            tier=int(item.get("tier") or 1),
            input_cost_per_token=item.get("input_cost_per_token"),
            output_cost_per_token=item.get("output_cost_per_token"),
            context_window=item.get("context_window"),
            label=f"{name} ({row.name})",
        )
        out.append(CatalogModel(spec=spec, provider=provider, source="connector", connector=row.name))
    return out


def _build_catalog() -> list[CatalogModel]:
    from backend.connectors.models import Connector  # engine.py is imported early; keep apps lazy

    catalog = [CatalogModel(spec=DEMO_SPEC, provider="demo", source="demo")]
    for extra in settings.ORCHESTRATOR.get("MODELS", []):
        spec = ModelSpec(**extra)
        catalog.append(
            CatalogModel(spec=spec, provider=spec.litellm_model.split("/", 1)[0], source="settings")
        )
    for row in Connector.objects.filter(kind=Connector.Kind.MODEL).order_by("name"):
        try:
            catalog += _connector_models(row)
        except Exception:  # a connector saved before its schema tightened must not break every run
            logger.warning("Skipping model connector %s: unusable config", row.name, exc_info=True)
    seen: set[str] = set()
    unique = []
    for model in catalog:  # the first definition of a name wins (demo, settings, connectors by name)
        if model.spec.name not in seen and model.spec.name != "auto":
            seen.add(model.spec.name)
            unique.append(model)
    return _with_overrides(unique)


def _with_overrides(catalog: list[CatalogModel]) -> list[CatalogModel]:
    """Apply the admins' overrides of tier, context window and prices (``backend/gateway``)."""
    from backend.gateway.models import ModelOverride

    overrides = {row.model_name: row for row in ModelOverride.objects.all()}
    if not overrides:
        return catalog
    out = []
    for model in catalog:
        row = overrides.get(model.spec.name)
        if row is None or model.source == "demo":
            out.append(model)
            continue
        spec = dataclasses.replace(
            model.spec,
            tier=row.tier if row.tier is not None else model.spec.tier,
            context_window=row.context_window
            if row.context_window is not None
            else model.spec.context_window,
            input_cost_per_token=(
                row.input_cost_per_token
                if row.input_cost_per_token is not None
                else model.spec.input_cost_per_token
            ),
            output_cost_per_token=(
                row.output_cost_per_token
                if row.output_cost_per_token is not None
                else model.spec.output_cost_per_token
            ),
        )
        if row.input_cost_per_token is None and row.output_cost_per_token is not None:
            # An explicit price replaces the map's pair: keep the default input price with it.
            default_in = _map_price(model.spec, 0)
            spec = dataclasses.replace(spec, input_cost_per_token=default_in)
        if row.output_cost_per_token is None and row.input_cost_per_token is not None:
            spec = dataclasses.replace(spec, output_cost_per_token=_map_price(model.spec, 1))
        out.append(dataclasses.replace(model, spec=spec, default_spec=model.spec))
    return out


def _map_price(spec: ModelSpec, index: int) -> float | None:
    """The model's own input (0) or output (1) price per token: its spec's, else litellm's map."""
    prices = LiteLLMClient([spec]).prices(spec)
    return None if prices is None else prices[index]


_cache_lock = threading.Lock()
_cached: dict[str, Any] = {}


def _fingerprint() -> tuple[Any, ...]:
    """Changes whenever a model connector or a model override (``backend/gateway``) is created,
    updated or deleted (two small queries).

    Works across processes (web, Celery workers) without any signal.
    """
    from backend.connectors.models import Connector

    row = Connector.objects.filter(kind=Connector.Kind.MODEL).aggregate(n=Count("id"), last=Max("updated_at"))
    from backend.gateway.models import ModelOverride

    overrides = ModelOverride.objects.aggregate(n=Count("id"), last=Max("updated_at"))
    return (row["n"], row["last"], overrides["n"], overrides["last"], _cached.get("version", 0))


def model_catalog_clear() -> None:
    """Forget the cached catalog and client now (connector services call it after a save)."""
    with _cache_lock:
        _cached["version"] = _cached.get("version", 0) + 1
        _cached.pop("key", None)


def _current() -> tuple[list[CatalogModel], LiteLLMClient]:
    try:
        key: tuple[Any, ...] | None = _fingerprint()
    except DatabaseError:  # no table yet (a worker starting before migrate): settings only
        key = None
    with _cache_lock:
        if key is not None and _cached.get("key") == key:
            return _cached["catalog"], _cached["client"]
    if key is None:
        catalog = [CatalogModel(spec=DEMO_SPEC, provider="demo", source="demo")]
        catalog += [
            CatalogModel(spec=ModelSpec(**extra), provider="", source="settings")
            for extra in settings.ORCHESTRATOR.get("MODELS", [])
        ]
    else:
        catalog = _build_catalog()
    # Answers never carry an API key back (a server may echo it): backend/connectors/redaction.py.
    client = RedactingLLMClient(
        models=[m.spec for m in catalog], default_model="demo", secrets=[m.spec.api_key for m in catalog]
    )
    with _cache_lock:
        if key is not None:
            _cached.update(key=key, catalog=catalog, client=client)
    return catalog, client


def model_catalog() -> list[CatalogModel]:
    """Every usable model: the demo model, ``ORCHESTRATOR["MODELS"]`` and model connectors."""
    return _current()[0]


def llm_client() -> LiteLLMClient:
    """The gateway over `model_catalog`, rebuilt when a model connector changes."""
    return _current()[1]


def lease_seconds() -> float:
    return float(settings.ORCHESTRATOR.get("LEASE_SECONDS", 120))


def max_parallel() -> int:
    """How many independent branches of one run execute at once."""
    return int(settings.ORCHESTRATOR.get("MAX_PARALLEL", 4))
