"""Core tests: plain Python, no Django, milliseconds each."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
# So `pytest -p no:django tests/core` finds orchestrator_core and core_helpers.
for _path in (str(ROOT), str(Path(__file__).resolve().parent)):
    if _path not in sys.path:
        sys.path.insert(0, _path)

from core_helpers import load_fixture  # noqa: E402

from orchestrator_core import RunnerServices, default_registry  # noqa: E402
from orchestrator_core.nodes.registry import NodeRegistry  # noqa: E402
from orchestrator_core.testing import FakeClock, FakeLLM, FakeMailer, InMemoryRunStore  # noqa: E402


@pytest.fixture
def registry() -> NodeRegistry:
    return default_registry()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def store(clock: FakeClock) -> InMemoryRunStore:
    return InMemoryRunStore(clock)


@pytest.fixture
def llm() -> FakeLLM:
    return FakeLLM()


@pytest.fixture
def mailer() -> FakeMailer:
    return FakeMailer()


@pytest.fixture
def services(
    store: InMemoryRunStore, registry: NodeRegistry, llm: FakeLLM, mailer: FakeMailer, clock: FakeClock
) -> RunnerServices:
    return RunnerServices(store=store, registry=registry, llm=llm, mailer=mailer, clock=clock)


@pytest.fixture
def support_doc() -> dict[str, Any]:
    return load_fixture("support_reply.json")
