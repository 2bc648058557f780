"""Test support: in-memory adapters, fakes, a RunStore conformance suite and an LLM stub server."""

from orchestrator_core.testing.fakes import FakeClock, FakeLLM, FakeMailer
from orchestrator_core.testing.memory_store import InMemoryRunStore

__all__ = ["FakeClock", "FakeLLM", "FakeMailer", "InMemoryRunStore"]
