"""In-memory adapters for budgets and conversation memory, and a priced fake LLM.

* `InMemoryUsageLedger` — a `UsageLedger` over an `InMemoryRunStore`'s steps, with optional
  earlier spending of the workflow today and of the user this month.
* `InMemoryConversationMemory` — a `ConversationMemory` in a dict (one workflow).
* `PricedFakeLLM` — a `FakeLLM`-like client with named models, tiers and prices that also
  implements `CostEstimator` (``auto`` picks the cheapest model that fits, as the gateway does).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from orchestrator_core.errors import ErrorCode, NodeError
from orchestrator_core.llm.budget import spend_from_metas
from orchestrator_core.ports import CostEstimate, LLMRequest, LLMResponse, Spend, Turn
from orchestrator_core.testing.memory_store import InMemoryRunStore


class InMemoryUsageLedger:
    """Spending from the store's steps of the run; ``workflow_day`` / ``user_month`` add what
    other runs spent (``(usd, tokens)``)."""

    def __init__(
        self,
        store: InMemoryRunStore,
        *,
        workflow_day: tuple[float, int] = (0.0, 0),
        user_month: tuple[float, int] = (0.0, 0),
    ) -> None:
        self.store = store
        self.workflow_day = workflow_day
        self.user_month = user_month
        self.calls = 0

    def spent(self, run_id: str, *, exclude_node: str | None = None) -> Spend:
        self.calls += 1
        steps = self.store.steps(run_id)
        own = spend_from_metas([s.meta for n, s in steps.items() if n != exclude_node])
        return Spend(
            run_usd=own.run_usd,
            run_tokens=own.run_tokens,
            workflow_day_usd=own.run_usd + self.workflow_day[0],
            workflow_day_tokens=own.run_tokens + self.workflow_day[1],
            user_month_usd=own.run_usd + self.user_month[0],
            user_month_tokens=own.run_tokens + self.user_month[1],
            allowances=own.allowances,
        )


@dataclass(frozen=True)
class _StoredTurn:
    run_id: str
    node_id: str
    turn: Turn


class InMemoryConversationMemory:
    """Sessions in a dict; appending is idempotent per run and node."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.sessions: dict[str, list[_StoredTurn]] = {}

    def read(self, run_id: str, node_id: str, session_key: str, *, limit: int) -> list[Turn]:
        with self._lock:
            turns = [
                t.turn
                for t in self.sessions.get(session_key, [])
                if not (t.run_id == run_id and t.node_id == node_id)
            ]
        return turns[-limit:] if limit > 0 else []

    def append(self, run_id: str, node_id: str, session_key: str, turns: Sequence[Turn]) -> None:
        with self._lock:
            session = self.sessions.setdefault(session_key, [])
            if any(t.run_id == run_id and t.node_id == node_id for t in session):
                return
            session.extend(_StoredTurn(run_id, node_id, turn) for turn in turns)

    def turns(self, session_key: str) -> list[Turn]:
        with self._lock:
            return [t.turn for t in self.sessions.get(session_key, [])]


@dataclass(frozen=True)
class FakeModel:
    tier: int
    input_cost_per_token: float
    output_cost_per_token: float


def _words(request: LLMRequest) -> int:
    return len(" ".join(str(m.get("content", "")) for m in request.messages).split())


class PricedFakeLLM:
    """An `LLMClient` + `CostEstimator` over named fake models.

    A prompt token is a word; the answer is ``reply(request)`` (default ``"ok"``) and costs
    its words at the model's output price.
    """

    def __init__(
        self, models: Mapping[str, FakeModel], *, reply: Callable[[LLMRequest], str] | None = None
    ) -> None:
        self.models = dict(models)
        self.reply = reply or (lambda request: "ok")
        self.requests: list[LLMRequest] = []

    def _pick(self, request: LLMRequest) -> str:
        if request.model != "auto":
            if request.model not in self.models:
                raise NodeError(f"Unknown model '{request.model}'.", code=ErrorCode.LLM_ERROR)
            return request.model
        options: Mapping[str, Any] = request.options
        low = int(options.get("min_tier", 1))
        high = options.get("max_tier")
        excluded = set(options.get("exclude", ()) or ())
        budget = options.get("budget_usd")
        fits = []
        for name, model in self.models.items():
            if model.tier < low or (high is not None and model.tier > int(high)) or name in excluded:
                continue
            est = self._usd(model, request)
            if budget is not None and est > float(budget):
                continue
            fits.append((est, -model.tier, name))
        if not fits:
            raise NodeError("auto: no model fits", code=ErrorCode.LLM_ERROR)
        return min(fits)[2]

    @staticmethod
    def _usd(model: FakeModel, request: LLMRequest) -> float:
        return _words(request) * model.input_cost_per_token + request.max_tokens * model.output_cost_per_token

    def estimate_cost(self, request: LLMRequest) -> CostEstimate:
        name = self._pick(request)
        model = self.models[name]
        return CostEstimate(
            model=name,
            tier=model.tier,
            prompt_tokens=_words(request),
            max_output_tokens=request.max_tokens,
            usd=self._usd(model, request),
        )

    def complete(self, request: LLMRequest, *, on_delta: Callable[[str], None] | None = None) -> LLMResponse:
        self.requests.append(request)
        name = self._pick(request)
        model = self.models[name]
        text = self.reply(request)
        if on_delta is not None:
            on_delta(text)
        prompt, completion = _words(request), len(text.split())
        return LLMResponse(
            text=text,
            model=name,
            prompt_tokens=prompt,
            completion_tokens=completion,
            cost_usd=prompt * model.input_cost_per_token + completion * model.output_cost_per_token,
            reason="fake",
        )


__all__ = [
    "FakeModel",
    "InMemoryConversationMemory",
    "InMemoryUsageLedger",
    "PricedFakeLLM",
]
