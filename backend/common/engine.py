"""Turns Django settings into the engine's typed objects (the core never reads settings)."""

from __future__ import annotations

from functools import cache
from typing import Any

from django.conf import settings

from orchestrator_core import LiteLLMClient, ModelSpec, NodeRegistry, default_registry


@cache
def registry() -> NodeRegistry:
    return default_registry()


@cache
def llm_client() -> LiteLLMClient:
    extra: list[dict[str, Any]] = list(settings.ORCHESTRATOR.get("MODELS", []))
    models = [ModelSpec(name="demo", litellm_model="demo", label="Baton demo model (offline, deterministic)")]
    models += [ModelSpec(**spec) for spec in extra]
    return LiteLLMClient(models=models, default_model="demo")


def lease_seconds() -> float:
    return float(settings.ORCHESTRATOR.get("LEASE_SECONDS", 120))


def max_parallel() -> int:
    """How many independent branches of one run execute at once."""
    return int(settings.ORCHESTRATOR.get("MAX_PARALLEL", 4))
