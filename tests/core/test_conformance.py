from __future__ import annotations

from collections.abc import Callable

import pytest

from orchestrator_core.testing import FakeClock, InMemoryRunStore
from orchestrator_core.testing.conformance import ALL_CHECKS, Check


@pytest.mark.parametrize("check", ALL_CHECKS, ids=lambda c: c.__name__)
def test_in_memory_store_conforms(check: Check) -> None:
    store = InMemoryRunStore(FakeClock())
    create: Callable[..., str] = store.create_run
    check(store, create, store.expire_lease)
