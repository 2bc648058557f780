"""A small SMTP server on 127.0.0.1 for tests: EHLO, AUTH PLAIN, MAIL, RCPT, DATA, QUIT.

Records every login and message; accepts the password it is given (``None``: any password).
"""

from __future__ import annotations

import base64
import contextlib
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Smtp:
    port: int
    logins: list[tuple[str, str]] = field(default_factory=list)
    messages: list[dict[str, Any]] = field(default_factory=list)
    refuse_auth: bool = False


@contextlib.contextmanager
def smtp_server(password: str | None = None) -> Iterator[Smtp]:
    """Serve until the block ends."""
    listener = socket.create_server(("127.0.0.1", 0))
    state = Smtp(port=listener.getsockname()[1])
    stop = threading.Event()

    def session(conn: socket.socket) -> None:
        envelope: dict[str, Any] = {"rcpt": []}
        with conn, conn.makefile("rb") as lines, contextlib.suppress(OSError):
            conn.sendall(b"220 stub ESMTP\r\n")
            while raw := lines.readline():
                line = raw.decode().rstrip("\r\n")
                verb = line.split(" ")[0].upper()
                if verb in ("EHLO", "HELO"):
                    conn.sendall(b"250-stub\r\n250 AUTH PLAIN\r\n")
                elif verb == "AUTH":
                    _, user, secret = base64.b64decode(line.split(" ")[-1]).decode().split("\0")
                    state.logins.append((user, secret))
                    ok = not state.refuse_auth and (password is None or secret == password)
                    conn.sendall(b"235 ok\r\n" if ok else b"535 bad credentials\r\n")
                elif verb == "MAIL":
                    envelope["from"] = line.split(":", 1)[1].strip().strip("<>").split(">")[0]
                    conn.sendall(b"250 ok\r\n")
                elif verb == "RCPT":
                    envelope["rcpt"].append(line.split(":", 1)[1].strip().strip("<>"))
                    conn.sendall(b"250 ok\r\n")
                elif verb == "DATA":
                    conn.sendall(b"354 go on\r\n")
                    data = []
                    while (part := lines.readline()) not in (b".\r\n", b""):
                        data.append(part.decode())
                    envelope["data"] = "".join(data)
                    state.messages.append(envelope)
                    envelope = {"rcpt": []}
                    conn.sendall(b"250 queued\r\n")
                elif verb == "QUIT":
                    conn.sendall(b"221 bye\r\n")
                    return
                else:
                    conn.sendall(b"250 ok\r\n")

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            threading.Thread(target=session, args=(conn,), daemon=True).start()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        stop.set()
        listener.close()
        thread.join(timeout=5)
