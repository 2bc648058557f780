"""Test doubles for the engine's ports: `FakeLLM`, `FakeMailer`, `FakeClock`."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from orchestrator_core.errors import ErrorCode, NodeError
from orchestrator_core.llm.demo import demo_completion
from orchestrator_core.ports import JSON, EmailMessage, HttpRequest, HttpResponse, LLMRequest, LLMResponse

Reply = str | BaseException


class FakeLLM:
    """An `LLMClient` that answers from a script.

    Args:
        replies: answers used in order (an exception instance is raised instead), or a callable
            ``request -> str``. When the script runs out (or is None) the demo model answers.
        cost_usd: reported per call.
    """

    def __init__(
        self, replies: Sequence[Reply] | Callable[[LLMRequest], str] | None = None, *, cost_usd: float = 0.0
    ) -> None:
        self._script: list[Reply] = [] if replies is None or callable(replies) else list(replies)
        self._fn = replies if callable(replies) else None
        self.cost_usd = cost_usd
        self.requests: list[LLMRequest] = []

    def complete(self, request: LLMRequest, *, on_delta: Callable[[str], None] | None = None) -> LLMResponse:
        self.requests.append(request)
        if self._fn is not None:
            text = self._fn(request)
        elif self._script:
            reply = self._script.pop(0)
            if isinstance(reply, BaseException):
                raise reply
            text = reply
        else:
            text = demo_completion(request)
        prompt = " ".join(m.get("content", "") for m in request.messages)
        return LLMResponse(
            text=text,
            model="demo" if request.model in ("", "auto") else request.model,
            prompt_tokens=len(prompt.split()),
            completion_tokens=len(text.split()),
            cost_usd=self.cost_usd,
            reason="fake",
        )


class FakeMailer:
    """A `Mailer` that records messages; set ``fail_with`` to make `send` raise it."""

    def __init__(self, fail_with: BaseException | None = None) -> None:
        self.sent: list[EmailMessage] = []
        self.keys: list[str] = []
        self.fail_with = fail_with

    def send(self, message: EmailMessage, *, idempotency_key: str, run_id: str, node_id: str) -> JSON:
        if self.fail_with is not None:
            raise self.fail_with
        self.sent.append(message)
        self.keys.append(idempotency_key)
        return {"message_id": f"<fake-{len(self.sent)}@baton.test>"}


def mailer_error(message: str = "SMTP server refused the message.") -> NodeError:
    return NodeError(message, code=ErrorCode.EMAIL_FAILED)


class FakeClock:
    """A `Clock` that moves only when told to; `sleep` moves it and records the delay."""

    def __init__(self, start: datetime | None = None) -> None:
        self._now = start or datetime(2026, 1, 1, 9, 0, tzinfo=UTC)
        self._mono = 1000.0
        self.sleeps: list[float] = []
        """Every delay passed to `sleep`, in order."""

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.advance(seconds)

    def now(self) -> datetime:
        return self._now

    def monotonic(self) -> float:
        return self._mono

    def advance(self, seconds: float) -> None:
        self._now += timedelta(seconds=seconds)
        self._mono += seconds

    def set(self, when: datetime) -> None:
        self._mono += (when - self._now).total_seconds()
        self._now = when


def fake_services_kwargs(**overrides: Any) -> dict[str, Any]:
    """Default keyword arguments for `RunnerServices` built from fakes (override any)."""
    from orchestrator_core.nodes.registry import default_registry

    clock = overrides.get("clock") or FakeClock()
    base: dict[str, Any] = {
        "registry": default_registry(),
        "llm": FakeLLM(),
        "mailer": FakeMailer(),
        "clock": clock,
    }
    base.update(overrides)
    return base


HttpReply = HttpResponse | BaseException


class FakeHttp:
    """An `HttpClient` that records requests and answers from a script.

    Args:
        replies: answers used in order (an exception instance is raised instead), or a callable
            ``request -> HttpResponse``. When the script runs out: ``200 {"ok": true}``.
    """

    def __init__(
        self, replies: Sequence[HttpReply] | Callable[[HttpRequest], HttpResponse] | None = None
    ) -> None:
        self._script: list[HttpReply] = [] if replies is None or callable(replies) else list(replies)
        self._fn = replies if callable(replies) else None
        self.requests: list[HttpRequest] = []

    def request(self, request: HttpRequest) -> HttpResponse:
        self.requests.append(request)
        if self._fn is not None:
            return self._fn(request)
        if self._script:
            reply = self._script.pop(0)
            if isinstance(reply, BaseException):
                raise reply
            return reply
        return http_json(200, {"ok": True}, url=request.url)


def http_json(
    status: int, body: JSON, *, url: str = "https://api.example.test/", headers: dict[str, str] | None = None
) -> HttpResponse:
    """A JSON `HttpResponse` for scripts."""
    import json

    return HttpResponse(
        status=status,
        headers={"content-type": "application/json", **(headers or {})},
        body=json.dumps(body).encode(),
        url=url,
    )
