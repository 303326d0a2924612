"""Per-caller token buckets: a caller over its rate gets 429 with Retry-After, and cannot slow
down anyone else (the check is O(1) and happens before any upstream work)."""

from __future__ import annotations

import math
import time
from collections import OrderedDict


class RateLimiter:
    def __init__(self, rate: float, burst: int, *, max_callers: int = 100_000) -> None:
        self.rate = rate
        self.burst = burst
        self.max_callers = max_callers
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()

    def take(self, caller: str, now: float | None = None) -> float:
        """0 if the request may go; else the seconds to wait before the next one may."""
        now = time.monotonic() if now is None else now
        tokens, last = self._buckets.get(caller, (float(self.burst), now))
        tokens = min(float(self.burst), tokens + (now - last) * self.rate)
        if tokens >= 1.0:
            self._buckets[caller] = (tokens - 1.0, now)
            self._buckets.move_to_end(caller)
            if len(self._buckets) > self.max_callers:
                self._buckets.popitem(last=False)
            return 0.0
        self._buckets[caller] = (tokens, now)
        return (1.0 - tokens) / self.rate

    @staticmethod
    def retry_after(wait: float) -> str:
        return str(max(1, math.ceil(wait)))
