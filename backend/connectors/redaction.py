"""Model API keys never come back through a model's answer.

A model server (or a proxy in front of it) may echo what it received, the ``Authorization``
header included. `RedactingLLMClient` replaces every configured API key in the answer's text,
its tool-call arguments, its streamed deltas and error messages by ``[redacted]`` before any of it
reaches a step output, a run event, the outbox or a log (tests/backend/test_secret_canary.py).

No Django imports: ``backend.common.engine`` imports this early.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable
from typing import Any

from orchestrator_core import LiteLLMClient
from orchestrator_core.errors import NodeError
from orchestrator_core.ports import LLMRequest, LLMResponse

REDACTED = "[redacted]"
MIN_SECRET_CHARS = 6
"""Shorter values (a placeholder like ``x``) are not worth scrubbing from every answer."""


def scrub_text(text: str, secrets: tuple[str, ...]) -> str:
    for secret in secrets:
        if secret in text:
            text = text.replace(secret, REDACTED)
    return text


def scrub_value(value: Any, secrets: tuple[str, ...]) -> Any:
    if isinstance(value, str):
        return scrub_text(value, secrets)
    if isinstance(value, dict):
        return {k: scrub_value(v, secrets) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(scrub_value(v, secrets) for v in value)
    return value


class _HoldBack:
    """Passes streamed text on with secrets replaced; holds back the last ``len(longest) - 1``
    characters so a secret split across two deltas is still caught."""

    def __init__(self, on_delta: Callable[[str], None], secrets: tuple[str, ...]) -> None:
        self.on_delta = on_delta
        self.secrets = secrets
        self.keep = max(len(s) for s in secrets) - 1
        self.pending = ""

    def add(self, piece: str) -> None:
        self.pending = scrub_text(self.pending + piece, self.secrets)
        if len(self.pending) > self.keep:
            cut = len(self.pending) - self.keep
            out, self.pending = self.pending[:cut], self.pending[cut:]
            self.on_delta(out)

    def flush(self) -> None:
        if self.pending:
            out, self.pending = scrub_text(self.pending, self.secrets), ""
            self.on_delta(out)


class RedactingLLMClient(LiteLLMClient):  # type: ignore[misc]
    """`LiteLLMClient` whose answers never contain one of the models' API keys."""

    def __init__(self, *args: Any, secrets: Iterable[str | None] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        found = {s for s in secrets if s and len(s) >= MIN_SECRET_CHARS}
        self._secrets = tuple(sorted(found, key=len, reverse=True))

    def complete(self, request: LLMRequest, *, on_delta: Callable[[str], None] | None = None) -> LLMResponse:
        if not self._secrets:
            response: LLMResponse = super().complete(request, on_delta=on_delta)
            return response
        stream = _HoldBack(on_delta, self._secrets) if on_delta is not None else None
        try:
            response = super().complete(request, on_delta=stream.add if stream else None)
        except NodeError as exc:
            exc.message = scrub_text(exc.message, self._secrets)
            exc.args = (exc.message, *exc.args[1:])
            exc.details = scrub_value(exc.details, self._secrets)
            raise
        if stream is not None:
            stream.flush()
        calls = tuple(
            dataclasses.replace(call, arguments=scrub_text(call.arguments, self._secrets))
            for call in response.tool_calls
        )
        return dataclasses.replace(response, text=scrub_text(response.text, self._secrets), tool_calls=calls)
