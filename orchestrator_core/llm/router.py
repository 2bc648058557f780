"""The LLM gateway: the only module that imports litellm (lazily; the import costs seconds).

`LiteLLMClient` implements the `LLMClient` port over ``litellm.completion``. The built-in
``demo`` model goes through the very same call with ``mock_response`` set to the offline demo
answer, so the demo exercises the real code path without a network or an API key.
"""

from __future__ import annotations

import importlib
import os
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from orchestrator_core.errors import ErrorCode, NodeError
from orchestrator_core.llm.demo import demo_completion
from orchestrator_core.ports import LLMRequest, LLMResponse

_import_lock = threading.Lock()


def _litellm() -> Any:
    """Import litellm once, offline-safe and quiet."""
    with _import_lock:
        os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
        module: Any = importlib.import_module("litellm")
        module.suppress_debug_info = True
        return module


@dataclass(frozen=True)
class ModelSpec:
    """A model the gateway may call."""

    name: str
    """What nodes write in ``model`` (``gpt-4o-mini``)."""
    litellm_model: str
    """The litellm model string (``openai/gpt-4o-mini``, ``ollama/llama3``)."""
    api_base: str | None = None
    api_key: str | None = None
    """Never logged, never put in an error message."""
    tier: int = 1
    """Rough capability level, higher is stronger."""
    input_cost_per_token: float | None = None
    output_cost_per_token: float | None = None
    label: str = ""


DEMO_MODEL = ModelSpec(name="demo", litellm_model="demo", label="Baton demo model (offline, deterministic)")


def _scrub(text: str, spec: ModelSpec) -> str:
    if spec.api_key:
        text = text.replace(spec.api_key, "***")
    return text[:500]


class LiteLLMClient:
    """An `LLMClient` over litellm.

    Args:
        models: the configured models; the demo model is always available as ``demo``.
        default_model: used when a request names no model.
        timeout: seconds per call.
        max_retries: provider-level retries (the engine's retry policy sits above this).
    """

    def __init__(
        self,
        models: Sequence[ModelSpec] = (),
        default_model: str = "demo",
        timeout: float = 60,
        max_retries: int = 0,
    ) -> None:
        self.models: dict[str, ModelSpec] = {DEMO_MODEL.name: DEMO_MODEL}
        for spec in models:
            self.models[spec.name] = spec
        self.default_model = default_model
        self.timeout = timeout
        self.max_retries = max_retries
        self._registered = False

    def _is_demo(self, spec: ModelSpec) -> bool:
        return spec.litellm_model == DEMO_MODEL.litellm_model

    def _estimate(self, spec: ModelSpec, request: LLMRequest) -> float:
        if self._is_demo(spec):
            return 0.0
        if spec.input_cost_per_token is None:
            return float("inf")
        prompt_tokens = sum(len(m.get("content", "")) for m in request.messages) / 4
        out_cost = spec.output_cost_per_token or spec.input_cost_per_token
        return prompt_tokens * spec.input_cost_per_token + request.max_tokens * out_cost

    def choose(self, request: LLMRequest) -> tuple[ModelSpec, str]:
        """The model to call and why, in words.

        Raises:
            NodeError: LLM_ERROR for an unknown model name.
        """
        name = request.model or self.default_model
        if name != "auto":
            spec = self.models.get(name)
            if spec is None:
                known = ", ".join(sorted(self.models))
                raise NodeError(f"Unknown model '{name}'; known: {known}.", code=ErrorCode.LLM_ERROR)
            return spec, "model set on the node" if request.model else "default model"
        ranked = sorted(self.models.values(), key=lambda s: (self._estimate(s, request), s.tier, s.name))
        chosen = ranked[0]
        est = self._estimate(chosen, request)
        skipped = [
            f"{s.name}: est ${self._estimate(s, request):.4f}"
            if self._estimate(s, request) != float("inf")
            else f"{s.name}: price unknown"
            for s in ranked[1:]
        ]
        reason = f"auto: chose {chosen.name} (tier {chosen.tier}, est ${est:.6f})"
        if skipped:
            reason += "; skipped " + ", ".join(skipped)
        return chosen, reason

    def _register_costs(self, litellm: Any) -> None:
        if self._registered:
            return
        costs: dict[str, Any] = {}
        for spec in self.models.values():
            if spec.input_cost_per_token is None or self._is_demo(spec):
                continue
            provider = spec.litellm_model.split("/", 1)[0] if "/" in spec.litellm_model else "openai"
            costs[spec.litellm_model] = {
                "input_cost_per_token": spec.input_cost_per_token,
                "output_cost_per_token": spec.output_cost_per_token or spec.input_cost_per_token,
                "litellm_provider": provider,
                "mode": "chat",
            }
        if costs:
            try:
                litellm.register_model(costs)
            except Exception:  # noqa: S110 - prices are a nicety; calls must still work
                pass
        self._registered = True

    def warm_up(self) -> None:
        """Import litellm now (about 4 s) so that the first LLM step does not pay for it.

        Workers call this in the background when they start.
        """
        self._register_costs(_litellm())

    def complete(self, request: LLMRequest) -> LLMResponse:
        """Run one chat completion.

        Raises:
            NodeError: LLM_ERROR when the model is unknown or the provider fails (no secrets in
                the message).
        """
        spec, reason = self.choose(request)
        litellm = _litellm()
        self._register_costs(litellm)
        kwargs: dict[str, Any] = {
            "model": spec.litellm_model,
            "messages": [dict(m) for m in request.messages],
            "temperature": request.temperature,
            "max_tokens": request.max_tokens,
            "timeout": self.timeout,
        }
        demo = self._is_demo(spec)
        if demo:
            kwargs["custom_llm_provider"] = "openai"
            kwargs["mock_response"] = demo_completion(request)
        else:
            kwargs["max_retries"] = self.max_retries
            if spec.api_base:
                kwargs["api_base"] = spec.api_base
            if spec.api_key:
                kwargs["api_key"] = spec.api_key
        try:
            response = litellm.completion(**kwargs)
            text = response.choices[0].message.content or ""
        except Exception as e:
            message = _scrub(f"{type(e).__name__}: {e}", spec)
            raise NodeError(f"Model '{spec.name}' failed: {message}", code=ErrorCode.LLM_ERROR) from None
        usage = getattr(response, "usage", None)
        cost = 0.0
        if not demo:
            try:
                cost = float(litellm.completion_cost(completion_response=response) or 0.0)
            except Exception:
                cost = 0.0
        return LLMResponse(
            text=str(text),
            model=spec.name,
            prompt_tokens=int(getattr(usage, "prompt_tokens", 0) or 0),
            completion_tokens=int(getattr(usage, "completion_tokens", 0) or 0),
            cost_usd=cost,
            reason=reason,
        )
