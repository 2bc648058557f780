"""The JSON shape of a step, shared by ``step.status`` events and the run-detail API."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from orchestrator_core.ports import StepRecord


def step_to_dict(step: StepRecord) -> dict[str, Any]:
    """A step as JSON: ``{node_id, status, attempts, inputs, output, error, started_at, ended_at,
    duration_ms, model, tokens_in, tokens_out, cost_usd, children_cost_usd, reason, tries, request}``.

    Datetimes are ISO 8601 strings; model, tokens, cost, reason and tries come from ``step.meta``.
    ``attempts`` counts the node's attempts (retries); ``tries`` lists every model call the node
    made, in order (``{model, outcome, error_code?, http_status, duration_ms}``: a fallback shows
    the model that failed and the one that answered), ``[]`` for a node that called none.
    ``children_cost_usd`` is what the child runs of a loop, sub-workflow or agent step spent (not
    part of ``cost_usd``, so that usage never counts a child twice).
    """
    meta = step.meta or {}
    duration_ms: int | None = None
    if step.started_at is not None and step.ended_at is not None:
        duration_ms = max(0, round((step.ended_at - step.started_at).total_seconds() * 1000))
    return {
        "node_id": step.node_id,
        "status": str(step.status),
        "attempts": step.attempts,
        "inputs": step.inputs,
        "output": step.output,
        "error": dict(step.error) if step.error is not None else None,
        "started_at": step.started_at.isoformat() if step.started_at is not None else None,
        "ended_at": step.ended_at.isoformat() if step.ended_at is not None else None,
        "duration_ms": duration_ms,
        "model": meta.get("model"),
        "tokens_in": int(meta.get("tokens_in") or 0),
        "tokens_out": int(meta.get("tokens_out") or 0),
        "cost_usd": float(meta.get("cost_usd") or 0.0),
        "children_cost_usd": float(meta.get("children_cost_usd") or 0.0),
        "reason": meta.get("reason"),
        "tries": _tries(meta.get("attempts")),
        "request": step.request,
        **_rounds(meta),
    }


def _rounds(meta: Mapping[str, Any]) -> dict[str, Any]:
    """``{round, rounds}`` for a step that review rounds sent back (see docs/engine.md): the round
    it is in and a summary of each earlier one (``{round, status, output, error, started_at,
    ended_at, cost_usd}``); nothing for any other step."""
    earlier = meta.get("rounds")
    if not isinstance(earlier, list) or not earlier:
        return {}
    keys = ("round", "status", "output", "error", "started_at", "ended_at", "cost_usd")
    summary = [{k: r.get(k) for k in keys} for r in earlier if isinstance(r, Mapping)]
    return {"round": len(summary) + 1, "rounds": summary}


def _tries(value: Any) -> list[dict[str, Any]]:
    """The model calls recorded in ``meta.attempts`` (anything that is not a list of dicts: none)."""
    if not isinstance(value, list | tuple):
        return []
    return [dict(item) for item in value if isinstance(item, Mapping)]
