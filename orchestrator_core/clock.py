"""The real clock (the runner takes a `Clock` port so tests can use `testing.FakeClock`)."""

from __future__ import annotations

import time
from datetime import UTC, datetime


class SystemClock:
    """Wall-clock time in UTC (aware) and a monotonic counter in seconds."""

    def now(self) -> datetime:
        return datetime.now(UTC)

    def monotonic(self) -> float:
        return time.monotonic()
