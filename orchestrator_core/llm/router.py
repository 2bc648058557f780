"""The LLM gateway: the only module that imports litellm (lazily; the import costs seconds).

`LiteLLMClient` implements the `LLMClient` port over a ``litellm.Router`` built from the model
catalog (one deployment per model, see `LiteLLMClient.router`): every try is one
``router.completion(model=<name>, ...)``. The built-in ``demo`` model goes through the very same
call with ``mock_response`` set to the offline demo answer, so the demo exercises the real code
path without a network or an API key.

The Router does no retries, fallbacks or cooldowns of its own (``num_retries=0``, no fallbacks,
cooldowns disabled): this module decides them, so that every try is recorded. On top of one
Router call it adds (see ``docs/llm.md``): retries with exponential backoff and
fallback models on timeouts, 429 and 5xx; cost-aware ``model="auto"`` routing; PII redaction;
streaming with batched deltas; and cost from litellm's price map.
"""

from __future__ import annotations

import importlib
import json
import logging
import os
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from orchestrator_core.errors import ErrorCode, NodeError
from orchestrator_core.llm.demo import demo_completion, demo_tool_calls
from orchestrator_core.llm.redact import redact
from orchestrator_core.ports import CostEstimate, LLMRequest, LLMResponse, ToolCall

_import_lock = threading.Lock()

DeltaFn = Callable[[str], None]


def _litellm() -> Any:
    """Import litellm once, offline-safe and quiet."""
    with _import_lock:
        os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
        module: Any = importlib.import_module("litellm")
        module.suppress_debug_info = True
        # Token counting must never download a Hugging Face tokenizer (the machine is offline):
        # litellm then counts with its bundled tiktoken encoding, an estimate for non-OpenAI models.
        module.disable_hf_tokenizer_download = True
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
    """Rough capability level (1..3), higher is stronger; ``auto`` honours ``min_tier``."""
    input_cost_per_token: float | None = None
    """USD; None = take it from litellm's local cost map."""
    output_cost_per_token: float | None = None
    label: str = ""
    context_window: int | None = None
    """Max prompt tokens; None = litellm's cost map (``max_input_tokens``), else unlimited."""


DEMO_MODEL = ModelSpec(name="demo", litellm_model="demo", label="Baton demo model (offline, deterministic)")


def _scrub(text: str, spec: ModelSpec) -> str:
    if spec.api_key:
        text = text.replace(spec.api_key, "***")
    return text[:500]


RETRYABLE_CODES = frozenset({"timeout", "rate_limited", "server_error", "connection_error"})


def _classify(litellm: Any, error: Exception) -> tuple[str, int | None]:
    """``(error_code, http_status)`` of a failed call; see `RETRYABLE_CODES`."""
    status = getattr(error, "status_code", None)
    status = status if isinstance(status, int) else None
    if isinstance(error, litellm.Timeout):
        return "timeout", None
    if isinstance(error, litellm.APIConnectionError):
        return "connection_error", None
    if status == 429:
        return "rate_limited", status
    if status is not None and status >= 500:
        return "server_error", status
    if status is not None and status >= 400:
        return "client_error", status
    return "error", status


_ROUTER_CALLBACK_LISTS = (
    "success_callback",
    "_async_success_callback",
    "failure_callback",
    "_async_failure_callback",
    "input_callback",
    "service_callback",
    "callbacks",
)


def _unhook(litellm: Any, router: Any) -> None:
    """Take the Router's own callbacks out of litellm's global lists.

    They track deployment usage and failures for load balancing and cooldowns, which Baton does
    not use (one deployment per model, cooldowns off). Left in, every client built (the backend
    builds one per catalog change) would keep its Router alive, add a callback to every later
    call, and past litellm's 30-callback cap new ones would be refused.
    """
    manager = litellm.logging_callback_manager
    for name in _ROUTER_CALLBACK_LISTS:
        callbacks = getattr(litellm, name, None)
        if isinstance(callbacks, list):
            manager.remove_callback_from_list_by_object(callbacks, router)


