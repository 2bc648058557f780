"""A tiny OpenAI-compatible chat server on 127.0.0.1, for tests over real HTTP (stdlib only).

Usage::

    base_url, shutdown = start_stub_server("Hello from the stub.")
    spec = ModelSpec(name="stub", litellm_model="openai/stub-model", api_base=base_url, api_key="sk-test")
    ...
    shutdown()

``POST /v1/chat/completions`` answers with a ``chat.completion`` (with usage), or with
server-sent events when the request has ``"stream": true``. ``status`` other than 200 makes
every request fail with that HTTP status.

To script one server call by call, use `StubServer` with a ``script``: a sequence of
behaviours (consumed one per request; when it runs out, the default ``reply``/``status``
answer) or a callable ``request_json -> behaviour``. A behaviour is a `StubReply`, or a plain
string (answer with that text)::

    with StubServer(script=[fail(500), stall(2.0), "Hello"]) as stub:
        ...  # stub.base_url, stub.requests (every request body, in order)
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any

ReplyFn = Callable[[dict[str, Any]], str]


@dataclass(frozen=True)
class StubReply:
    """What the stub does for one request."""

    text: str = "Hello from the stub model."
    status: int = 200
    """Anything but 200 answers with an OpenAI-style error body and this status."""
    delay: float = 0.0
    """Seconds to sleep before answering (longer than the client's timeout = a stall)."""
    usage: Mapping[str, int] | None = None
    """Override the reported usage (default: words in the prompt / words in the answer)."""
    tool_calls: Sequence[Mapping[str, Any]] = ()
    """Answer with these tool calls (OpenAI format, ``finish_reason: tool_calls``): each
    ``{"name": ..., "arguments": {...} or "json text", "id"?: ...}``; see `tool_calls`."""


Behaviour = StubReply | str
Script = Sequence[Behaviour] | Callable[[dict[str, Any]], Behaviour]


def answer(text: str, *, usage: Mapping[str, int] | None = None) -> StubReply:
    return StubReply(text=text, usage=usage)


def tool_calls(*calls: tuple[str, Mapping[str, Any] | str], text: str = "") -> StubReply:
    """A reply that asks for tools: ``tool_calls(("lookup", {"id": 7}), ("send", {...}))``."""
    return StubReply(text=text, tool_calls=tuple({"name": name, "arguments": args} for name, args in calls))


def fail(status: int = 500) -> StubReply:
    return StubReply(status=status)


def stall(seconds: float, text: str = "Too late.") -> StubReply:
    return StubReply(text=text, delay=seconds)


def _message(text: str, calls: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    if not calls:
        return {"role": "assistant", "content": text}
    return {
        "role": "assistant",
        "content": text or None,
        "tool_calls": [
            {
                "id": str(call.get("id") or f"call_stub_{index + 1}"),
                "type": "function",
                "function": {
                    "name": str(call["name"]),
                    "arguments": call["arguments"]
                    if isinstance(call.get("arguments"), str)
                    else json.dumps(call.get("arguments") or {}),
                },
            }
            for index, call in enumerate(calls)
        ],
    }


def _usage(body: dict[str, Any], text: str) -> dict[str, int]:
    prompt = sum(len(str(m.get("content", "")).split()) for m in body.get("messages", []))
    completion = len(text.split())
    return {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}


class StubServer:
    """The stub server, scriptable per request; records every request body in `requests`."""

    def __init__(
        self,
        reply: str | ReplyFn = "Hello from the stub model.",
        *,
        status: int = 200,
        script: Script | None = None,
        chunk_delay: float = 0.0,
    ) -> None:
        self.requests: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self._reply = reply
        self._status = status
        self._script = script
        self._queue: list[Behaviour] = list(script) if script is not None and not callable(script) else []
        self._chunk_delay = chunk_delay
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                stub._handle(self)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name="llm-stub", daemon=True
        )
        self._thread.start()
        self.base_url = f"http://127.0.0.1:{self._server.server_address[1]}/v1"

    def __enter__(self) -> StubServer:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.shutdown()

    def shutdown(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _behaviour(self, body: dict[str, Any]) -> StubReply:
        with self._lock:
            self.requests.append(body)
            if callable(self._script):
                chosen: Behaviour = self._script(body)
            elif self._queue:
                chosen = self._queue.pop(0)
            else:
                text = self._reply(body) if callable(self._reply) else self._reply
                chosen = StubReply(text=text, status=self._status)
        return StubReply(text=chosen) if isinstance(chosen, str) else chosen

    @staticmethod
    def _json(handler: BaseHTTPRequestHandler, code: int, payload: dict[str, Any]) -> None:
        data = json.dumps(payload).encode()
        handler.send_response(code)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(data)))
        handler.end_headers()
        handler.wfile.write(data)

    def _handle(self, handler: BaseHTTPRequestHandler) -> None:
        length = int(handler.headers.get("Content-Length") or 0)
        try:
            body = json.loads(handler.rfile.read(length) or b"{}")
        except ValueError:
            body = {}
        if not handler.path.rstrip("/").endswith("/chat/completions"):
            self._json(handler, 404, {"error": {"message": "not found", "type": "invalid_request_error"}})
            return
        behaviour = self._behaviour(body)
        if behaviour.delay:
            time.sleep(behaviour.delay)
        if behaviour.status != 200:
            kind = "rate_limit_error" if behaviour.status == 429 else "server_error"
            self._json(
                handler,
                behaviour.status,
                {"error": {"message": "stub failure", "type": kind, "code": behaviour.status}},
            )
            return
        text = behaviour.text
        usage = dict(behaviour.usage) if behaviour.usage is not None else _usage(body, text)
        model = str(body.get("model", "stub-model"))
        created = int(time.time())
        try:
            if body.get("stream"):
                self._stream(handler, text, usage, model, created)
                return
            self._json(
                handler,
                200,
                {
                    "id": "chatcmpl-stub",
                    "object": "chat.completion",
                    "created": created,
                    "model": model,
                    "choices": [
                        {
                            "index": 0,
                            "message": _message(text, behaviour.tool_calls),
                            "finish_reason": "tool_calls" if behaviour.tool_calls else "stop",
                        }
                    ],
                    "usage": usage,
                },
            )
        except (BrokenPipeError, ConnectionResetError):  # the client gave up (timeout)
            return

    def _stream(
        self, handler: BaseHTTPRequestHandler, text: str, usage: dict[str, int], model: str, created: int
    ) -> None:
        handler.send_response(200)
        handler.send_header("Content-Type", "text/event-stream")
        handler.end_headers()
        words = text.split(" ")
        for i, word in enumerate(words):
            piece = word if i == 0 else " " + word
            chunk = {
                "id": "chatcmpl-stub",
                "object": "chat.completion.chunk",
                "created": created,
                "model": model,
                "choices": [
                    {"index": 0, "delta": {"role": "assistant", "content": piece}, "finish_reason": None}
                ],
            }
            handler.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
            handler.wfile.flush()
            if self._chunk_delay:
                time.sleep(self._chunk_delay)
        final = {
            "id": "chatcmpl-stub",
            "object": "chat.completion.chunk",
            "created": created,
            "model": model,
            "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}],
            "usage": usage,
        }
        handler.wfile.write(f"data: {json.dumps(final)}\n\ndata: [DONE]\n\n".encode())
        handler.close_connection = True


def start_stub_server(
    reply: str | ReplyFn = "Hello from the stub model.",
    *,
    status: int = 200,
    script: Script | None = None,
) -> tuple[str, Callable[[], None]]:
    """Start the server in a daemon thread.

    Args:
        reply: the assistant text, or ``request_json -> text``.
        status: the HTTP status for every answer (use 500 to test error handling).
        script: per-request behaviours (see `StubServer`); ``reply``/``status`` apply once it
            runs out.

    Returns:
        ``(base_url, shutdown)``: base_url ends in ``/v1``; shutdown stops the server.
    """
    stub = StubServer(reply, status=status, script=script)
    return stub.base_url, stub.shutdown
