"""Shared test helpers.

Tests that need PostgreSQL, Redis or Chromium call `require_service`: outside CI they skip
with a one-line reason; under CI=true a missing service is a failure, never a skip.
"""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def port_open(host: str, port: int, timeout: float = 0.5) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def require_service(available: bool, reason: str) -> None:
    if available:
        return
    if IN_CI:
        pytest.fail(f"CI=true but {reason}")
    pytest.skip(reason)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


_LOCAL_NAMES = {"localhost", "127.0.0.1", "::1", "0.0.0.0", ""}  # noqa: S104 - a name, not a bind


@pytest.fixture(autouse=True)
def _no_dns_beyond_this_machine(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests never look up outside names: only loopback and IP literals resolve.

    A test that needs a public-looking host injects its own resolver (see tests/core/test_net_policy.py).
    """
    import ipaddress

    real = socket.getaddrinfo

    def guarded(host, *args, **kwargs):  # type: ignore[no-untyped-def]
        name = host.decode() if isinstance(host, bytes) else (host or "")
        try:
            ipaddress.ip_address(name.strip("[]"))
        except ValueError:
            if name.lower() not in _LOCAL_NAMES:
                message = f"tests do not resolve outside names ({name})"
                raise socket.gaierror(socket.EAI_NONAME, message) from None
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", guarded)