class _CallbackError(Exception):
    """An exception raised by the caller's ``on_delta``: re-raised as is, never retried."""


class _DeltaBatcher:
    """Collects stream pieces and hands them to ``on_delta`` in batches."""

    def __init__(self, on_delta: DeltaFn, min_chars: int, max_seconds: float) -> None:
        self.on_delta = on_delta
        self.min_chars = min_chars
        self.max_seconds = max_seconds
        self.buffer: list[str] = []
        self.size = 0
        self.last = time.monotonic()
        self.emitted = False

    def add(self, piece: str) -> None:
        self.buffer.append(piece)
        self.size += len(piece)
        if self.size >= self.min_chars or time.monotonic() - self.last >= self.max_seconds:
            self.flush()

    def flush(self) -> None:
        if not self.buffer:
            return
        text = "".join(self.buffer)
        self.buffer, self.size, self.last = [], 0, time.monotonic()
        self.emitted = True
        try:
            self.on_delta(text)
        except Exception as e:
            raise _CallbackError() from e


@dataclass(frozen=True)
class _Outcome:
    text: str
    prompt_tokens: int
    completion_tokens: int
    tool_calls: tuple[ToolCall, ...] = ()


def _tool_calls(message: Any) -> tuple[ToolCall, ...]:
    """The ``message.tool_calls`` of a litellm answer as `ToolCall`s (arguments kept as text)."""
    calls: list[ToolCall] = []
    for index, raw in enumerate(getattr(message, "tool_calls", None) or ()):
        function = getattr(raw, "function", None)
        name = getattr(function, "name", None)
        if not name:
            continue
        arguments = getattr(function, "arguments", None)
        if not isinstance(arguments, str):
            arguments = json.dumps(arguments if arguments is not None else {})
        calls.append(
            ToolCall(id=str(getattr(raw, "id", None) or f"call_{index}"), name=str(name), arguments=arguments)
        )
    return tuple(calls)


