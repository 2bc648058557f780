"""A tiny OpenAI-compatible chat server on 127.0.0.1, for tests over real HTTP (stdlib only).

Usage::

    base_url, shutdown = start_stub_server("Hello from the stub.")
    spec = ModelSpec(name="stub", litellm_model="openai/stub-model", api_base=base_url, api_key="sk-test")
    ...
    shutdown()

``POST /v1/chat/completions`` answers with a ``chat.completion`` (with usage), or with
server-sent events when the request has ``"stream": true``. ``status`` other than 200 makes
every request fail with that HTTP status.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

ReplyFn = Callable[[dict[str, Any]], str]


def _usage(body: dict[str, Any], text: str) -> dict[str, int]:
    prompt = sum(len(str(m.get("content", "")).split()) for m in body.get("messages", []))
    completion = len(text.split())
    return {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}


def start_stub_server(
    reply: str | ReplyFn = "Hello from the stub model.", *, status: int = 200
) -> tuple[str, Callable[[], None]]:
    """Start the server in a daemon thread.

    Args:
        reply: the assistant text, or ``request_json -> text``.
        status: the HTTP status for every answer (use 500 to test error handling).

    Returns:
        ``(base_url, shutdown)``: base_url ends in ``/v1``; shutdown stops the server.
    """

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

        def _json(self, code: int, payload: dict[str, Any]) -> None:
            data = json.dumps(payload).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            try:
                body = json.loads(self.rfile.read(length) or b"{}")
            except ValueError:
                body = {}
            if not self.path.rstrip("/").endswith("/chat/completions"):
                self._json(404, {"error": {"message": "not found", "type": "invalid_request_error"}})
                return
            if status != 200:
                self._json(
                    status, {"error": {"message": "stub failure", "type": "server_error", "code": status}}
                )
                return
            text = reply(body) if callable(reply) else reply
            model = str(body.get("model", "stub-model"))
            created = int(time.time())
            if body.get("stream"):
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.end_headers()
                words = text.split(" ")
                for i, word in enumerate(words):
                    piece = word if i == 0 else " " + word
                    chunk = {
                        "id": "chatcmpl-stub",
                        "object": "chat.completion.chunk",
                        "created": created,
                        "model": model,
                        "choices": [
                            {
                                "index": 0,
                                "delta": {"role": "assistant", "content": piece},
                                "finish_reason": None,
                            }
                        ],
                    }
                    self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
                final = {
                    "id": "chatcmpl-stub",
                    "object": "chat.completion.chunk",
                    "created": created,
                    "model": model,
                    "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}],
                    "usage": _usage(body, text),
                }
                self.wfile.write(f"data: {json.dumps(final)}\n\ndata: [DONE]\n\n".encode())
                self.close_connection = True
                return
            self._json(
                200,
                {
                    "id": "chatcmpl-stub",
                    "object": "chat.completion",
                    "created": created,
                    "model": model,
                    "choices": [
                        {
                            "index": 0,
                            "message": {"role": "assistant", "content": text},
                            "finish_reason": "stop",
                        }
                    ],
                    "usage": _usage(body, text),
                },
            )

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, name="llm-stub", daemon=True)
    thread.start()
    port = server.server_address[1]

    def shutdown() -> None:
        server.shutdown()
        server.server_close()

    return f"http://127.0.0.1:{port}/v1", shutdown