class LiteLLMClient:
    """An `LLMClient` over litellm.

    Args:
        models: the configured models; the demo model is always available as ``demo``.
        default_model: used when a request names no model.
        timeout: seconds per call.
        max_retries: provider-level retries inside litellm (keep 0: the gateway retries itself).
        retries: gateway retries of the same model on a timeout, 429 or 5xx, before falling back.
        backoff: seconds before the first retry; doubled for each further retry.
        sleep: how to wait between retries (tests pass a recorder).
        stream_flush_chars / stream_flush_seconds: ``on_delta`` gets a batch once this many
            characters are buffered or this long has passed since the last batch (and at the end).
    """

    def __init__(
        self,
        models: Sequence[ModelSpec] = (),
        default_model: str = "demo",
        timeout: float = 60,
        max_retries: int = 0,
        *,
        retries: int = 2,
        backoff: float = 0.2,
        sleep: Callable[[float], None] = time.sleep,
        stream_flush_chars: int = 40,
        stream_flush_seconds: float = 0.05,
    ) -> None:
        self.models: dict[str, ModelSpec] = {DEMO_MODEL.name: DEMO_MODEL}
        for spec in models:
            self.models[spec.name] = spec
        self.default_model = default_model
        self.timeout = timeout
        self.max_retries = max_retries
        self.retries = retries
        self.backoff = backoff
        self.sleep = sleep
        self.stream_flush_chars = stream_flush_chars
        self.stream_flush_seconds = stream_flush_seconds
        self._registered = False
        self._router: Any = None
        self._router_lock = threading.Lock()

    def _is_demo(self, spec: ModelSpec) -> bool:
        return spec.litellm_model == DEMO_MODEL.litellm_model

    # ------------------------------------------------------------------ prices and sizes

    def _map_entry(self, spec: ModelSpec) -> Mapping[str, Any]:
        cost_map: Mapping[str, Any] = _litellm().model_cost
        keys = [spec.litellm_model]
        if "/" in spec.litellm_model:
            keys.append(spec.litellm_model.split("/", 1)[1])
        for key in keys:
            entry = cost_map.get(key)
            if isinstance(entry, Mapping):
                return entry
        return {}

    def prices(self, spec: ModelSpec) -> tuple[float, float] | None:
        """``(input, output)`` USD per token: the spec's own, else litellm's cost map, else None."""
        if self._is_demo(spec):
            return 0.0, 0.0
        if spec.input_cost_per_token is not None:
            out = spec.output_cost_per_token
            return spec.input_cost_per_token, spec.input_cost_per_token if out is None else out
        entry = self._map_entry(spec)
        try:
            return float(entry["input_cost_per_token"]), float(entry["output_cost_per_token"])
        except (KeyError, TypeError, ValueError):
            return None

    def context_window(self, spec: ModelSpec) -> int | None:
        """Max prompt tokens: the spec's own, else litellm's cost map, else None (unknown)."""
        if spec.context_window is not None or self._is_demo(spec):
            return spec.context_window
        value = self._map_entry(spec).get("max_input_tokens")
        return int(value) if isinstance(value, int | float) else None

    def prompt_tokens(self, spec: ModelSpec, messages: Sequence[Mapping[str, str]]) -> int:
        """The prompt's size in tokens, per litellm's tokenizer for the model."""
        model = spec.litellm_model.split("/", 1)[1] if "/" in spec.litellm_model else spec.litellm_model
        try:
            return int(_litellm().token_counter(model=model, messages=[dict(m) for m in messages]))
        except Exception:
            return sum(len(str(m.get("content", ""))) for m in messages) // 4 + 1

    # ------------------------------------------------------------------ choosing

    def _known(self, name: str) -> ModelSpec:
        spec = self.models.get(name)
        if spec is None:
            known = ", ".join(sorted(self.models))
            raise NodeError(f"Unknown model '{name}'; known: {known}.", code=ErrorCode.LLM_ERROR)
        return spec

    def plan(self, request: LLMRequest) -> tuple[list[ModelSpec], str]:
        """The models to try in order (first choice, then fallbacks) and why, in words.

        Raises:
            NodeError: LLM_ERROR for an unknown model name, or when ``auto`` finds no model
                that fits (details ``{"reason": "BUDGET_EXCEEDED" | "NO_MODEL_FITS", ...}``).
        """
        fallbacks = [self._known(name) for name in request.fallbacks]
        name = request.model or self.default_model
        if name != "auto":
            spec = self._known(name)
            reason = "model set on the node" if request.model else "default model"
            return [spec, *[f for f in fallbacks if f.name != spec.name]], reason
        ranked, reason = self._auto(request)
        rest = fallbacks or ranked[1:]
        return [ranked[0], *[f for f in rest if f.name != ranked[0].name]], reason

    def choose(self, request: LLMRequest) -> tuple[ModelSpec, str]:
        """The model to call first and why, in words (see `plan`)."""
        models, reason = self.plan(request)
        return models[0], reason

    def estimate_cost(self, request: LLMRequest) -> CostEstimate:
        """The most the request costs on the model it goes to first (the `CostEstimator` port):
        prompt tokens (litellm's counter) x input price + ``max_tokens`` x output price.

        Raises:
            NodeError: LLM_ERROR as `plan` does.
        """
        spec, _ = self.choose(request)
        tokens = self.prompt_tokens(spec, request.messages)
        prices = self.prices(spec)
        usd = None if prices is None else tokens * prices[0] + request.max_tokens * prices[1]
        return CostEstimate(
            model=spec.name,
            tier=spec.tier,
            prompt_tokens=tokens,
            max_output_tokens=request.max_tokens,
            usd=usd,
        )

    def _auto(self, request: LLMRequest) -> tuple[list[ModelSpec], str]:
        """Every model that fits, cheapest first (ties: higher tier), and the reason."""
        options = request.options
        min_tier = int(options.get("min_tier", 1) or 1)
        raw_max_tier = options.get("max_tier")
        max_tier = None if raw_max_tier is None else int(raw_max_tier)
        excluded = frozenset(str(name) for name in options.get("exclude", ()) or ())
        raw_allowed = options.get("allowed_models")  # the run's policy (RunPolicy.allowed_models)
        allowed = None if raw_allowed is None else frozenset(str(name) for name in raw_allowed)
        raw_budget = options.get("budget_usd")
        budget = None if raw_budget is None else float(raw_budget)
        fits: list[tuple[float, int, int, ModelSpec]] = []
        why_not: dict[str, str] = {}
        over_budget = False
        for order, spec in enumerate(self.models.values()):
            if spec.tier < min_tier:
                why_not[spec.name] = f"tier {spec.tier} < {min_tier}"
                continue
            if max_tier is not None and spec.tier > max_tier:  # a budget downgrade
                why_not[spec.name] = f"tier {spec.tier} > {max_tier}"
                continue
            if spec.name in excluded:
                why_not[spec.name] = "excluded"
                continue
            if allowed is not None and spec.name not in allowed:
                why_not[spec.name] = "not allowed by the policy"
                continue
            tokens = self.prompt_tokens(spec, request.messages)
            window = self.context_window(spec)
            if window is not None and tokens > window:
                why_not[spec.name] = f"~{tokens} prompt tokens > context window {window}"
                continue
            prices = self.prices(spec)
            if prices is None:
                why_not[spec.name] = "price unknown"
                continue
            est = tokens * prices[0] + request.max_tokens * prices[1]
            if budget is not None and est > budget:
                why_not[spec.name] = f"est ${est:.6f} > remaining ${budget:.6f}"
                over_budget = True
                continue
            fits.append((est, -spec.tier, order, spec))
        if not fits:
            code = "BUDGET_EXCEEDED" if over_budget else "NO_MODEL_FITS"
            why = "; ".join(f"{n}: {w}" for n, w in why_not.items())
            raise NodeError(
                f"auto: no model fits ({code}): {why}",
                code=ErrorCode.LLM_ERROR,
                details={"reason": code, "skipped": why_not, "min_tier": min_tier, "budget_usd": budget},
            )
        fits.sort(key=lambda f: f[:3])
        chosen_est, _, _, chosen = fits[0]
        for est, _, _, spec in fits[1:]:
            why_not[spec.name] = f"est ${est:.6f}, costs more"
        parts = [f"chose {chosen.name}: tier {chosen.tier}, est ${chosen_est:.6f}"]
        parts += [f"skipped {n}: {why_not[n]}" for n in self.models if n in why_not]
        return [f[3] for f in fits], "; ".join(parts)

    # ------------------------------------------------------------------ calling

    def _register_costs(self, litellm: Any) -> None:
        if self._registered:
            return
        costs: dict[str, Any] = {}
        for spec in self.models.values():
            if spec.input_cost_per_token is None or self._is_demo(spec):
                continue
            provider = spec.litellm_model.split("/", 1)[0] if "/" in spec.litellm_model else "openai"
            prices = self.prices(spec)
            assert prices is not None
            costs[spec.litellm_model] = {
                "input_cost_per_token": prices[0],
                "output_cost_per_token": prices[1],
                "litellm_provider": provider,
                "mode": "chat",
            }
            if spec.context_window is not None:
                costs[spec.litellm_model]["max_input_tokens"] = spec.context_window
        if costs:
            logger = logging.getLogger("LiteLLM")
            level = logger.level
            logger.setLevel(logging.ERROR)  # it warns that custom models have no cache prices
            try:
                litellm.register_model(costs)
            except Exception:  # noqa: S110 - prices are a nicety; calls must still work
                pass
            finally:
                logger.setLevel(level)
        self._registered = True

    def _deployment(self, spec: ModelSpec) -> dict[str, Any]:
        """The Router ``model_list`` entry of one model (litellm_params: model, api_base, api_key)."""
        params: dict[str, Any] = {"model": spec.litellm_model, "timeout": self.timeout}
        if self._is_demo(spec):
            # Answered offline by ``mock_response``; litellm only needs a provider and a key to
            # set up (the key is never sent anywhere).
            params.update(custom_llm_provider="openai", api_key="sk-baton-demo-offline")
        else:
            params["max_retries"] = self.max_retries
            if spec.api_base:
                params["api_base"] = spec.api_base
            if spec.api_key:
                params["api_key"] = spec.api_key
        return {"model_name": spec.name, "litellm_params": params}

    @property
    def router(self) -> Any:
        """The ``litellm.Router`` over this client's models, built once (a client is built per
        catalog: the backend makes a new one when a model connector changes).

        No retries, fallbacks or cooldowns inside the Router: `complete` decides them.
        """
        with self._router_lock:
            if self._router is None:
                litellm = _litellm()
                self._register_costs(litellm)
                self._router = litellm.Router(
                    model_list=[self._deployment(spec) for spec in self.models.values()],
                    num_retries=0,
                    max_fallbacks=0,
                    fallbacks=[],
                    disable_cooldowns=True,
                    timeout=self.timeout,
                )
                _unhook(litellm, self._router)
            return self._router

    def warm_up(self) -> None:
        """Import litellm and build the Router now (about 4 s) so that the first LLM step does
        not pay for it.

        Workers call this in the background when they start.
        """
        self._register_costs(_litellm())
        self.router  # noqa: B018 - built (and cached) on first access

    def cost(self, spec: ModelSpec, prompt_tokens: int, completion_tokens: int) -> float:
        """USD for this usage, by ``litellm.cost_per_token`` (0 for the demo or an unpriced model)."""
        if self._is_demo(spec):
            return 0.0
        litellm = _litellm()
        kwargs: dict[str, Any] = {}
        prices = self.prices(spec)
        if spec.input_cost_per_token is not None and prices is not None:
            kwargs["custom_cost_per_token"] = {
                "input_cost_per_token": prices[0],
                "output_cost_per_token": prices[1],
            }
        try:
            prompt_cost, completion_cost = litellm.cost_per_token(
                model=spec.litellm_model,
                prompt_tokens=prompt_tokens,
                completion_tokens=completion_tokens,
                **kwargs,
            )
        except Exception:
            return 0.0
        return float(prompt_cost) + float(completion_cost)

    def _messages(self, spec: ModelSpec, request: LLMRequest) -> list[dict[str, Any]]:
        messages = [dict(m) for m in request.messages]
        if request.redact_pii and not self._is_demo(spec):
            for message in messages:
                if isinstance(message.get("content"), str):
                    message["content"] = redact(message["content"])[0]
        return messages

    def _call(
        self, litellm: Any, spec: ModelSpec, request: LLMRequest, batcher: _DeltaBatcher | None
    ) -> _Outcome:
        router = self.router
        kwargs: dict[str, Any] = {
            "model": spec.name,
            "messages": self._messages(spec, request),
            "temperature": request.temperature,
            "max_tokens": request.max_tokens,
            "timeout": self.timeout,
        }
        if request.tools:
            kwargs["tools"] = [dict(tool) for tool in request.tools]
            kwargs["_skip_mcp_handler"] = True  # plain function tools; the MCP path needs extra packages
        if self._is_demo(spec):
            demo_calls = demo_tool_calls(request)
            kwargs["mock_response"] = "" if demo_calls else demo_completion(request)
            if demo_calls:
                kwargs["mock_tool_calls"] = demo_calls
        if batcher is None:
            response = router.completion(**kwargs)
            message = response.choices[0].message
            text = message.content or ""
            calls = _tool_calls(message) if request.tools else ()
            usage = getattr(response, "usage", None)
        else:
            kwargs["stream"] = True
            kwargs["stream_options"] = {"include_usage": True}
            parts: list[str] = []
            usage = None
            for chunk in router.completion(**kwargs):
                usage = getattr(chunk, "usage", None) or usage
                choices = getattr(chunk, "choices", None) or []
                piece = getattr(getattr(choices[0], "delta", None), "content", None) if choices else None
                if piece:
                    parts.append(str(piece))
                    batcher.add(str(piece))
            batcher.flush()
            text = "".join(parts)
            calls = ()
        return _Outcome(
            text=str(text),
            prompt_tokens=int(getattr(usage, "prompt_tokens", 0) or 0),
            completion_tokens=int(getattr(usage, "completion_tokens", 0) or 0),
            tool_calls=calls,
        )

    def complete(self, request: LLMRequest, *, on_delta: DeltaFn | None = None) -> LLMResponse:
        """Run one chat completion, retrying and falling back as needed.

        Each model in the plan (see `plan`) is tried up to ``1 + retries`` times while it fails
        with a timeout, a 429 or a 5xx (waiting ``backoff * 2**n`` between tries), then the next
        model. Any other error fails at once. Every try is recorded in ``LLMResponse.attempts``.

        Args:
            on_delta: when given, the answer is streamed and this receives the text in batches
                (≥ ``stream_flush_chars`` characters or ≥ ``stream_flush_seconds`` apart, and the
                rest at the end); the batches joined equal the final text. Once a batch has been
                delivered, a failure is not retried (the caller has already shown the text).

        Raises:
            NodeError: LLM_ERROR when the model is unknown, auto finds none, or every try fails
                (no secrets in the message; ``details["attempts"]`` lists the tries).
        """
        models, reason = self.plan(request)
        litellm = _litellm()
        self._register_costs(litellm)
        attempts: list[dict[str, Any]] = []
        failed: list[str] = []
        last_error = ""
        for spec in models:
            for try_index in range(self.retries + 1):
                if try_index:
                    self.sleep(self.backoff * 2 ** (try_index - 1))
                batcher = (
                    None
                    if on_delta is None or request.tools  # tool calls are read from a whole answer
                    else _DeltaBatcher(on_delta, self.stream_flush_chars, self.stream_flush_seconds)
                )
                started = time.monotonic()
                try:
                    outcome = self._call(litellm, spec, request, batcher)
                except _CallbackError as e:
                    raise e.__cause__ or e from None
                except Exception as e:
                    error_code, status = _classify(litellm, e)
                    attempts.append(
                        {
                            "model": spec.name,
                            "outcome": "error",
                            "error_code": error_code,
                            "http_status": status,
                            "duration_ms": round((time.monotonic() - started) * 1000),
                        }
                    )
                    last_error = f"Model '{spec.name}' failed: " + _scrub(f"{type(e).__name__}: {e}", spec)
                    if error_code not in RETRYABLE_CODES or (batcher is not None and batcher.emitted):
                        raise self._failure(last_error, failed, attempts) from None
                    continue
                attempts.append(
                    {
                        "model": spec.name,
                        "outcome": "ok",
                        "http_status": None if self._is_demo(spec) else 200,
                        "duration_ms": round((time.monotonic() - started) * 1000),
                    }
                )
                if failed:
                    reason += f"; fell back to {spec.name} after {', '.join(failed)} failed"
                return LLMResponse(
                    text=outcome.text,
                    model=spec.name,
                    prompt_tokens=outcome.prompt_tokens,
                    completion_tokens=outcome.completion_tokens,
                    cost_usd=self.cost(spec, outcome.prompt_tokens, outcome.completion_tokens),
                    reason=reason,
                    attempts=tuple(attempts),
                    tool_calls=outcome.tool_calls,
                )
            failed.append(spec.name)
        raise self._failure(last_error, failed[:-1], attempts)

    @staticmethod
    def _failure(message: str, failed_before: list[str], attempts: list[dict[str, Any]]) -> NodeError:
        if failed_before:
            message += f" (after {', '.join(failed_before)} failed)"
        return NodeError(message, code=ErrorCode.LLM_ERROR, details={"attempts": attempts})
